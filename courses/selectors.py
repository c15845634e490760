"""What pages read about lessons and courses: a lesson's neighbours, the course after one, a course's outline."""

from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils.translation import get_language_info

from courses.models import Course, Lesson


@dataclass
class Neighbours:
    """Where a lesson stands among the lessons of its course that the reader can see."""

    number: int
    total: int
    previous: Lesson | None
    next: Lesson | None


def neighbours(lesson: Lesson, user) -> Neighbours:
    """Two queries however long the course: its count, and the lessons just before and after."""
    siblings = Lesson.objects.visible_to(user).filter(course_id=lesson.course_id)
    counts = siblings.aggregate(total=Count("pk"), number=Count("pk", filter=Q(position__lte=lesson.position)))
    columns = ("slug", "title", "position", "course_id")
    before = siblings.filter(position__lt=lesson.position).order_by("-position").only(*columns)[:1]
    after = siblings.filter(position__gt=lesson.position).order_by("position").only(*columns)[:1]
    adjacent = {"previous": None, "next": None}
    for sibling in before.union(after, all=True):
        sibling.course = lesson.course  # for get_absolute_url without a query each
        adjacent["previous" if sibling.position < lesson.position else "next"] = sibling
    return Neighbours(number=counts["number"], total=counts["total"], **adjacent)


def course_xp(course_id: int) -> int:
    """The XP a course's published lessons and exercises pay in all."""
    lessons = Lesson.objects.published().filter(course_id=course_id)
    totals = lessons.aggregate(lessons=Sum("xp"), exercises=Sum("exercise_xp", filter=Q(exercise_checks__regex=r"\S")))
    return (totals["lessons"] or 0) + (totals["exercises"] or 0)


def course_after(course: Course) -> Course | None:
    """The next published course of the catalogue, in its order, that has a published lesson."""
    later = Q(position__gt=course.position) | Q(position=course.position, title__gt=course.title)
    return (
        Course.objects.published()
        .filter(later, lessons__in=Lesson.objects.published())
        .exclude(pk=course.pk)
        .order_by("position", "title")
        .distinct()
        .only("slug", "title", "language", "position")
        .first()
    )


def course_outline(course: Course) -> dict:
    """A published course's published lessons, in order: ids, titles and addresses, for the script that finds
    where a visitor left off from the progress their browser keeps (static/js/local-progress.js).

    One query. Nothing in it is the reader's own: the same answer for everyone.
    """
    lessons = Lesson.objects.published().filter(course=course).only("title", "slug", "course_id").order_by("position")
    return {
        "id": course.pk,
        "title": course.title,
        "lang": course.language,
        "dir": "rtl" if get_language_info(course.language)["bidi"] else "ltr",
        "lessons": [{"id": lesson.pk, "title": lesson.title, "url": _address(course, lesson)} for lesson in lessons],
    }


def _address(course: Course, lesson: Lesson) -> str:
    lesson.course = course  # get_absolute_url reads the course's slug: no query per lesson
    return lesson.get_absolute_url()
