"""Revisions of a lesson's content: drafts of changes, publishing them, restoring, and the differences.

A published lesson never changes under its learners by an edit: the admin keeps the edit as the lesson's
*draft of changes* (a revision the row points at as ``draft``) until an author publishes it. A lesson that is
not published yet takes its edits at once. Either way every saved version is a ``LessonRevision``, numbered
within its lesson, and history is never rewritten: restoring an old revision writes a new one.

A draft of changes may be scheduled (``schedule_draft``): the worker publishes it at that time
(the task ``publish_scheduled_draft`` below, which calls ``publish_due_draft``), with no one present. The schedule
belongs to the draft: saving the draft again keeps it, publishing or discarding the draft ends it.
"""

import difflib
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.models import Lesson, LessonLink, LessonRevision, Status

logger = logging.getLogger(__name__)

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


# What a draft's schedule is kept in (Lesson.draft_publish_at and who set it), cleared together.
SCHEDULE_FIELDS = ("draft_publish_at", "draft_scheduled_by")


def _unschedule(lesson: Lesson) -> None:
    lesson.draft_publish_at = None
    lesson.draft_scheduled_by = None


def _make_live(lesson: Lesson, revision: LessonRevision) -> None:
    """Make the lesson's row and links ``revision``'s content (rendered only if the row holds other content).

    The draft of changes, if there was one, is replaced or published: its schedule ends with it.
    """
    written = all(getattr(lesson, name) == revision.content.get(name) for name in Lesson.CONTENT_FIELDS)
    lesson.apply_content(revision.content)
    lesson.revision = revision
    lesson.draft = None
    _unschedule(lesson)
    lesson.save(update_fields={"revision", "draft", *SCHEDULE_FIELDS} if written else None)
    _write_links(lesson, revision.content.get("links", []))


@transaction.atomic
def publish_draft(*, lesson: Lesson) -> LessonRevision | None:
    """Make the lesson's draft of changes what learners read, ending its schedule; returns it (None when there
    was no draft). Every publish of a draft goes through here (the admin's button and bulk action, the schedule)."""
    lesson = Lesson.objects.select_for_update(of=("self",)).select_related("draft", "course").get(pk=lesson.pk)
    if lesson.draft is None:
        return None
    revision = lesson.draft
    _make_live(lesson, revision)
    return revision


@transaction.atomic
def discard_draft(*, lesson: Lesson) -> bool:
    """Forget the lesson's draft of changes and its schedule (its revision stays in the history); whether there
    was one."""
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    if lesson.draft_id is None:
        return False
    lesson.draft = None
    _unschedule(lesson)
    lesson.save(update_fields={"draft", *SCHEDULE_FIELDS})
    return True


def check_publish_time(at: datetime) -> None:
    """Refuse a time to publish at that is not to come (a ValidationError for the form that asked)."""
    if at <= timezone.now():
        raise ValidationError(
            _("This time has passed. Choose a time to come, or publish the changes now."), code="past"
        )


@transaction.atomic
def schedule_draft(*, lesson: Lesson, at: datetime, by=None) -> LessonRevision:
    """Have the lesson's draft of changes published at ``at`` (a time to come), by the worker; returns the draft.

    Setting a new time replaces the old one. A task is queued for each time set, once the transaction commits;
    the task of a time that was moved finds the draft not due (or published, or discarded) and does nothing
    (``publish_due_draft``). The row is locked (``SELECT … FOR UPDATE``), so a publish or discard meanwhile is
    seen: a lesson without a draft has nothing to schedule.
    """
    check_publish_time(at)
    lesson = Lesson.objects.select_for_update(of=("self",)).select_related("draft").get(pk=lesson.pk)
    if lesson.draft is None:
        raise ValidationError(
            _("This lesson has no draft of changes to schedule. Save your changes first."), code="no_draft"
        )
    lesson.draft_publish_at = at
    lesson.draft_scheduled_by = by if by is not None and by.is_authenticated else None
    lesson.save(update_fields=set(SCHEDULE_FIELDS))
    transaction.on_commit(partial(publish_scheduled_draft.using(run_after=at).enqueue, lesson_id=lesson.pk))
    return lesson.draft


@transaction.atomic
def unschedule_draft(*, lesson: Lesson) -> bool:
    """Keep the lesson's draft of changes unpublished until someone publishes it; whether it was scheduled.

    Its queued task then finds nothing due and does nothing.
    """
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    if lesson.draft_publish_at is None:
        return False
    _unschedule(lesson)
    lesson.save(update_fields=set(SCHEDULE_FIELDS))
    return True


@transaction.atomic
def publish_due_draft(*, lesson_id: int) -> LessonRevision | None:
    """Publish the lesson's draft of changes if it is scheduled for now or earlier; returns it, else None.

    Idempotent: under the row's lock (``SELECT … FOR UPDATE``) a draft is published only while its schedule
    says it is due, and publishing ends the schedule. So a second run, a run for a time that was since moved
    later or cancelled, or a run after the draft was published or discarded does nothing. Published through
    ``publish_draft``, as the admin's "Publish changes" does (the same save, so the same pages made stale), and
    recorded in the admin's history as the act of whoever scheduled it.
    """
    lesson = Lesson.objects.select_for_update(of=("self",)).filter(pk=lesson_id).first()
    if lesson is None or lesson.draft_publish_at is None or lesson.draft_publish_at > timezone.now():
        return None
    scheduled_by = lesson.draft_scheduled_by_id
    revision = publish_draft(lesson=lesson)
    if revision is None:
        return None
    message = gettext("Published the draft of changes (revision %(number)d) as scheduled.") % {
        "number": revision.number
    }
    if scheduled_by is None:  # the account that scheduled it was deleted: the history needs a user
        logger.info("Lesson %s: %s", lesson.pk, message)
    else:
        LogEntry.objects.log_actions(
            user_id=scheduled_by, queryset=[lesson], action_flag=CHANGE, change_message=message, single_object=True
        )
    return revision


def due_drafts() -> list[int]:
    """The ids of the lessons whose draft of changes is scheduled for now or earlier."""
    return list(
        Lesson.objects.with_scheduled_changes()
        .filter(draft_publish_at__lte=timezone.now())
        .order_by("draft_publish_at")
        .values_list("pk", flat=True)
    )


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


@task()
def publish_scheduled_draft(*, lesson_id: int) -> None:
    """The worker's task queued by ``schedule_draft`` to run at that time. Checked when it runs, not when it was
    queued: a schedule moved later or cancelled, or a draft published or discarded meanwhile, leaves nothing."""
    publish_due_draft(lesson_id=lesson_id)
