"""Every change to a learner's progress: completions, passed exercises, XP, streaks and achievements.

Each public function is one transaction. It first locks the learner's ``LearnerProgress`` row
(SELECT ... FOR UPDATE), so the requests of one learner take turns: two tabs completing two
lessons at the same instant both see the other's completion before they count towards an
achievement. The unique constraints (one completion per lesson, one passed exercise per lesson, one
ledger row per source, one unlock per achievement) hold even where that lock was forgotten.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from courses.models import Lesson
from progress.events import announce_completions
from progress.models import (
    Achievement,
    ActivityDay,
    Completion,
    ExerciseCompletion,
    LearnerProgress,
    Reason,
    Rule,
    SolutionView,
    Unlock,
    XPEntry,
)
from progress.rules import EARLY_BIRD_BEFORE_HOUR, NIGHT_OWL_FROM_HOUR, Measure
from web.page_cache import bump_reader

# More than a browser could have gathered from every lesson of a large site.
MAX_SYNC_ITEMS = 1000


class LessonNotCompletable(Exception):
    """The lesson is a draft, scheduled, or in a course that is not published."""


class ExerciseWithoutChecks(LessonNotCompletable):
    """The lesson's exercise has no checks: there is nothing to pass."""


@dataclass
class Outcome:
    """What one change did: whether it completed a lesson (or passed an exercise), the XP it paid, the
    achievements it unlocked."""

    completed: bool = False
    lesson_xp: int = 0  # of xp_awarded, what the lesson (or its exercise) itself paid
    solution_seen: bool = False  # an exercise passed after its reference solution was shown: half its XP
    xp_awarded: int = 0
    unlocked: list[Achievement] = field(default_factory=list)
    xp_total: int = 0  # the learner's XP afterwards
    # What the receivers of progress.events.lessons_completed made of it: the certificates issued.
    certificates: list = field(default_factory=list)

    def add(self, other: "Outcome") -> None:
        self.xp_awarded += other.xp_awarded
        self.unlocked += other.unlocked
        self.certificates += other.certificates
        self.xp_total = other.xp_total or self.xp_total


def lock_progress(learner: User, **add: int) -> LearnerProgress:
    """The learner's progress row, created if need be, locked until the end of the transaction; ``add`` adds to its
    counters as it is locked (``LearnerProgress.objects.lock``)."""
    progress = LearnerProgress.objects.lock(learner, **add)
    progress.learner = learner  # its time zone is read for every lesson it completes
    bump_reader(learner.pk)  # every change to a learner's progress comes through here
    return progress


def _pay(progress: LearnerProgress, *, amount: int, reason: str, source: str, at: datetime, **details) -> bool:
    """Write a ledger row and add it to the total; False if ``source`` has already paid this learner."""
    try:
        with transaction.atomic():
            XPEntry.objects.create(
                learner_id=progress.learner_id, amount=amount, reason=reason, source=source, created_at=at, **details
            )
    except IntegrityError:
        return False
    progress.xp += amount
    return True


def _count_day(progress: LearnerProgress, day: date, *, counter: str = "completions") -> None:
    """Note a completion (or, with ``counter="exercises"``, a passed exercise) on ``day`` (the learner's calendar)
    for the heatmap and the streaks."""
    updated = ActivityDay.objects.filter(learner_id=progress.learner_id, day=day).update(**{counter: F(counter) + 1})
    if not updated:
        ActivityDay.objects.create(learner_id=progress.learner_id, day=day, **{counter: 1})
    last = progress.last_active_on
    if last is not None and day <= last:
        return  # the same day, or an earlier one after the learner moved west: the streak stands
    progress.current_streak = progress.current_streak + 1 if last == day - timedelta(days=1) else 1
    progress.best_streak = max(progress.best_streak, progress.current_streak)
    progress.last_active_on = day


