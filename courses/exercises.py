"""What makes an exercise's Python acceptable: its starter code parses, and its checks are checks.

Nothing here runs the code: the server only parses it (``ast.parse``). The checks run in the learner's
browser, by ``static/py/stream_checks.py``, which shows each top-level ``assert condition, "message"``
as one check named by its message; so every such assert needs a message that is a string literal, and
checks without an assert would check nothing. The lesson's ``clean()`` (the admin) and the importer
(with the front matter's names and the file's line numbers) both refuse with these messages.
"""

import ast
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def parse_python(source: str, *, filename: str) -> ast.Module:
    """The syntax tree of ``source``; a ``ValidationError`` that names the line of the first mistake."""
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        params = {"line": error.lineno or 1, "error": error.msg}
        raise ValidationError(
            _("Line %(line)s is not valid Python: %(error)s."), code="syntax", params=params
        ) from None
    except (ValueError, RecursionError, MemoryError):
        # A NUL character (ValueError), or brackets nested deeper than the parser goes.
        raise ValidationError(_("This is not Python that can be read."), code="unreadable") from None


def top_level_asserts(tree: ast.Module) -> list[ast.Assert]:
    return [node for node in tree.body if isinstance(node, ast.Assert)]


def validate_starter(source: str) -> None:
    parse_python(source, filename="<starter>")


def validate_solution(source: str) -> None:
    parse_python(source, filename="<solution>")


# A line holding only --- (spaces around it allowed) ends one hint and starts the next.
HINT_SEPARATOR = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)


def split_hints(text: str) -> list[str]:
    """An exercise's hints, in order: the Markdown between lines of ``---``, blank ones left out."""
    return [hint.strip() for hint in HINT_SEPARATOR.split(text) if hint.strip()]


def join_hints(hints: list[str]) -> str:
    """The text ``split_hints`` reads back as ``hints``: how the importer stores a front matter's list."""
    return "\n\n---\n\n".join(hint.strip() for hint in hints)


def validate_checks(source: str) -> None:
    """Refuse checks that do not parse, that hold no top-level assert, or an assert without a literal message."""
    asserts = top_level_asserts(parse_python(source, filename="<checks>"))
    if not asserts:
        raise ValidationError(
            _('Checks need at least one top-level assert, such as: assert add(2, 3) == 5, "add adds".'),
            code="no_assert",
        )
    for node in asserts:
        if isinstance(node.test, ast.Tuple) and node.test.elts and node.msg is None:
            # assert (condition, "message"): a tuple that is never empty, so the check always passes.
            raise ValidationError(
                _(
                    "Line %(line)s: this assert is always true, because its parentheses make one tuple of "
                    'the condition and the message. Write assert condition, "message".'
                ),
                code="tuple_assert",
                params={"line": node.lineno},
            )
        if not (isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str) and node.msg.value.strip()):
            raise ValidationError(
                _(
                    "Line %(line)s: give this assert a message in quotes, which the learner sees as the "
                    'check\'s name: assert condition, "message".'
                ),
                code="no_message",
                params={"line": node.lineno},
            )
