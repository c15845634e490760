"""/sitemap.xml: every published course, lesson and tag, with the time it last changed.

One query per section however many rows (and a COUNT for the sitemap's paging): the times are
annotations, never a query per row. The views (``courses.views.sitemap_index`` and ``sitemap_section``) answer
from one copy made per content change; past the protocol's 50,000 URLs (``Sitemap.limit``) /sitemap.xml is an
index of sections, each split in pages of that many.
"""

from functools import cached_property

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Greatest

from courses.models import Course, Lesson, Tag
from web.absolute_urls import site_protocol


def lesson_changed_at(prefix: str = ""):
    """When a lesson last changed on the site: its last edit, or its publication if that came later (scheduled)."""
    return Greatest(f"{prefix}updated_at", f"{prefix}published_at")


class SiteSitemap(Sitemap):
    """A section of the sitemap, on the configured domain (SITE_DOMAIN) and scheme."""

    @property
    def protocol(self) -> str:
        return site_protocol()

    def get_domain(self, site=None) -> str:
        return settings.SITE_DOMAIN

    def lastmod(self, item):
        return item.changed_at

    @cached_property
    def paginator(self):
        """Counted once per request: asked for the index's page numbers and again for each page's URLs."""
        return super().paginator


class CourseSitemap(SiteSitemap):
    def items(self):
        # A course page lists its lessons: it changes with them too.
        newest_lesson = (
            Lesson.objects.published()
            .filter(course=OuterRef("pk"))
            .order_by()
            .values("course")
            .annotate(changed_at=Max(lesson_changed_at()))
            .values("changed_at")
        )
        return (
            Course.objects.published()
            .annotate(changed_at=Greatest("updated_at", Subquery(newest_lesson)))
            .only("slug")
            .order_by("position", "title", "pk")
        )


class LessonSitemap(SiteSitemap):
    def items(self):
        return (
            Lesson.objects.published()
            .annotate(changed_at=lesson_changed_at())
            .select_related("course")
            .only("slug", "course__slug")
            .order_by("course__position", "course__title", "course_id", "position")
        )


class TagSitemap(SiteSitemap):
    def items(self):
        """The tags with a published lesson (a tag of drafts only has no page for visitors)."""
        return (
            Tag.objects.filter(Lesson.published_q(prefix="lessons__"))
            .annotate(changed_at=Max(lesson_changed_at(prefix="lessons__")))
            .only("slug")
            .order_by("name")
        )


sitemaps = {"courses": CourseSitemap, "lessons": LessonSitemap, "tags": TagSitemap}
