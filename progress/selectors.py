"""Reads of learners' progress for pages: levels, the learner panel, /me/, the leaderboard, course progress."""

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Exists, Func, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value

from accounts.models import User
from courses.models import Course, Lesson
from courses.selectors import course_after, course_xp
from progress.models import (
    Achievement,
    ActivityDay,
    Completion,
    ExerciseCompletion,
    LearnerProgress,
    Level,
    Unlock,
    XPEntry,
)
from web.page_cache import keep, kept

LADDER_KEY = "progress:ladder"


def level_ladder() -> list[Level]:
    """The levels, lowest first, as every page shows them: kept in the shared cache until the content changes
    (a level saved or deleted bumps the content generation), so a page does not ask the database each time."""
    levels, generation = kept(LADDER_KEY)
    if levels is None:
        levels = Level.objects.ladder()
        keep(LADDER_KEY, levels, generation=generation, seconds=24 * 60 * 60)
    return levels


@dataclass(frozen=True)
class Standing:
    """Where ``xp`` puts a learner on the ladder of levels."""

    xp: int
    level: Level
    next_level: Level | None

    @property
    def xp_into_level(self) -> int:
        return self.xp - self.level.xp_required

    @property
    def xp_for_level(self) -> int:
        return self.next_level.xp_required - self.level.xp_required if self.next_level else 0

    @property
    def xp_to_go(self) -> int:
        return self.next_level.xp_required - self.xp if self.next_level else 0

    @property
    def percent(self) -> int:
        if not self.next_level:
            return 100
        return min(100, 100 * self.xp_into_level // self.xp_for_level)


def standing(xp: int, ladder: list[Level]) -> Standing:
    """The highest level whose threshold ``xp`` reaches, and the one after it (``ladder`` in XP order)."""
    ladder = ladder or [Level(number=0, xp_required=0)]  # every level deleted in the admin
    reached = [level for level in ladder if level.xp_required <= xp] or ladder[:1]
    later = [level for level in ladder if level.xp_required > xp]
    return Standing(xp=xp, level=reached[-1], next_level=later[0] if later else None)


def count(queryset: QuerySet) -> Subquery:
    """``SELECT COUNT(*)`` of ``queryset`` as a subquery, to gather several counts in one query."""
    return Subquery(queryset.order_by().values(n=Func("pk", function="COUNT")), output_field=IntegerField())


@dataclass(frozen=True)
class Panel:
    """The learner panel of a lesson page, the state of its "Mark complete" button and of its exercise."""

    standing: Standing
    ladder: list[Level]
    lessons_completed: int
    lessons_published: int
    achievements_unlocked: int
    achievements_total: int
    course_completed: int
    course_total: int
    lesson_completed: bool
    exercise_done: bool  # the learner's code passed the checks of the lesson's exercise
    signed_in: bool

    @property
    def ladder_data(self) -> list[dict]:
        """The ladder for the page's script, which places a signed-out visitor's local XP on it."""
        return [{"number": level.number, "xp": level.xp_required, "title": level.title} for level in self.ladder]

    @property
    def course_percent(self) -> int:
        return 100 * self.course_completed // self.course_total if self.course_total else 0


def lesson_panel(*, lesson: Lesson, user) -> Panel:
    """Two queries, whoever asks and however much they have done: the ladder, and every count at once.

    For a visitor who is not signed in the learner's own counts are 0: their progress lives in the
    browser, and the page's script adds it.
    """
    ladder = level_ladder()
    published = Lesson.objects.published()
    counts = {
        "lessons_published": count(published),
        "achievements_total": count(Achievement.objects.all()),
        "course_total": count(published.filter(course_id=lesson.course_id)),
    }
    signed_in = user.is_authenticated
    if signed_in:
        mine = Completion.objects.filter(learner_id=user.pk)
        counts |= {
            "learner_xp": Subquery(LearnerProgress.objects.filter(learner_id=user.pk).values("xp")),
            "lessons_completed": count(mine.filter(lesson__in=published)),
            "achievements_unlocked": count(Unlock.objects.filter(learner_id=user.pk)),
            "course_completed": count(mine.filter(lesson__in=published.filter(course_id=lesson.course_id))),
            "lesson_completed": Exists(mine.filter(lesson_id=OuterRef("pk"))),
            "exercise_done": Exists(ExerciseCompletion.objects.filter(learner_id=user.pk, lesson_id=OuterRef("pk"))),
        }
    else:
        zero = Value(0, output_field=IntegerField())
        counts |= dict.fromkeys(["learner_xp", "lessons_completed", "achievements_unlocked", "course_completed"], zero)
        counts["lesson_completed"] = counts["exercise_done"] = Value(False)
    row = Lesson.objects.filter(pk=lesson.pk).values(**counts).get()
    xp = row.pop("learner_xp") or 0
    return Panel(standing=standing(xp, ladder), ladder=ladder, signed_in=signed_in, **row)


@dataclass(frozen=True)
class CourseEnd:
    """What the end of a lesson offers once its course is complete: the course's totals and what comes next."""

    complete: bool  # the signed-in learner completed every published lesson (a visitor's page script decides)
    lessons: int
    xp: int
    next_course: Course | None


def course_end(*, lesson: Lesson, panel: Panel) -> CourseEnd:
    """Two queries (the course's XP, the catalogue's next course) where the end may be shown: for a learner who
    completed the course, and for a visitor (whose page script decides); none for a learner still on the way."""
    complete = panel.signed_in and 0 < panel.course_total <= panel.course_completed
    shown = complete or not panel.signed_in
    return CourseEnd(
        complete=complete,
        lessons=panel.course_total,
        xp=course_xp(lesson.course_id) if shown else 0,
        next_course=course_after(lesson.course) if shown else None,
    )


def current_streak(progress: LearnerProgress, *, today: date) -> int:
    """The streak as it stands ``today`` (the learner's calendar): it has ended if they skipped yesterday.

    ``LearnerProgress.current_streak`` is only updated when a lesson is completed, so a learner who
    stopped a week ago still has their old count stored.
    """
    last = progress.last_active_on
    return progress.current_streak if last is not None and last >= today - timedelta(days=1) else 0


@dataclass(frozen=True)
class CourseProgress:
    """How much of a course's published lessons a learner has completed."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0


def _course_counts(learner_id: int) -> dict[str, Subquery]:
    """A course's published lessons, and those of them ``learner_id`` completed, as annotations of Course."""
    return {
        "total": count(Lesson.objects.published().filter(course=OuterRef("pk"))),
        "done": count(
            Completion.objects.filter(
                Lesson.published_q("lesson__"), learner_id=learner_id, lesson__course=OuterRef("pk")
            )
        ),
    }


def course_progress(*, user, courses: Iterable[Course]) -> dict[int, CourseProgress]:
    """Course id → the signed-in ``user``'s progress in it, for every course of a page in one query.

    Empty, without a query, for a visitor who is not signed in.
    """
    ids = [course.pk for course in courses]
    if not user.is_authenticated or not ids:
        return {}
    rows = Course.objects.filter(pk__in=ids).order_by().values("pk", **_course_counts(user.pk))
    return {row["pk"]: CourseProgress(done=row["done"] or 0, total=row["total"] or 0) for row in rows}


def completed_lesson_ids(*, user, lessons: Iterable[Lesson]) -> set[int]:
    """Which of ``lessons`` the signed-in ``user`` completed, in one query (none for a visitor)."""
    ids = [lesson.pk for lesson in lessons]
    if not user.is_authenticated or not ids:
        return set()
    return set(Completion.objects.filter(learner_id=user.pk, lesson_id__in=ids).values_list("lesson_id", flat=True))


# The activity heatmap: 12 weeks of days, a column per week (Monday at the top), squares of CELL px.
HEATMAP_DAYS = 84
HEATMAP_CELL = 12
HEATMAP_STEP = 15  # a cell and the gap after it


@dataclass(frozen=True)
class HeatmapDay:
    day: date
    completions: int
    column: int
    row: int
    exercises: int = 0

    @property
    def level(self) -> int:
        """0, 1, 2, or 3 for three or more lessons and exercises: the square's shade."""
        return min(self.completions + self.exercises, 3)

    @property
    def x(self) -> int:
        return self.column * HEATMAP_STEP

    @property
    def y(self) -> int:
        return self.row * HEATMAP_STEP


@dataclass(frozen=True)
class Heatmap:
    days: list[HeatmapDay]
    cell: int = HEATMAP_CELL

    @property
    def width(self) -> int:
        return (self.days[-1].column + 1) * HEATMAP_STEP - (HEATMAP_STEP - HEATMAP_CELL)

    @property
    def height(self) -> int:
        return 7 * HEATMAP_STEP - (HEATMAP_STEP - HEATMAP_CELL)

    @property
    def active_days(self) -> int:
        return sum(1 for day in self.days if day.completions or day.exercises)


def heatmap(*, learner, today: date) -> Heatmap:
    """Lessons completed and exercises passed on each of the ``HEATMAP_DAYS`` days ending ``today``, on the
    learner's calendar.

    Weeks start on Monday, so the first and the last column may be partly empty.
    """
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    rows = ActivityDay.objects.filter(learner_id=learner.pk, day__range=(first, today))
    counts = {
        day: (lessons, exercises) for day, lessons, exercises in rows.values_list("day", "completions", "exercises")
    }
    first_monday = first - timedelta(days=first.weekday())
    days = []
    for offset in range(HEATMAP_DAYS):
        day = first + timedelta(days=offset)
        lessons, exercises = counts.get(day, (0, 0))
        days.append(
            HeatmapDay(
                day=day,
                completions=lessons,
                exercises=exercises,
                column=(day - first_monday).days // 7,
                row=day.weekday(),
            )
        )
    return Heatmap(days=days)


@dataclass(frozen=True)
class AchievementState:
    """An achievement as one learner sees it: unlocked (and when), or locked, or secret."""

    achievement: Achievement
    unlocked_at: datetime | None

    @property
    def secret(self) -> bool:
        """Hidden and still locked: its title and description must not be shown."""
        return self.achievement.hidden and self.unlocked_at is None


@dataclass(frozen=True)
class LearnerSummary:
    """The /me/ page, apart from the XP history (which is paginated)."""

    standing: Standing
    current_streak: int
    best_streak: int
    achievements: list[AchievementState]
    courses: list[tuple[Course, CourseProgress]]
    heatmap: Heatmap

    @property
    def achievements_unlocked(self) -> int:
        return sum(1 for state in self.achievements if state.unlocked_at)


def learner_summary(*, learner, today: date) -> LearnerSummary:
    """Five queries, however much the learner has done: progress, ladder, achievements, courses, heatmap."""
    progress = LearnerProgress.objects.filter(learner_id=learner.pk).first() or LearnerProgress(learner_id=learner.pk)
    unlocked_at = Unlock.objects.filter(learner_id=learner.pk, achievement=OuterRef("pk")).values("unlocked_at")[:1]
    achievements = [
        AchievementState(achievement=achievement, unlocked_at=achievement.unlocked_at)
        for achievement in Achievement.objects.annotate(unlocked_at=Subquery(unlocked_at))
    ]
    started = (
        Course.objects.published()
        .annotate(**_course_counts(learner.pk))
        .filter(done__gt=0)
        .only("title", "slug", "language", "status")
    )
    return LearnerSummary(
        standing=standing(progress.xp, level_ladder()),
        current_streak=current_streak(progress, today=today),
        best_streak=progress.best_streak,
        achievements=achievements,
        courses=[(course, CourseProgress(done=course.done, total=course.total)) for course in started],
        heatmap=heatmap(learner=learner, today=today),
    )


LEADERBOARD_SIZE = 20


@dataclass(frozen=True)
class Week:
    """An ISO week on the leaderboard's clock: from Monday 00:00 UTC to the next Monday 00:00 UTC."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, moment: datetime) -> "Week":
        day = moment.astimezone(UTC).date()
        monday = datetime.combine(day - timedelta(days=day.weekday()), time.min, tzinfo=UTC)
        return cls(start=monday, end=monday + timedelta(days=7))

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


@dataclass(frozen=True)
class Leader:
    rank: int
    learner_id: int
    display_name: str
    xp: int  # earned this week
    level: Level


def week_ranking(week: Week) -> QuerySet:
    """Learners by the XP they earned themselves in ``week`` (no staff adjustments), most first.

    Leaves out learners who chose not to be on the leaderboard, inactive accounts and anyone with no
    XP that week. Equal XP: the earlier account first.
    """
    return (
        XPEntry.objects.earned()
        .filter(
            created_at__gte=week.start,
            created_at__lt=week.end,
            learner__is_active=True,
            learner__on_leaderboard=True,
        )
        .values("learner_id")
        .annotate(week_xp=Sum("amount"))
        .filter(week_xp__gt=0)
        .order_by("-week_xp", "learner_id")
    )


@dataclass(frozen=True)
class OwnRank:
    rank: int
    xp: int


# How long the week's standings are kept for every reader: the ranking reads all of the week's ledger rows.
STANDINGS_SECONDS = 30


def week_standings(week: Week) -> list[tuple[int, int]]:
    """``week_ranking`` as (learner id, XP that week), most first: kept ``STANDINGS_SECONDS`` in the shared cache.

    The same for every reader and in every language; each reader's own row is put in afresh (``leaderboard``).
    """
    key = f"leaderboard-standings:{week.start.isoformat()}"
    standings = cache.get(key)
    if standings is None:
        standings = list(week_ranking(week).values_list("learner_id", "week_xp"))
        cache.set(key, standings, timeout=STANDINGS_SECONDS)
    return standings


@dataclass(frozen=True)
class Leaderboard:
    leaders: list[Leader]
    own_rank: OwnRank | None  # None for a visitor, a learner not on it this week, or one who chose not to be


def _ranked(row: tuple[int, int]) -> tuple[int, int]:
    learner_id, xp = row
    return -xp, learner_id  # week_ranking's order: most XP first, then the earlier account


def leaderboard(*, week: Week, ladder: list[Level], reader, size: int = LEADERBOARD_SIZE) -> Leaderboard:
    """The week's top ``size`` and ``reader``'s own place, from the kept standings (``week_standings``).

    Others' XP may be ``STANDINGS_SECONDS`` old; the reader's own is read now (one query, along their ledger's
    index) and put in its place, so what they just earned counts at once. The names, levels and the choice to be
    shown are read now too (one query), so a learner who opts out or is deactivated is gone at once.
    """
    standings = week_standings(week)
    signed_in = reader is not None and reader.is_authenticated
    if signed_in:
        standings = [row for row in standings if row[0] != reader.pk]
        if reader.on_leaderboard and (mine := week_ranking(week).filter(learner_id=reader.pk).first()):
            bisect.insort(standings, (reader.pk, mine["week_xp"]), key=_ranked)
    # Twice the rows shown, for those who left the leaderboard since the standings were kept.
    candidates = [learner_id for learner_id, _ in standings[: size * 2]]
    shown = {
        row["pk"]: row
        for row in User.objects.filter(pk__in=candidates, is_active=True, on_leaderboard=True).values(
            "pk", "display_name", "progress__xp"
        )
    }
    gone = set(candidates) - set(shown)
    standings = [row for row in standings if row[0] not in gone]
    # (Past ``size`` learners gone in STANDINGS_SECONDS, the table is shorter until the standings are made again.)
    top = [row for row in standings[:size] if row[0] in shown]
    leaders = [
        Leader(
            rank=rank,
            learner_id=learner_id,
            display_name=shown[learner_id]["display_name"],
            xp=xp,
            level=standing(shown[learner_id]["progress__xp"] or 0, ladder).level,
        )
        for rank, (learner_id, xp) in enumerate(top, start=1)
    ]
    own_rank = None
    if signed_in:
        own_rank = next(
            (
                OwnRank(rank=rank, xp=xp)
                for rank, (learner_id, xp) in enumerate(standings, 1)
                if learner_id == reader.pk
            ),
            None,
        )
    return Leaderboard(leaders=leaders, own_rank=own_rank)


def next_lesson(*, learner) -> Lesson | None:
    """Where the learner left off: the first published lesson, in course order, that they have not completed in
    the course of their latest completion; None when that course is done or they have completed nothing."""
    latest_course = (
        Completion.objects.filter(learner_id=learner.pk).order_by("-completed_at", "-pk").values("lesson__course_id")
    )
    done = Completion.objects.filter(learner_id=learner.pk, lesson_id=OuterRef("pk"))
    return (
        Lesson.objects.published()
        .filter(~Exists(done), course_id=Subquery(latest_course[:1]))
        .select_related("course")
        .order_by("position")
        .first()
    )
