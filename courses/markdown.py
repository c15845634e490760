"""Lesson Markdown → HTML, run when a lesson is saved (never per request).

CommonMark plus tables, heading anchors and a table of contents. Raw HTML in the
source is escaped, not passed through. Fenced code blocks take a language and an
optional title (```` ```python title="Hello async world" ````) and are highlighted
by Pygments with CSS classes; an unknown language is shown as plain text.

The accessible names written into the HTML (heading anchors, code blocks and tables
that scroll) are in the active language: the caller renders inside
``translation.override(<the content's language>)``, so they match the ``lang`` of the
container the HTML is shown in.
"""

import html
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify as heading_slug
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

_INFO_ATTRIBUTE = re.compile(r"""(\w+)=(?:"([^"]*)"|'([^']*)'|(\S+))""")
_formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)

# The widest code line, in monospace columns, that fits a code block without scrolling
# on a 320 px screen (the narrowest we support, WCAG 1.4.10). With the default 16 px
# font, site.css leaves 251 px of a code block at 320 px for 14 px glyphs ≈ 8.5 px wide:
# 29 columns. A reader who sets a 20 px default font gets 22, so wider blocks are
# made keyboard-scrollable; a spare tab stop on a block that happens to fit costs little.
CODE_COLUMNS_THAT_ALWAYS_FIT = 22
TAB_SIZE = 4  # as `tab-size` in site.css

# Reading rates per minute, each a published mean for adult readers:
# - English (and other space-separated scripts): 238 words, the silent reading rate of
#   non-fiction (Brysbaert 2019, "How many words do we read per minute?", J. Mem. Lang. 109).
# - Korean: 588 Hangul syllables. Song, Kim & Hyung 2016 (J. Korean Ophthalmol. Soc.
#   57(4):642-649) measured silent reading at 202.3 words (eojeol) a minute on sentences
#   of 18.9 syllables in 6.5 words on average: 202.3 * 18.9 / 6.5 ≈ 588.
# - Chinese characters and Japanese kana: 260 characters (Wang, Lin & Guo 2019, Brain
#   Behav. 9:e01216: 259.5 Chinese characters a minute). Trauzettel-Klosinski & Dietz
#   2012 (IReST, Invest. Ophthalmol. Vis. Sci. 53:5452) report speeds in characters as
#   well as words a minute, as the fitting unit depends on the writing system. We found
#   no silent-reading norm per kana, so kana take the Chinese rate (an overestimate).
# - Code: 500 lines an hour, the rate at which a reviewer prepares to review application
#   code (Humphrey 1989, Managing the Software Process, as cited in McConnell,
#   Code Complete, 2nd ed.): code is read slower than prose, line by line.
WORDS_PER_MINUTE = 238
HANGUL_PER_MINUTE = 588
HAN_AND_KANA_PER_MINUTE = 260
CODE_LINES_PER_MINUTE = 500 / 60

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
_HAN_AND_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


@dataclass(frozen=True)
class TextAmount:
    """How much there is to read, counted in each script's own unit."""

    words: int = 0
    hangul: int = 0
    han_and_kana: int = 0
    code_lines: int = 0

    def __add__(self, other: "TextAmount") -> "TextAmount":
        return TextAmount(
            words=self.words + other.words,
            hangul=self.hangul + other.hangul,
            han_and_kana=self.han_and_kana + other.han_and_kana,
            code_lines=self.code_lines + other.code_lines,
        )


def measure_prose(text: str) -> TextAmount:
    """Hangul, Chinese characters and kana by the character; everything else by the word."""
    hangul = len(_HANGUL.findall(text))
    han_and_kana = len(_HAN_AND_KANA.findall(text))
    rest = _HAN_AND_KANA.sub(" ", _HANGUL.sub(" ", text))
    words = sum(1 for word in rest.split() if any(character.isalnum() for character in word))
    return TextAmount(words=words, hangul=hangul, han_and_kana=han_and_kana)


def measure_code(code: str) -> TextAmount:
    return TextAmount(code_lines=sum(1 for line in code.splitlines() if line.strip()))


def reading_minutes(amount: TextAmount) -> int:
    minutes = (
        amount.words / WORDS_PER_MINUTE
        + amount.hangul / HANGUL_PER_MINUTE
        + amount.han_and_kana / HAN_AND_KANA_PER_MINUTE
        + amount.code_lines / CODE_LINES_PER_MINUTE
    )
    return max(1, round(minutes))


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)
    amount: TextAmount = field(default_factory=TextAmount)


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """Split a fence's info string into its language and its key="value" attributes."""
    language, _, rest = info.strip().partition(" ")
    attributes = {m[1]: m[2] or m[3] or m[4] for m in _INFO_ATTRIBUTE.finditer(rest)}
    return language.lower(), attributes


def code_columns(code: str) -> int:
    """The width of the widest line in monospace columns (wide East Asian characters take two)."""
    widest = 0
    for line in code.expandtabs(TAB_SIZE).splitlines():
        width = sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in line)
        widest = max(widest, width)
    return widest


