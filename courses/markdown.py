"""Lesson Markdown → HTML, run when a lesson is saved (never per request).

CommonMark plus tables, heading anchors and a table of contents. Raw HTML in the
source is escaped, not passed through. Fenced code blocks take a language and an
optional title (```` ```python title="Hello async world" ````) and are highlighted
by Pygments with CSS classes; an unknown language is shown as plain text.

What authors expect besides (docs/authors/writing-lessons.md shows each): callouts in three spellings
(``> [!TIP]``, ``!!! tip``, ``::: tip``), table columns aligned by class (the Content-Security-Policy
forbids the ``style`` attributes markdown-it writes), an image alone in its paragraph with a title as a
figure with a caption, keys as ``++Ctrl+C++``, and footnotes.

The accessible names written into the HTML (heading anchors, code blocks and tables
that scroll) are in the active language: the caller renders inside
``translation.override(<the content's language>)``, so they match the ``lang`` of the
container the HTML is shown in.
"""

import html
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_lazy
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify as heading_slug
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.footnote.index import render_footnote_anchor as _default_footnote_anchor
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


# Callout kinds and their titles; GitHub's CAUTION and the admonitions' DANGER are one kind.
CALLOUTS = {
    "note": gettext_lazy("Note"),
    "tip": gettext_lazy("Tip"),
    "important": gettext_lazy("Important"),
    "warning": gettext_lazy("Warning"),
    "danger": gettext_lazy("Danger"),
}
CALLOUT_ALIASES = {"caution": "danger"}


def callout_kind(name: str) -> str | None:
    """The callout an author's word names (any case), or None for a word that names none."""
    name = name.strip().lower()
    name = CALLOUT_ALIASES.get(name, name)
    return name if name in CALLOUTS else None


def _title_token(title: str) -> Token:
    return Token("html_block", "", 0, content=f'<p class="callout-title">{html.escape(title)}</p>\n')


def _callouts(state: StateCore) -> None:
    """Every spelling of a callout becomes one element: ``<div class="callout callout-tip" role="note">`` with
    its title (the kind's name in the lesson's language, or the author's own title)."""
    tokens = []
    skip_title = False
    for token in state.tokens:
        kind = None
        if token.type == "alert_open":
            kind = callout_kind(token.meta["kind"])
            skip_title = True
        elif token.type == "admonition_open":
            kind = callout_kind(token.meta["tag"])
            title = token.info.strip()[len(token.meta["tag"]) :].strip().strip("\"'")
            skip_title = True
        elif token.type.startswith("container_") and token.type.endswith("_open"):
            kind = callout_kind(token.info)
        if kind is not None:
            token.tag = "div"
            token.attrs = {"class": f"callout callout-{kind}", "role": "note"}
            tokens.append(token)
            own_title = title if token.type == "admonition_open" else ""
            tokens.append(_title_token(own_title or str(CALLOUTS[kind])))
            continue
        if skip_title and token.type in ("alert_title_open", "admonition_title_open"):
            continue
        if skip_title and token.type == "inline" and tokens and tokens[-1].type == "html_block":
            continue
        if skip_title and token.type in ("alert_title_close", "admonition_title_close"):
            skip_title = False
            continue
        if token.type in ("alert_close", "admonition_close"):
            token.tag = "div"
        tokens.append(token)
    state.tokens = tokens


def _aligned_cells(state: StateCore) -> None:
    """Table columns aligned by a class (``align-center``), not by the style attribute markdown-it writes."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and (style := token.attrGet("style")):
            token.attrs.pop("style")
            alignment = style.removeprefix("text-align:").strip()
            if alignment in ("left", "center", "right"):
                token.attrSet("class", f"align-{alignment}")


def _figures(state: StateCore) -> None:
    """An image alone in its paragraph, with a title, is a figure and the title its caption."""
    tokens = state.tokens
    for index in range(len(tokens) - 2):
        opening, inline, closing = tokens[index : index + 3]
        if not (opening.type == "paragraph_open" and inline.type == "inline" and closing.type == "paragraph_close"):
            continue
        children = [child for child in inline.children or [] if not (child.type == "text" and not child.content)]
        if len(children) != 1 or children[0].type != "image" or not (caption := children[0].attrGet("title")):
            continue
        children[0].attrs.pop("title")
        opening.tag = closing.tag = "figure"
        opening.attrSet("class", "lesson-figure")
        inline.children = [
            *children,
            Token("html_inline", "", 0, content=f"<figcaption>{html.escape(caption)}</figcaption>"),
        ]


_KEY = re.compile(r"[\w .,'/<>-]+")


def _keys(state: StateInline, silent: bool) -> bool:
    """``++Ctrl+Shift+P++``: keys to press, each in its own ``<kbd>``. Not after a letter (C++ stays C++)."""
    start = state.pos
    if not state.src.startswith("++", start) or (start and state.src[start - 1].isalnum()):
        return False
    end = state.src.find("++", start + 2)
    if end == -1:
        return False
    keys = state.src[start + 2 : end].split("+")
    if not all(key and key == key.strip() and _KEY.fullmatch(key) for key in keys):
        return False
    if not silent:
        token = state.push("keys", "kbd", 0)
        token.meta = {"keys": keys}
    state.pos = end + 2
    return True


def _render_container(renderer, tokens, index, options, env) -> str:
    # The plugin's own renderer adds the kind as a bare class; _callouts set the classes already.
    return renderer.renderToken(tokens, index, options, env)


def _render_footnote_backref(renderer, tokens, index, options, env) -> str:
    link = _default_footnote_anchor(renderer, tokens, index, options, env)
    name = html.escape(gettext("Back to the text"))
    return link.replace('class="footnote-backref"', f'class="footnote-backref" aria-label="{name}"', 1)


def _render_keys(renderer, tokens, index, options, env) -> str:
    keys = "+".join(f"<kbd>{html.escape(key)}</kbd>" for key in tokens[index].meta["keys"])
    return f'<kbd class="keys">{keys}</kbd>'


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.options["alerts"] = True  # > [!NOTE]
    parser.core.ruler.push("heading_ids", _heading_ids)  # runs before the anchors plugin, which keeps these ids
    parser.enable("table").enable("strikethrough")
    parser.use(admon_plugin)  # !!! note
    for kind in [*CALLOUTS, *CALLOUT_ALIASES]:  # ::: note
        parser.use(container_plugin, name=kind, render=_render_container)
    parser.use(footnote_plugin, inline=False)
    parser.inline.ruler.before("emphasis", "keys", _keys)
    anchors_plugin(parser, min_level=2, max_level=3)
    parser.core.ruler.push("heading_links", _add_heading_links)
    parser.core.ruler.push("callouts", _callouts)
    parser.core.ruler.push("aligned_cells", _aligned_cells)
    parser.core.ruler.push("figures", _figures)
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("code_block", _code_block)
    parser.add_render_rule("table_open", _table_open)
    parser.add_render_rule("table_close", _table_close)
    parser.add_render_rule("keys", _render_keys)
    parser.add_render_rule("footnote_anchor", _render_footnote_backref)
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


def parse(text: str) -> list[Token]:
    """The tokens ``text`` is rendered from (for checks of the source, such as courses.lint)."""
    return _parser.parse(text)


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
