"""Reads of a learner's progress for pages: the level they stand on and the learner panel."""

from dataclasses import dataclass

from django.db.models import Exists, Func, IntegerField, OuterRef, QuerySet, Subquery, Value

from courses.models import Lesson
from progress.models import Achievement, Completion, LearnerProgress, Level, Unlock


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
    """The learner panel of a lesson page, and the state of its "Mark complete" button."""

    standing: Standing
    ladder: list[Level]
    lessons_completed: int
    lessons_published: int
    achievements_unlocked: int
    achievements_total: int
    course_completed: int
    course_total: int
    lesson_completed: bool
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
    ladder = Level.objects.ladder()
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
        }
    else:
        zero = Value(0, output_field=IntegerField())
        counts |= dict.fromkeys(["learner_xp", "lessons_completed", "achievements_unlocked", "course_completed"], zero)
        counts["lesson_completed"] = Value(False)
    row = Lesson.objects.filter(pk=lesson.pk).values(**counts).get()
    xp = row.pop("learner_xp") or 0
    return Panel(standing=standing(xp, ladder), ladder=ladder, signed_in=signed_in, **row)
