"""Lesson Markdown → HTML, run when a lesson is saved (never per request).

CommonMark plus tables, heading anchors and a table of contents. Raw HTML in the
source is escaped, not passed through. Fenced code blocks take a language and an
optional title (```` ```python title="Hello async world" ````) and are highlighted
by Pygments with CSS classes; an unknown language is shown as plain text.
"""

import html
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify as heading_slug
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

WORDS_PER_MINUTE = 200
_INFO_ATTRIBUTE = re.compile(r"""(\w+)=(?:"([^"]*)"|'([^']*)'|(\S+))""")
_formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)
    words: int = 0


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """Split a fence's info string into its language and its key="value" attributes."""
    language, _, rest = info.strip().partition(" ")
    attributes = {m[1]: m[2] or m[3] or m[4] for m in _INFO_ATTRIBUTE.finditer(rest)}
    return language.lower(), attributes


def render_code_block(code: str, info: str) -> str:
    language, attributes = parse_info(info)
    try:
        lexer = get_lexer_by_name(language) if language else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    label = language or "text"
    title = attributes.get("title", "")
    caption = (
        f'<span class="code-title">{html.escape(title)}</span>' if title else ""
    ) + f'<span class="code-language">{html.escape(label)}</span>'
    return (
        f'<figure class="code-block" data-language="{html.escape(label)}">'
        f"<figcaption>{caption}</figcaption>"
        f"{highlight(code, lexer, _formatter)}</figure>\n"
    )


def _fence(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    return render_code_block(token.content, token.info)


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.core.ruler.push("heading_ids", _heading_ids)  # runs before the anchors plugin, which keeps these ids
    parser.enable("table").enable("strikethrough")
    anchors_plugin(parser, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("code_block", lambda r, t, i, o, e: render_code_block(t[i].content, ""))
    return parser


def _heading_ids(state) -> None:
    """Give ## and ### headings the ids the anchors plugin would, in linear time.

    The plugin makes a repeated id unique by trying "x", "x-1", "x-2"… from the start for
    every repeat: quadratic, so a lesson of 32,000 "## Setup" headings took minutes to
    save. Here each id's next free suffix is remembered.
    """
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open" or token.tag not in ("h2", "h3"):
            continue
        inline = state.tokens[index + 1]
        base = heading_slug(
            "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline"))
        )
        slug = base
        if slug in taken:
            suffix = next_suffix.get(base, 1)
            while f"{base}-{suffix}" in taken:
                suffix += 1
            slug = f"{base}-{suffix}"
            next_suffix[base] = suffix + 1
        taken.add(slug)
        token.attrSet("id", slug)


_parser = _make_parser()


def render_markdown(text: str) -> Rendered:
    tokens = _parser.parse(text)
    toc = []
    words = 0
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            inline = tokens[index + 1]
            toc.append(
                {
                    "level": int(token.tag[1]),
                    "id": token.attrGet("id"),
                    "title": "".join(
                        child.content for child in inline.children or [] if child.type in ("text", "code_inline")
                    ).strip(),
                }
            )
        if token.type in ("inline", "fence", "code_block"):
            words += len(token.content.split())
    return Rendered(html=_parser.renderer.render(tokens, _parser.options, {}), toc=toc, words=words)


def reading_minutes(words: int) -> int:
    return max(1, round(words / WORDS_PER_MINUTE))