def _unlock_achievements(progress: LearnerProgress, *, at: datetime, rules: set[str] | None = None) -> Outcome:
    """Unlock every achievement the learner now qualifies for, paying their bonus XP; with ``rules``, only those of
    the rules that the event could have moved (a bonus moves XP, so those of XP_REACHED must be among them).

    A bonus can lift the learner past an XP achievement, so it looks again until nothing more unlocks.
    """
    outcome = Outcome()
    measure = Measure(progress)
    while True:
        locked = Achievement.objects.exclude(unlocks__learner_id=progress.learner_id)
        if rules is not None:
            locked = locked.filter(rule__in=rules)
        reached = [achievement for achievement in locked if measure.reached(achievement)]
        if not reached:
            return outcome
        for achievement in reached:
            Unlock.objects.create(learner_id=progress.learner_id, achievement=achievement, unlocked_at=at)
            outcome.unlocked.append(achievement)
            if achievement.bonus_xp and _pay(
                progress,
                amount=achievement.bonus_xp,
                reason=Reason.ACHIEVEMENT,
                source=f"achievement:{achievement.pk}",
                achievement=achievement,
                at=at,
            ):
                outcome.xp_awarded += achievement.bonus_xp


def _record_completion(progress: LearnerProgress, *, lesson: Lesson, at: datetime) -> Outcome:
    """Mark a published ``lesson`` complete and pay its XP, but weigh no achievement yet.

    The caller holds the learner's lock, then weighs the achievements once for all it recorded and
    saves ``progress``.

    A lesson marked complete again after "Mark as not complete" is no new work: it counts toward no
    day (streaks, heatmap) and no early or late hour, or toggling one lesson would earn achievements.
    Its ledger row is what tells; a lesson worth no XP has none, so it counts each time.
    """
    try:
        with transaction.atomic():
            Completion.objects.create(learner_id=progress.learner_id, lesson=lesson, completed_at=at)
    except IntegrityError:
        return Outcome()  # completed already
    outcome = Outcome(completed=True)
    first_time = not lesson.xp or _pay(
        progress, amount=lesson.xp, reason=Reason.LESSON, source=f"lesson:{lesson.pk}", lesson=lesson, at=at
    )
    if first_time:
        outcome.lesson_xp = outcome.xp_awarded = lesson.xp
        local = timezone.localtime(at, progress.learner.zone)
        _count_day(progress, local.date())
        progress.early_lessons += local.hour < EARLY_BIRD_BEFORE_HOUR
        progress.late_lessons += local.hour >= NIGHT_OWL_FROM_HOUR
    return outcome


@transaction.atomic
def complete_lesson(*, learner: User, lesson: Lesson, at: datetime | None = None) -> Outcome:
    """Mark ``lesson`` complete for ``learner`` and pay its XP, once ever.

    Invariants: one completion per learner and lesson; the lesson's XP is paid once (ledger source
    ``lesson:<id>``), even after the mark is removed and set again; ``LearnerProgress.xp`` equals the
    sum of the learner's ledger. Completing again does nothing. Raises ``LessonNotCompletable`` for a
    lesson that is not published. Completions are announced (``progress.events.lessons_completed``): the
    completion of a course's last published lesson issues its certificate.
    """
    at = at or timezone.now()
    progress = lock_progress(learner)
    if not Lesson.objects.published().filter(pk=lesson.pk).exists():
        raise LessonNotCompletable
    outcome = _record_completion(progress, lesson=lesson, at=at)
    if outcome.completed:
        outcome.certificates = announce_completions(learner_id=learner.pk, course_ids={lesson.course_id}, at=at)
        outcome.add(_unlock_achievements(progress, at=at))
        progress.save()
    outcome.xp_total = progress.xp
    return outcome


def _record_exercise(progress: LearnerProgress, *, lesson: Lesson, at: datetime) -> Outcome:
    """Record that the learner passed ``lesson``'s exercise and pay its XP, but weigh no achievement yet.

    The caller holds the learner's lock, has checked that the lesson is published and has checks, then
    weighs the achievements and saves ``progress``. A first pass counts toward the day (streaks, heatmap),
    never toward the early or late hours, which count lessons.
    """
    try:
        with transaction.atomic():
            ExerciseCompletion.objects.create(learner_id=progress.learner_id, lesson=lesson, completed_at=at)
    except IntegrityError:
        return Outcome()  # passed already
    outcome = Outcome(completed=True)
    xp = lesson.exercise_xp
    if SolutionView.objects.filter(learner_id=progress.learner_id, lesson=lesson).exists():
        outcome.solution_seen = True
        xp = lesson.exercise_xp_after_solution
    if not xp or _pay(
        progress, amount=xp, reason=Reason.EXERCISE, source=f"exercise:{lesson.pk}", lesson=lesson, at=at
    ):
        outcome.lesson_xp = outcome.xp_awarded = xp
        _count_day(progress, timezone.localtime(at, progress.learner.zone).date(), counter="exercises")
    return outcome


