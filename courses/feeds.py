"""Atom feeds of newly published lessons: the site's, and one per course.

Each is one query for the lessons and one for their tags, however many there are; a scheduled
lesson enters the feed when its time comes, a draft never does.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from courses.models import Course, Lesson, Tag
from web.absolute_urls import absolute_url

FEED_SIZE = 20  # the newest lessons a feed lists: a reader polling daily misses none


class LessonsFeed(Feed):
    feed_type = Atom1Feed

    def author_name(self) -> str:
        # Atom wants an author for the feed when its entries have none: the site, never a person.
        return settings.SITE_NAME

    def items(self, course: Course | None = None):
        lessons = Lesson.objects.published() if course is None else Lesson.objects.published().filter(course=course)
        return (
            lessons.select_related("course")
            .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))
            .only("title", "slug", "summary", "published_at", "updated_at", "course__title", "course__slug")
            .order_by("-published_at", "-pk")[:FEED_SIZE]
        )

    def item_title(self, lesson: Lesson) -> str:
        return f"{lesson.title} · {lesson.course.title}"

    def item_description(self, lesson: Lesson) -> str:
        # Atom's summary is written as type="html": the lesson's plain-text summary, escaped.
        return escape(lesson.summary)

    def item_link(self, lesson: Lesson) -> str:
        return absolute_url(lesson.get_absolute_url())

    def item_pubdate(self, lesson: Lesson):
        return lesson.published_at

    def item_updateddate(self, lesson: Lesson):
        return max(lesson.updated_at, lesson.published_at)

    def item_categories(self, lesson: Lesson) -> list[str]:
        return [tag.name for tag in lesson.tags.all()]


class SiteLessonsFeed(LessonsFeed):
    """/feeds/lessons/: the newest lessons of every course."""

    def title(self) -> str:
        return _("New lessons on %(site)s") % {"site": settings.SITE_NAME}

    def subtitle(self) -> str:
        return _("The lessons most recently published on %(site)s.") % {"site": settings.SITE_NAME}

    def link(self) -> str:
        return absolute_url(reverse("courses:catalogue"))

    def feed_url(self) -> str:
        return absolute_url(reverse("courses:site_feed"))


class CourseLessonsFeed(LessonsFeed):
    """/courses/<course>/feed/: the newest lessons of one published course."""

    def get_object(self, request, course: str) -> Course:
        return get_object_or_404(Course.objects.published().only("title", "slug"), slug=course)

    def title(self, course: Course) -> str:
        return _("New lessons in %(course)s") % {"course": course.title}

    def subtitle(self, course: Course) -> str:
        return _("The lessons most recently published in the course %(course)s on %(site)s.") % {
            "course": course.title,
            "site": settings.SITE_NAME,
        }

    def link(self, course: Course) -> str:
        return absolute_url(course.get_absolute_url())

    def item_title(self, lesson: Lesson) -> str:
        return lesson.title

    def feed_url(self, course: Course) -> str:
        return absolute_url(reverse("courses:course_feed", kwargs={"course": course.slug}))
