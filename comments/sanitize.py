"""A comment's Markdown → safe HTML, once, when it is saved.

Learners write a small part of Markdown: emphasis, links, inline code, fenced code (highlighted
by Pygments like a lesson's code blocks), lists and quotes. Raw HTML they type is escaped and
shows as text; headings, images and tables are not rendered. The HTML that comes out is then
cleaned by nh3 (the Ammonia sanitizer) against an allowlist, so nothing outside it survives a
bug in the renderer: only http(s) and mailto links, each with rel="nofollow ugc noopener".
"""

import nh3
from markdown_it import MarkdownIt

from courses.markdown import render_code_block

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "code", "pre", "span", "a", "ul", "ol", "li", "blockquote",
    "figure", "figcaption", "div",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "ol": {"start"},
    "span": {"class"},
    "div": {"class"},
    "figure": {"class", "data-language"},
    "pre": {"tabindex", "role", "aria-label"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def _fence(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    env["code_blocks"] = env.get("code_blocks", 0) + 1
    # Only the language of the info string: a title is a lesson author's, not a commenter's.
    language = token.info.strip().split(" ")[0][:40]
    return render_code_block(token.content, language, env["code_blocks"])


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.disable(["heading", "lheading", "image", "hr", "html_block", "html_inline"])
    parser.enable("strikethrough")
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("code_block", _fence)  # indented code: its info string is empty
    return parser


_parser = _make_parser()


def render_comment(text: str) -> str:
    """Safe HTML for a comment's Markdown."""
    html = _parser.render(text, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )
