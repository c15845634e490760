import pytest

from courses.models import Lesson, Status
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db


def test_saving_a_lesson_stores_its_html_toc_and_reading_time():
    lesson = LessonFactory(body="## Intro\n\n" + "word " * 600)
    lesson.refresh_from_db()
    assert '<h2 id="intro">' in lesson.body_html
    assert lesson.toc == [{"level": 2, "id": "intro", "title": "Intro"}]
    assert lesson.reading_minutes == 3


def test_an_authors_reading_time_wins_over_the_computed_one():
    lesson = LessonFactory(body="short", minutes=22)
    assert lesson.reading_minutes == 22


def test_publishing_sets_the_publication_date_once():
    lesson = LessonFactory(status=Status.DRAFT, published_at=None)
    assert lesson.published_at is None
    lesson.status = Status.PUBLISHED
    lesson.save()
    first = lesson.published_at
    assert first is not None
    lesson.save()
    assert lesson.published_at == first


def test_published_excludes_drafts_future_dates_and_draft_courses():
    course = CourseFactory()
    visible = LessonFactory(course=course)
    LessonFactory(course=course, status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, published_at="2999-01-01T00:00:00Z")
    LessonFactory(course=CourseFactory(status=Status.DRAFT))
    assert list(Lesson.objects.published()) == [visible]
