"""The parts of other apps' pages that show a learner's progress: the lesson page's panel, course pages, the catalogue.

``courses`` knows nothing of ``progress``: its templates load these tags. Each tag answers for a
whole page in one query (none for a visitor who is not signed in).
"""

from collections.abc import Iterable

from django import template

from courses.models import Course, Lesson
from progress import selectors
from progress.models import Achievement
from progress.rules import rule_in_words
from progress.selectors import CourseProgress, Panel

register = template.Library()


@register.simple_tag(takes_context=True)
def learner_panel(context, lesson) -> Panel:
    """``{% learner_panel lesson as panel %}``: the lesson page's panel and completion state, in two queries."""
    return selectors.lesson_panel(lesson=lesson, user=context["request"].user)


@register.simple_tag(takes_context=True)
def continue_lesson(context) -> Lesson | None:
    """``{% continue_lesson as lesson %}``: where the signed-in reader left off (one query; none for a visitor)."""
    user = context["request"].user
    return selectors.next_lesson(learner=user) if user.is_authenticated else None


@register.simple_tag
def course_end(lesson: Lesson, panel: Panel) -> selectors.CourseEnd:
    """``{% course_end lesson panel as end %}``: the course's totals and next course for the end of a lesson."""
    return selectors.course_end(lesson=lesson, panel=panel)


@register.simple_tag(takes_context=True)
def completed_lessons(context, lessons: Iterable[Lesson]) -> set[int]:
    """``{% completed_lessons lessons as done %}``: ids of the page's lessons the reader completed (one query)."""
    return selectors.completed_lesson_ids(user=context["request"].user, lessons=lessons)


@register.simple_tag(takes_context=True)
def course_progress(context, courses: Iterable[Course] | Course) -> dict[int, CourseProgress]:
    """``{% course_progress courses as progress_by_course %}``: course id → the reader's progress (one query).

    Takes a page's courses, or one course. Read a course's progress with ``progress_by_course|for_course:course``.
    """
    if isinstance(courses, Course):
        courses = [courses]
    return selectors.course_progress(user=context["request"].user, courses=courses)


@register.filter
def for_course(progress_by_course: dict[int, CourseProgress], course: Course) -> CourseProgress | None:
    return progress_by_course.get(course.pk)


@register.filter
def signed_xp(amount: int) -> str:
    """+15, or -20 written with a true minus sign (U+2212), as a reader expects."""
    return f"+{amount}" if amount >= 0 else f"\N{MINUS SIGN}{-amount}"


@register.filter
def rule_text(achievement: Achievement) -> str:
    """What unlocks the achievement, in words."""
    return rule_in_words(achievement)
