"""How each achievement rule measures a learner: the code behind ``Achievement.rule``.

Called by ``progress.services`` while it holds the learner's progress row locked, so the counts
it reads cannot change under it.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.models import Course, Lesson
from progress.models import Achievement, Completion, LearnerProgress, Rule

# The hours of the early-bird and night-owl rules, on the learner's clock.
EARLY_BIRD_BEFORE_HOUR = 7
NIGHT_OWL_FROM_HOUR = 23


class Measure:
    """A learner's numbers for the rules, each read from the database at most once."""

    def __init__(self, progress: LearnerProgress) -> None:
        self.progress = progress
        self._lessons: int | None = None
        self._courses: int | None = None
        self._tags: dict[str, int] = {}

    def value(self, achievement: Achievement) -> int:
        match achievement.rule:
            case Rule.LESSONS_COMPLETED:
                return self.lessons_completed()
            case Rule.COURSES_COMPLETED:
                return self.courses_completed()
            case Rule.XP_REACHED:
                return self.progress.xp
            case Rule.STREAK_DAYS:
                return self.progress.current_streak
            case Rule.TAG_LESSONS:
                return self.tag_lessons(achievement.tag)
            case Rule.EARLY_BIRD:
                return self.progress.early_lessons
            case Rule.NIGHT_OWL:
                return self.progress.late_lessons
            case Rule.COMMENTS_WRITTEN:
                return self.progress.comments_written
        raise ValueError(f"unknown rule {achievement.rule!r}")

    def reached(self, achievement: Achievement) -> bool:
        return self.value(achievement) >= achievement.threshold

    def lessons_completed(self) -> int:
        if self._lessons is None:
            self._lessons = Completion.objects.filter(learner_id=self.progress.learner_id).count()
        return self._lessons

    def courses_completed(self) -> int:
        """Published courses with at least one published lesson, every one of them completed by the learner."""
        if self._courses is None:
            lessons = Lesson.objects.published().filter(course=OuterRef("pk"))
            not_done = lessons.exclude(completions__learner_id=self.progress.learner_id)
            self._courses = Course.objects.published().filter(Exists(lessons)).exclude(Exists(not_done)).count()
        return self._courses

    def tag_lessons(self, tag: str) -> int:
        if tag not in self._tags:
            self._tags[tag] = Completion.objects.filter(
                learner_id=self.progress.learner_id, lesson__tags__slug=tag
            ).count()
        return self._tags[tag]


def rule_in_words(achievement: Achievement) -> str:
    """What a learner must do to unlock ``achievement``, in the reader's language."""
    n = achievement.threshold
    values = {"count": n, "tag": achievement.tag}
    match achievement.rule:
        case Rule.LESSONS_COMPLETED:
            text = ngettext("Complete %(count)s lesson.", "Complete %(count)s lessons.", n)
        case Rule.COURSES_COMPLETED:
            text = ngettext(
                "Complete every lesson of %(count)s course.", "Complete every lesson of %(count)s courses.", n
            )
        case Rule.XP_REACHED:
            text = _("Reach %(count)s XP in total.")
        case Rule.STREAK_DAYS:
            text = ngettext("Complete a lesson on %(count)s day.", "Complete a lesson on %(count)s days in a row.", n)
        case Rule.TAG_LESSONS:
            text = ngettext(
                "Complete %(count)s lesson tagged #%(tag)s.", "Complete %(count)s lessons tagged #%(tag)s.", n
            )
        case Rule.EARLY_BIRD:
            values["time"] = f"{EARLY_BIRD_BEFORE_HOUR:02d}:00"
            text = ngettext(
                "Complete %(count)s lesson before %(time)s, your time.",
                "Complete %(count)s lessons before %(time)s, your time.",
                n,
            )
        case Rule.NIGHT_OWL:
            values["time"] = f"{NIGHT_OWL_FROM_HOUR:02d}:00"
            text = ngettext(
                "Complete %(count)s lesson from %(time)s to midnight, your time.",
                "Complete %(count)s lessons from %(time)s to midnight, your time.",
                n,
            )
        case Rule.COMMENTS_WRITTEN:
            text = ngettext("Write %(count)s comment.", "Write %(count)s comments.", n)
        case _:
            raise ValueError(f"unknown rule {achievement.rule!r}")
    return text % values
