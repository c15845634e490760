"""A comment's Markdown → safe HTML, once, when it is saved.

Learners write a small part of Markdown: emphasis, links, inline code, fenced code (highlighted
by Pygments like a lesson's code blocks), lists and quotes. Raw HTML they type is escaped and
shows as text; headings, images and tables are not rendered. Links go only to http(s) and
mailto addresses: any other link stays the text it was typed as. The HTML that comes out is then
cleaned by nh3 (the Ammonia sanitizer) against an allowlist of tags, attributes, attribute values
and classes, so nothing outside it survives a bug in the renderer; every link gets
rel="nofollow ugc noopener".
"""

import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from pygments.token import STANDARD_TYPES

from courses.markdown import render_code_block

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "code", "pre", "span", "a", "ul", "ol", "li", "blockquote",
    "figure", "figcaption", "div",
}  # fmt: skip
# No attribute is allowed on every tag (nh3 would otherwise keep "lang" and "title" anywhere).
ALLOWED_ATTRIBUTES = {
    "*": set(),
    "a": {"href", "title"},
    "ol": {"start"},
    "figure": {"data-language"},
    "pre": {"aria-label"},
}
# Attributes of a code block that may only have these values.
ALLOWED_ATTRIBUTE_VALUES = {"pre": {"tabindex": {"0"}, "role": {"region"}}}
# The classes the renderer writes: a code block's frame and Pygments' token classes.
ALLOWED_CLASSES = {
    "figure": {"code-block"},
    "span": {"code-title", "code-language", *filter(None, STANDARD_TYPES.values())},
    "div": {"highlight"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
# A fence's language names a Pygments lexer ("python", "c++", "objective-c", "c#"); anything else is plain text.
LANGUAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+#.-]{0,39}")


def is_allowed_link(url: str) -> bool:
    """An absolute http(s) address with a host, or a mailto: one (``url`` as markdown-it normalized it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return bool(parts.path)
    return scheme in {"http", "https"} and bool(parts.hostname)


def _fence(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    env["code_blocks"] = env.get("code_blocks", 0) + 1
    # Only the language of the info string: a title is a lesson author's, not a commenter's.
    words = token.info.split()
    language = words[0] if words and LANGUAGE.fullmatch(words[0]) else ""
    return render_code_block(token.content, language, env["code_blocks"])


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.disable(["heading", "lheading", "image", "hr", "html_block", "html_inline"])
    parser.enable("strikethrough")
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("code_block", _fence)  # indented code: its info string is empty
    # Links, autolinks and link reference definitions: markdown-it's own check lets relative
    # addresses and some data: URLs through; ours keeps a link only where nh3 would keep it.
    parser.validateLink = is_allowed_link
    return parser


_parser = _make_parser()


def render_comment(text: str) -> str:
    """Safe HTML for a comment's Markdown."""
    html = _parser.render(text, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_SCHEMES,
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )
