from django.urls import path, register_converter

from courses import views
from courses.converters import UnicodeSlugConverter
from courses.feeds import CourseLessonsFeed, SiteLessonsFeed
from web.page_cache import cached_page, lesson_versions

app_name = "courses"

register_converter(UnicodeSlugConverter, "uslug")

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("courses/<uslug:course>/", views.course_detail, name="course"),
    path("courses/<int:course_id>/lessons.json", views.course_lessons, name="course_lessons"),
    # Before the lessons: a lesson's slug cannot be "feed" (Lesson.clean).
    path("courses/<uslug:course>/feed/", CourseLessonsFeed(), name="course_feed"),
    path(
        "courses/<uslug:course>/<uslug:lesson>/",
        cached_page(views.LessonDetailView.as_view(), versions=lesson_versions),
        name="lesson",
    ),
    path("tags/<uslug:tag>/", views.tag_detail, name="tag"),
    path("search/", views.search_page, name="search"),
    path("feeds/lessons/", SiteLessonsFeed(), name="site_feed"),
]
