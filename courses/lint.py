"""Problems in a lesson's Markdown that an author should hear of, by line, before learners meet them.

Errors (a code block never closed, an image the site cannot show, an unknown callout) stop the admin's save
and the import; warnings (a skipped heading level, a link to no lesson) are shown and allowed. Messages are
in the active language: the staff member's in the admin, English in the importer.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from courses.markdown import CALLOUT_ALIASES, CALLOUTS, callout_kind, parse

_ALERT = re.compile(r"^\[!(\w+)\]")
_CONTAINER = re.compile(r"^:::\s*(\w+)")
_LESSON_PATH = re.compile(r"^/courses/([^/]+)/([^/]+)/?$")
# A link or image markdown-it refused for its address (it stays text): javascript:, data: and the like.
_REFUSED_ADDRESS = re.compile(r"\]\(\s*<?\s*(javascript|vbscript|data|file)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based, in the text that was checked
    message: str
    error: bool

    def __str__(self) -> str:
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


def _kinds() -> str:
    return ", ".join([*CALLOUTS, *CALLOUT_ALIASES])


def _closes(line: str, markup: str) -> bool:
    line = line.lstrip(" \t>")
    fence = markup[0]
    stripped = line.rstrip()
    return len(stripped) >= len(markup) and set(stripped) == {fence}


def _inline_lines(inline, start: int):
    """Each child of an inline token with the line it is on."""
    line = start
    for child in inline.children or []:
        yield child, line
        if child.type in ("softbreak", "hardbreak"):
            line += 1


def lint(text: str, *, lesson_exists: Callable[[str, str], bool] | None = None) -> list[Problem]:
    """The problems of ``text`` (lesson Markdown), in the order of its lines.

    ``lesson_exists(course_slug, lesson_slug)`` tells whether a link to /courses/<course>/<lesson>/ leads
    somewhere; without it such links are not checked.
    """
    problems: list[Problem] = []
    lines = text.splitlines()
    tokens = parse(text)
    heading_level = 1  # the lesson's title is the page's level-1 heading
    for index, token in enumerate(tokens):
        start = token.map[0] + 1 if token.map else 0
        if token.type == "fence" and token.map:
            end = token.map[1]
            if end - 1 <= token.map[0] or not _closes(lines[end - 1], token.markup):
                problems.append(
                    Problem(
                        start,
                        _(
                            "This code block is never closed with %(fence)s: everything after it would be shown "
                            "as code."
                        )
                        % {"fence": token.markup},
                        error=True,
                    )
                )
        elif token.type == "heading_open":
            level = int(token.tag[1])
            if level == 1:
                problems.append(
                    Problem(
                        start,
                        _("The lesson's title is the page's only level-1 heading: start sections with ##."),
                        error=False,
                    )
                )
            elif level > heading_level + 1:
                problems.append(
                    Problem(
                        start,
                        _("This heading jumps from level %(before)d to level %(after)d; use level %(next)d.")
                        % {"before": heading_level, "after": level, "next": heading_level + 1},
                        error=False,
                    )
                )
            heading_level = level
        elif token.type == "admonition_open" and callout_kind(token.meta["tag"]) is None:
            problems.append(_unknown_callout(start, token.meta["tag"]))
        elif token.type == "inline":
            previous = tokens[index - 1] if index else None
            if (
                previous is not None
                and previous.type == "paragraph_open"
                and index >= 2
                and tokens[index - 2].type == "blockquote_open"
                and (alert := _ALERT.match(token.content))
            ):
                problems.append(_unknown_callout(start, alert[1]))
            elif (
                previous is not None and previous.type == "paragraph_open" and (box := _CONTAINER.match(token.content))
            ):
                problems.append(_unknown_callout(start, box[1]))
            problems += _inline_problems(token, start, lesson_exists)
    return sorted(problems, key=lambda problem: problem.line)


def _unknown_callout(line: int, name: str) -> Problem:
    return Problem(
        line,
        _("“%(name)s” is not a kind of callout; use one of %(kinds)s.") % {"name": name, "kinds": _kinds()},
        error=True,
    )


def _inline_problems(inline, start: int, lesson_exists) -> list[Problem]:
    problems = []
    for child, line in _inline_lines(inline, start):
        if child.type == "text" and (refused := _REFUSED_ADDRESS.search(child.content)):
            problems.append(
                Problem(
                    line,
                    _("A %(scheme)s: address is not allowed in a lesson; it would be shown as text, not a link.")
                    % {"scheme": refused[1].lower()},
                    error=True,
                )
            )
        if child.type == "image":
            source = child.attrGet("src") or ""
            parts = urlsplit(source)
            # The site's own images, and uploads in an object store of its own (MEDIA_URL; web/media.py).
            ours = source.startswith("/") or source.startswith(settings.MEDIA_URL) or source.startswith("data:image/")
            if ".." in unquote(parts.path).split("/") or not ours or (source.startswith("/") and parts.netloc):
                problems.append(
                    Problem(
                        line,
                        _(
                            "The image %(source)s is not on this site, so browsers will not show it (the site's "
                            "security policy allows its own images only). Upload it and use its address here."
                        )
                        % {"source": source[:100]},
                        error=True,
                    )
                )
            if not child.content.strip():
                problems.append(
                    Problem(
                        line,
                        _("The image %(source)s has no alt text: write what it shows between the brackets, ![…].")
                        % {"source": source[:100]},
                        error=True,
                    )
                )
        elif child.type == "link_open" and lesson_exists is not None:
            parts = urlsplit(child.attrGet("href") or "")
            found = _LESSON_PATH.match(unquote(parts.path)) if not (parts.scheme or parts.netloc) else None
            if found and not lesson_exists(found[1], found[2]):
                problems.append(
                    Problem(
                        line,
                        _("The link to %(path)s leads to no lesson.") % {"path": parts.path},
                        error=False,
                    )
                )
    return problems