@transaction.atomic
def complete_exercise(*, learner: User, lesson: Lesson, at: datetime | None = None) -> Outcome:
    """Record that ``learner``'s code passed the checks of ``lesson``'s exercise, and pay its XP once ever.

    The checks ran in the learner's browser: the server takes their word for it, as it does for "Mark
    complete". Invariants: one ``ExerciseCompletion`` per learner and lesson; the exercise's XP
    (``Lesson.exercise_xp``, read under the lock) is paid once (ledger source ``exercise:<id>``);
    ``LearnerProgress.xp`` equals the sum of the ledger. Passing again does nothing. Raises
    ``LessonNotCompletable`` for a lesson that is not published, ``ExerciseWithoutChecks`` (a kind of it)
    for one whose exercise has no checks.
    """
    at = at or timezone.now()
    progress = lock_progress(learner)
    current = Lesson.objects.published().filter(pk=lesson.pk).only("exercise_checks", "exercise_xp").first()
    if current is None:
        raise LessonNotCompletable
    if not current.has_checks:
        raise ExerciseWithoutChecks
    outcome = _record_exercise(progress, lesson=current, at=at)
    if outcome.completed:
        outcome.add(_unlock_achievements(progress, at=at))
        progress.save()
    outcome.xp_total = progress.xp
    return outcome


def show_solution(*, learner: User, lesson: Lesson, at: datetime | None = None) -> bool:
    """Record that ``learner`` was shown ``lesson``'s reference solution; True the first time.

    A pass of the exercise after this pays half its XP (``_record_exercise``); a pass before it has been paid
    in full, and the record changes nothing. The unique constraint keeps one record per learner and lesson.
    """
    _, created = SolutionView.objects.get_or_create(
        learner=learner, lesson=lesson, defaults={"viewed_at": at or timezone.now()}
    )
    return created


@transaction.atomic
def uncomplete_lesson(*, learner: User, lesson: Lesson) -> bool:
    """Remove the learner's mark on ``lesson``; the XP it paid stays theirs. False if it was not marked."""
    lock_progress(learner)
    deleted, _ = Completion.objects.filter(learner=learner, lesson=lesson).delete()
    return bool(deleted)


@dataclass
class SyncResult:
    accepted: list[int] = field(default_factory=list)
    ignored: list[dict] = field(default_factory=list)
    exercises_accepted: list[int] = field(default_factory=list)
    exercises_ignored: list[dict] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)


def _accepted_and_ignored(
    ids: list[int],
    known: dict[int, Lesson],
    done: set[int],
    *,
    refuse: Callable[[Lesson], str | None] = lambda _: None,
) -> tuple[list[int], list[dict]]:
    """Which of ``ids`` to record, in order, and the others with the reason each is ignored."""
    accepted, ignored, seen = [], [], set()
    for lesson_id in ids:
        if lesson_id in seen:
            reason = "duplicate"
        elif lesson_id not in known:
            reason = "unknown"
        else:
            reason = refuse(known[lesson_id]) or ("already_completed" if lesson_id in done else None)
        if reason:
            ignored.append({"lesson": lesson_id, "reason": reason})
        else:
            accepted.append(lesson_id)
        seen.add(lesson_id)
    return accepted, ignored


