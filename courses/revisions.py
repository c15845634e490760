"""Revisions of a lesson's content: drafts of changes, publishing them, restoring, and the differences.

A published lesson never changes under its learners by an edit: the admin keeps the edit as the lesson's
*draft of changes* (a revision the row points at as ``draft``) until an author publishes it. A lesson that is
not published yet takes its edits at once. Either way every saved version is a ``LessonRevision``, numbered
within its lesson, and history is never rewritten: restoring an old revision writes a new one.
"""

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from courses.models import Lesson, LessonLink, LessonRevision, Status

# The fields a difference is shown for, in the order of the lesson form, with the names it uses.
DIFF_FIELDS = {name: Lesson._meta.get_field(name).verbose_name for name in Lesson.CONTENT_FIELDS} | {
    "links": _("external links")
}


def normal_text(value):
    """Text as it compares: LF line ends, no trailing blank lines (a browser sends a form's text with CRLF and
    without the final newline a file has). Anything but text as it is."""
    return value.replace("\r\n", "\n").rstrip() if isinstance(value, str) else value


def same_content(one: dict, other: dict) -> bool:
    """Whether two contents say the same, whatever their line endings and trailing blank lines."""
    keys = one.keys() | other.keys()
    return all(normal_text(one.get(key)) == normal_text(other.get(key)) for key in keys)


def latest_number(lesson: Lesson) -> int:
    """The number of the lesson's newest revision (0 before the first)."""
    return lesson.revisions.aggregate(latest=Max("number"))["latest"] or 0


def _write_links(lesson: Lesson, links: list[dict]) -> None:
    lesson.links.all().delete()
    LessonLink.objects.bulk_create(
        LessonLink(lesson=lesson, position=position, title=link["title"], url=link["url"])
        for position, link in enumerate(links)
    )


@transaction.atomic
def save_revision(
    *,
    lesson: Lesson,
    content: dict,
    author=None,
    origin: str = LessonRevision.Origin.ADMIN,
    message: str = "",
    restored_from: int | None = None,
    publish: bool,
) -> LessonRevision:
    """Record ``content`` as ``lesson``'s next revision, and either publish it or keep it as the draft of changes.

    Publishing makes the lesson's row (rendered at save) and its links that revision's content; a draft leaves
    what learners read alone. The lesson's row is locked first (``SELECT … FOR UPDATE``), so two saves of one
    lesson get numbers one after the other and the unique (lesson, number) constraint never trips.
    """
    Lesson.objects.select_for_update().filter(pk=lesson.pk).values_list("pk").get()
    revision = LessonRevision.objects.create(
        lesson=lesson,
        number=latest_number(lesson) + 1,
        content=content,
        author=author if author is not None and author.is_authenticated else None,
        origin=origin,
        message=message,
        restored_from=restored_from,
    )
    if publish:
        _make_live(lesson, revision)
    else:
        lesson.draft = revision
        lesson.save(update_fields={"draft"})
    return revision


def _make_live(lesson: Lesson, revision: LessonRevision) -> None:
    """Make the lesson's row and links ``revision``'s content (rendered only if the row holds other content)."""
    written = all(getattr(lesson, name) == revision.content.get(name) for name in Lesson.CONTENT_FIELDS)
    lesson.apply_content(revision.content)
    lesson.revision = revision
    lesson.draft = None
    lesson.save(update_fields={"revision", "draft"} if written else None)
    _write_links(lesson, revision.content.get("links", []))


@transaction.atomic
def publish_draft(*, lesson: Lesson) -> LessonRevision | None:
    """Make the lesson's draft of changes what learners read; returns it (None when there was no draft)."""
    lesson = Lesson.objects.select_for_update(of=("self",)).select_related("draft", "course").get(pk=lesson.pk)
    if lesson.draft is None:
        return None
    revision = lesson.draft
    _make_live(lesson, revision)
    return revision


@transaction.atomic
def discard_draft(*, lesson: Lesson) -> bool:
    """Forget the lesson's draft of changes (its revision stays in the history); whether there was one."""
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    if lesson.draft_id is None:
        return False
    lesson.draft = None
    lesson.save(update_fields={"draft"})
    return True


def restore_revision(*, revision: LessonRevision, author=None) -> LessonRevision:
    """Write ``revision``'s content as the lesson's newest revision: a draft of changes while the lesson is
    published, the lesson's text at once while it is not. The history is kept as it was."""
    lesson = revision.lesson
    return save_revision(
        lesson=lesson,
        content=revision.content,
        author=author,
        origin=LessonRevision.Origin.RESTORE,
        restored_from=revision.number,
        publish=lesson.status != Status.PUBLISHED,
    )


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed", or "gap" (unchanged lines left out)
    old_number: int | None
    new_number: int | None
    text: str


@dataclass
class FieldDiff:
    name: str
    label: str
    lines: list[DiffLine]


def _as_lines(name: str, value) -> list[str]:
    if name == "links":
        return [f"{link['title']} — {link['url']}" for link in value or []]
    if value is None:
        return []
    return str(value).splitlines()


def field_text(name: str, value) -> str:
    """A field of a revision as text to read (the links one a line)."""
    return "\n".join(_as_lines(name, value))


def diff(old: dict, new: dict, *, context: int = 3) -> list[FieldDiff]:
    """The fields that differ between two revisions' content, each as lines removed, added and around them.

    Compared as the text an author wrote (Markdown, code, links), line by line.
    """
    changes = []
    for name, label in DIFF_FIELDS.items():
        before, after = _as_lines(name, old.get(name)), _as_lines(name, new.get(name))
        if before == after:
            continue
        lines: list[DiffLine] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for number, group in enumerate(matcher.get_grouped_opcodes(context)):
            if number or group[0][1] > 0:
                lines.append(DiffLine("gap", None, None, ""))
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    lines += [DiffLine("same", i + 1, j1 + (i - i1) + 1, before[i]) for i in range(i1, i2)]
                    continue
                lines += [DiffLine("removed", i + 1, None, before[i]) for i in range(i1, i2)]
                lines += [DiffLine("added", None, j + 1, after[j]) for j in range(j1, j2)]
        changes.append(FieldDiff(name=name, label=label, lines=lines))
    return changes