def render_code_block(code: str, info: str, number: int = 1) -> str:
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
    highlighted = highlight(code, lexer, _formatter)
    if code_columns(code) > CODE_COLUMNS_THAT_ALWAYS_FIT:
        # A block that scrolls sideways must be reachable by keyboard (WCAG 2.1.1), and a
        # focusable region needs a name that tells it from the others (titles may repeat).
        if title:
            name = gettext("Code %(number)s: %(title)s (%(language)s)")
        else:
            name = gettext("Code %(number)s (%(language)s)")
        name %= {"number": number, "title": title, "language": label}
        highlighted = highlighted.replace(
            "<pre>", f'<pre tabindex="0" role="region" aria-label="{html.escape(name)}">', 1
        )
    return (
        f'<figure class="code-block" data-language="{html.escape(label)}">'
        f"<figcaption>{caption}</figcaption>"
        f"{highlighted}</figure>\n"
    )


def _next_number(env: dict, kind: str) -> int:
    env[kind] = env.get(kind, 0) + 1
    return env[kind]


def _fence(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    return render_code_block(token.content, token.info, _next_number(env, "code_blocks"))


def _code_block(renderer, tokens, index, options, env) -> str:
    return render_code_block(tokens[index].content, "", _next_number(env, "code_blocks"))


def _table_open(renderer, tokens, index, options, env) -> str:
    # A wide table scrolls inside this box instead of widening the page; whether it will
    # is only known in the browser, so the box is always focusable and named.
    name = gettext("Table %(number)s") % {"number": _next_number(env, "tables")}
    return (
        f'<div class="table-scroll" tabindex="0" role="region" aria-label="{html.escape(name)}">'
        + renderer.renderToken(tokens, index, options, env)
    )


def _table_close(renderer, tokens, index, options, env) -> str:
    return renderer.renderToken(tokens, index, options, env) + "</div>\n"


def _heading_title(inline) -> str:
    return "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline")).strip()


def _add_heading_links(state: StateCore) -> None:
    """After each anchored heading, a "#" link to it, named after its section.

    The link sits beside the heading, not inside it, so the heading's own accessible
    name stays its text (a link inside would be read as part of every heading).
    """
    tokens = []
    for index, token in enumerate(state.tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            tokens.append(Token("html_block", "", 0, content='<div class="heading">'))
        tokens.append(token)
        # A heading is heading_open, inline, heading_close; the anchors plugin set the id.
        if token.type == "heading_close" and (heading_id := state.tokens[index - 2].attrGet("id")):
            name = gettext("Link to the section “%(heading)s”") % {"heading": _heading_title(state.tokens[index - 1])}
            link = f'<a class="header-anchor" href="#{html.escape(heading_id)}" aria-label="{html.escape(name)}">#</a>'
            tokens.append(Token("html_block", "", 0, content=f"{link}</div>\n"))
    state.tokens = tokens


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.core.ruler.push("heading_ids", _heading_ids)  # runs before the anchors plugin, which keeps these ids
    parser.enable("table").enable("strikethrough")
    anchors_plugin(parser, min_level=2, max_level=3)
    parser.core.ruler.push("heading_links", _add_heading_links)
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("code_block", _code_block)
    parser.add_render_rule("table_open", _table_open)
    parser.add_render_rule("table_close", _table_close)
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


@dataclass
class PlainText:
    """What a search finds in Markdown: its words in reading order, its headings and its code blocks' titles."""

    text: str = ""
    headings: list[str] = field(default_factory=list)
    code_titles: list[str] = field(default_factory=list)


def plain_text(text: str) -> PlainText:
    """The prose and code of ``text`` without markup, one paragraph, heading or code block a line."""
    found = PlainText()
    lines = []
    tokens = _parser.parse(text)
    for index, token in enumerate(tokens):
        if token.type == "inline":
            pieces = (
                child.content if child.type in ("text", "code_inline") else " "
                for child in token.children or []
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )
            line = " ".join("".join(pieces).split())
            lines.append(line)
            if tokens[index - 1].type == "heading_open":
                found.headings.append(line)
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.strip())
            if title := parse_info(token.info)[1].get("title", "").strip():
                found.code_titles.append(title)
    found.text = "\n".join(line for line in lines if line)
    return found


def render_markdown(text: str) -> Rendered:
    tokens = _parser.parse(text)
    toc = []
    amount = TextAmount()
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            toc.append(
                {"level": int(token.tag[1]), "id": token.attrGet("id"), "title": _heading_title(tokens[index + 1])}
            )
        if token.type == "inline":
            prose = " ".join(child.content for child in token.children or [] if child.type in ("text", "code_inline"))
            amount += measure_prose(prose)
        elif token.type in ("fence", "code_block"):
            amount += measure_code(token.content)
    return Rendered(html=_parser.renderer.render(tokens, _parser.options, {}), toc=toc, amount=amount)