@transaction.atomic
def sync_local_completions(
    *,
    learner: User,
    lesson_ids: Iterable[int],
    exercise_ids: Iterable[int] = (),
    solution_ids: Iterable[int] = (),
    at: datetime | None = None,
) -> SyncResult:
    """Add the completions and passed exercises a browser kept while its learner was signed out, as ordinary ones.

    Only published lessons count, and for exercises only lessons whose exercise has checks; the XP is
    the server's own (the browser sends lesson ids, nothing else). Each id is answered: accepted, or
    ignored with the reason (``duplicate``, ``unknown``, ``already_completed``, and for an exercise
    ``no_checks``). ``solution_ids`` are the lessons whose reference solution the browser showed: recorded
    first, so an exercise passed after its solution pays half, as on the account. The achievements are weighed
    once, after the last: everything a sync adds happens at the same moment.
    """
    at = at or timezone.now()
    lesson_ids, exercise_ids = list(lesson_ids), list(exercise_ids)
    progress = lock_progress(learner)
    published = Lesson.objects.published()
    result = SyncResult()

    lessons = published.in_bulk(set(lesson_ids))
    done = set(Completion.objects.filter(learner=learner, lesson_id__in=lessons).values_list("lesson_id", flat=True))
    result.accepted, result.ignored = _accepted_and_ignored(lesson_ids, lessons, done)
    for lesson_id in result.accepted:
        result.outcome.add(_record_completion(progress, lesson=lessons[lesson_id], at=at))

    seen = published.exclude(exercise_solution="").filter(pk__in=set(solution_ids)).values_list("pk", flat=True)
    SolutionView.objects.bulk_create(
        [SolutionView(learner=learner, lesson_id=lesson_id, viewed_at=at) for lesson_id in seen], ignore_conflicts=True
    )
    exercises = published.only("course_id", "exercise_checks", "exercise_xp").in_bulk(set(exercise_ids))
    passed = ExerciseCompletion.objects.filter(learner=learner, lesson_id__in=exercises)
    result.exercises_accepted, result.exercises_ignored = _accepted_and_ignored(
        exercise_ids,
        exercises,
        set(passed.values_list("lesson_id", flat=True)),
        refuse=lambda lesson: None if lesson.has_checks else "no_checks",
    )
    for lesson_id in result.exercises_accepted:
        result.outcome.add(_record_exercise(progress, lesson=exercises[lesson_id], at=at))

    if result.accepted or result.exercises_accepted:
        if result.accepted:
            courses = {lessons[lesson_id].course_id for lesson_id in result.accepted}
            result.outcome.certificates = announce_completions(learner_id=learner.pk, course_ids=courses, at=at)
        result.outcome.add(_unlock_achievements(progress, at=at))
        progress.save()
    result.outcome.xp_total = progress.xp
    return result


@transaction.atomic
def adjust_xp(*, learner: User, amount: int, note: str, by: User, at: datetime | None = None) -> XPEntry:
    """Grant (``amount`` > 0) or deduct XP by hand, as a ledger row naming who did it and why.

    Refuses a deduction below zero: the total is never negative. Adjustments never count toward the
    weekly leaderboard, but an XP achievement they reach unlocks.
    """
    at = at or timezone.now()
    if amount == 0:
        raise ValidationError(_("Enter an amount other than 0."), code="zero")
    if not note.strip():
        raise ValidationError(_("Say why the XP changes: the learner sees it in their history."), code="no_note")
    progress = lock_progress(learner)
    if progress.xp + amount < 0:
        raise ValidationError(
            _("The learner has %(xp)s XP: a deduction cannot take more than that.") % {"xp": progress.xp},
            code="negative",
        )
    _pay(
        progress,
        amount=amount,
        reason=Reason.ADJUSTMENT,
        source=f"adjustment:{uuid.uuid4()}",
        note=note.strip(),
        created_by=by,
        at=at,
    )
    _unlock_achievements(progress, at=at)
    progress.save()
    return XPEntry.objects.filter(learner=learner, reason=Reason.ADJUSTMENT).latest("created_at", "id")


@transaction.atomic
def record_comment_written(*, learner: User, at: datetime | None = None) -> Outcome:
    """Count a comment the learner wrote toward the comment achievements (called by the comments app)."""
    at = at or timezone.now()
    progress = lock_progress(learner, comments_written=1)  # counted as it is locked: no save unless XP changes
    outcome = _unlock_achievements(progress, at=at, rules={Rule.COMMENTS_WRITTEN, Rule.XP_REACHED})
    if outcome.xp_awarded:
        progress.save(update_fields=["xp"])
    outcome.xp_total = progress.xp
    return outcome
