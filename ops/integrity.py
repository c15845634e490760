"""Checks that the data still keeps the rules the services promise, for an operator and the load test.

``manage.py check_integrity`` runs them all. Each check reads the tables as they are (grouping rows
itself rather than trusting that a constraint exists) and says how much it looked at and, when it
fails, which learner, lesson or comment breaks the rule.

It lives in ``config`` because it reads the tables of several apps, which know nothing of each other's rules.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from comments.models import Comment, Follow, Notification
from courses.models import Lesson
from progress.models import Completion, ExerciseCompletion, LearnerProgress, Unlock, XPEntry

# How many offending rows a failed check names; the count says how many there are in all.
SHOWN = 10
# A follow written this shortly before a comment may still have been uncommitted when that comment's
# transaction read the lesson's followers (READ COMMITTED), so it is not counted as owed a notification.
FOLLOW_GRACE = timedelta(seconds=10)


@dataclass
class Result:
    name: str
    checked: int
    unit: str
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def passed(self) -> bool:
        return self.problem_count == 0

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        text = f"{status} {self.name}: {self.checked} {self.unit}"
        if not self.passed:
            text += f", {self.problem_count} wrong: " + "; ".join(self.problems)
            if self.problem_count > len(self.problems):
                text += f"; and {self.problem_count - len(self.problems)} more"
        return text


def _learner(learner_id: int | None, names: dict[int, str]) -> str:
    return names.get(learner_id, f"learner #{learner_id}") if learner_id else "a deleted learner"


def _names(learner_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {learner_id for learner_id in learner_ids if learner_id}
    return {pk: f"{email} (#{pk})" for pk, email in User.objects.filter(pk__in=ids).values_list("pk", "email")}


def _lessons(lesson_ids: Iterable[int]) -> dict[int, str]:
    rows = Lesson.objects.filter(pk__in=set(lesson_ids)).values_list("pk", "course__slug", "slug")
    return {pk: f"lesson {course}/{slug} (#{pk})" for pk, course, slug in rows}


def xp_totals_match_ledger() -> Result:
    """Every learner's kept total (``LearnerProgress.xp``) is the sum of their ledger, and no ledger lacks a total."""
    ledger_sum = (
        XPEntry.objects.filter(learner_id=OuterRef("learner_id"))
        .order_by()
        .values("learner_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    totals = LearnerProgress.objects.annotate(
        ledger=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), Value(0))
    )
    wrong = list(totals.exclude(xp=F("ledger")).order_by("learner_id").values_list("learner_id", "xp", "ledger"))
    orphans = list(
        XPEntry.objects.filter(learner__progress__isnull=True)
        .order_by("learner_id")
        .values("learner_id")
        .annotate(total=Sum("amount"))
        .values_list("learner_id", "total")
    )
    names = _names([row[0] for row in wrong[:SHOWN]] + [row[0] for row in orphans[:SHOWN]])
    problems = [f"{_learner(pk, names)} has {xp} XP, ledger sums to {ledger}" for pk, xp, ledger in wrong]
    problems += [f"{_learner(pk, names)} has no total, ledger sums to {total}" for pk, total in orphans]
    return Result(
        "XP totals equal the ledger",
        totals.count(),
        "learners",
        problems[:SHOWN],
        len(problems),
    )


def _duplicates(rows: QuerySet, *fields: str) -> list[dict]:
    """The groups of ``rows`` that share ``fields`` and hold more than one row, with their ``rows`` count."""
    groups = rows.order_by().values(*fields).annotate(rows=Count("pk")).filter(rows__gt=1)
    return list(groups.order_by(*fields))


def ledger_once_per_source() -> Result:
    """A source (a lesson, an exercise, an achievement, an adjustment) pays a learner once: one ledger row for each."""
    groups = _duplicates(XPEntry.objects.all(), "learner_id", "source")
    names = _names(group["learner_id"] for group in groups[:SHOWN])
    problems = [
        f"{_learner(g['learner_id'], names)} was paid for {g['source']} {g['rows']} times" for g in groups[:SHOWN]
    ]
    return Result("one award per learner and source", XPEntry.objects.count(), "ledger rows", problems, len(groups))


def _once_per_learner_and_lesson(model, *, did: str, name: str, unit: str) -> Result:
    """At most one row of ``model`` (a completion, a passed exercise) per learner and lesson."""
    groups = _duplicates(model.objects.all(), "learner_id", "lesson_id")
    names = _names(group["learner_id"] for group in groups[:SHOWN])
    lessons = _lessons(group["lesson_id"] for group in groups[:SHOWN])
    problems = [
        f"{_learner(g['learner_id'], names)} {did % lessons.get(g['lesson_id'])} {g['rows']} times"
        for g in groups[:SHOWN]
    ]
    return Result(name, model.objects.count(), unit, problems, len(groups))


def completions_once_per_lesson() -> Result:
    return _once_per_learner_and_lesson(
        Completion, did="completed %s", name="one completion per learner and lesson", unit="completions"
    )


def exercises_once_per_lesson() -> Result:
    return _once_per_learner_and_lesson(
        ExerciseCompletion,
        did="passed the exercise of %s",
        name="one passed exercise per learner and lesson",
        unit="passed exercises",
    )


def unlocks_once_per_achievement() -> Result:
    groups = _duplicates(Unlock.objects.all(), "learner_id", "achievement__code")
    names = _names(group["learner_id"] for group in groups[:SHOWN])
    problems = [
        f"{_learner(g['learner_id'], names)} unlocked {g['achievement__code']} {g['rows']} times"
        for g in groups[:SHOWN]
    ]
    return Result("one unlock per learner and achievement", Unlock.objects.count(), "unlocks", problems, len(groups))


def notifications_once_per_comment() -> Result:
    groups = _duplicates(Notification.objects.filter(comment__isnull=False), "recipient_id", "comment_id")
    names = _names(group["recipient_id"] for group in groups[:SHOWN])
    problems = [
        f"{_learner(g['recipient_id'], names)} was notified of comment #{g['comment_id']} {g['rows']} times"
        for g in groups[:SHOWN]
    ]
    checked = Notification.objects.filter(comment__isnull=False).count()
    return Result("one notification per learner and comment", checked, "notifications", problems, len(groups))


def read_markers(path: Path) -> tuple[list[str], list[str]]:
    """The markers a load test posted: one a line; a line ending in `` ?`` is a post whose answer never came."""
    sure, unsure = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        marker = line.strip()
        if marker.endswith(" ?"):
            unsure.append(marker[:-2].strip())
        elif marker:
            sure.append(marker)
    return sure, unsure


def comments_stored_once(*, sure: list[str], unsure: list[str] = ()) -> Result:
    """Each comment the site said it saved is stored exactly once; one whose answer was lost, at most once."""
    problems = []
    for marker in sure:
        count = Comment.objects.filter(body__contains=marker).count()
        if count != 1:
            problems.append(f"{marker} stored {count} times")
    for marker in unsure:
        count = Comment.objects.filter(body__contains=marker).count()
        if count > 1:
            problems.append(f"{marker} (answer lost) stored {count} times")
    unit = "comments posted" + (f" ({len(unsure)} of them without an answer)" if unsure else "")
    return Result("each posted comment stored once", len(sure) + len(unsure), unit, problems[:SHOWN], len(problems))


def _missing_notifications(sql: str, params: list) -> tuple[int, list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) AS due", params)
        (due,) = cursor.fetchone()
        missing = f"SELECT * FROM ({sql}) AS due WHERE NOT due.notified ORDER BY comment_id, recipient_id"
        cursor.execute(missing, params)
        return due, cursor.fetchall()


def notifications_due_exist(*, follow_grace: timedelta = FOLLOW_GRACE) -> Result:
    """Each notification ``comments.services.post_comment`` promises exists, derived from the comments and follows.

    Owed, for each comment that is neither hidden nor deleted (hiding and deleting take its notifications away):
    its parent's author, unless that is the comment's own author; and every learner who followed the lesson
    (``follow_grace`` before the comment, see ``FOLLOW_GRACE``), except the comment's author. Whether the learner
    is barred from commenting or gets e-mail does not matter: the bell is told all the same.

    A comment that a moderator hid and then restored keeps no trace of having been hidden but has lost its
    notifications for good (``restore_comments``): this check names it as missing them.
    """
    comment = Comment._meta.db_table
    follow = Follow._meta.db_table
    notification = Notification._meta.db_table
    notified = f"EXISTS (SELECT 1 FROM {notification} n WHERE n.comment_id = c.id AND n.recipient_id = {{who}})"
    owed = f"""
        SELECT c.id AS comment_id, c.lesson_id, p.author_id AS recipient_id, 'reply to their comment' AS why,
               {notified.format(who="p.author_id")} AS notified
        FROM {comment} c JOIN {comment} p ON p.id = c.parent_id
        WHERE c.hidden_at IS NULL AND c.deleted_at IS NULL
          AND p.author_id IS NOT NULL AND p.author_id IS DISTINCT FROM c.author_id
        UNION
        SELECT c.id, c.lesson_id, f.learner_id, 'follows the lesson', {notified.format(who="f.learner_id")}
        FROM {comment} c JOIN {follow} f ON f.lesson_id = c.lesson_id AND f.created_at < c.created_at - %s
        WHERE c.hidden_at IS NULL AND c.deleted_at IS NULL AND f.learner_id IS DISTINCT FROM c.author_id
    """
    # A learner owed for both reasons is owed one notification (named for the reply).
    sql = f"""
        SELECT comment_id, lesson_id, recipient_id, max(why) AS why, bool_and(notified) AS notified
        FROM ({owed}) AS owed GROUP BY comment_id, lesson_id, recipient_id
    """
    due, missing = _missing_notifications(sql, [follow_grace])
    shown = missing[:SHOWN]
    names = _names(row[2] for row in shown)
    lessons = _lessons(row[1] for row in shown)
    problems = [
        f"{lessons.get(lesson_id)}: comment #{comment_id} did not notify {_learner(recipient_id, names)} ({why})"
        for comment_id, lesson_id, recipient_id, why, _notified in shown
    ]
    return Result("every notification due exists", due, "notifications due", problems, len(missing))


def run_checks(*, markers: Path | None = None, follow_grace: timedelta = FOLLOW_GRACE) -> list[Result]:
    results = [
        xp_totals_match_ledger(),
        ledger_once_per_source(),
        completions_once_per_lesson(),
        exercises_once_per_lesson(),
        unlocks_once_per_achievement(),
        notifications_once_per_comment(),
        notifications_due_exist(follow_grace=follow_grace),
    ]
    if markers is not None:
        sure, unsure = read_markers(markers)
        results.append(comments_stored_once(sure=sure, unsure=unsure))
    return results
