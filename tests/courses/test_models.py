import pytest
from django.utils import translation

from courses.models import Lesson, Status
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db


def test_saving_a_lesson_stores_its_html_toc_and_reading_time():
    lesson = LessonFactory(body="## Intro\n\n" + "word " * 600)
    lesson.refresh_from_db()
    assert '<h2 id="intro">' in lesson.body_html
    assert lesson.toc == [{"level": 2, "id": "intro", "title": "Intro"}]
    assert lesson.reading_minutes == 3


def test_a_korean_lesson_is_timed_by_its_syllables_not_its_spaces():
    """Pins a Korean lesson of 9,000 characters shown as "~6 min" (200 space-separated words a minute)."""
    body = "## 소개\n\n" + "가나다라마 " * 1400  # 7,000 syllables, 8,400 characters
    exercise = "```python\n" + "print(1)\n" * 25 + "```\n"
    lesson = LessonFactory(course__language="ko", body=body, exercise=exercise)
    assert lesson.reading_minutes == 15  # 7,002 syllables at 588 a minute + 25 lines of code at 500 an hour


def test_the_lesson_html_speaks_its_courses_language_whatever_the_editors():
    """Names written into the HTML at save time (heading links, code blocks) match the content's lang."""
    long_line = "result = some_function_with_a_long_name(argument_one, argument_two)"
    body = f'## 시작\n\n```python title="예제"\n{long_line}\n```\n'
    with translation.override("en"):
        korean = LessonFactory(course__language="ko", body=body, exercise="### 힌트\n")
        english = LessonFactory(course__language="en", body="## Start\n")
    assert 'aria-label="“시작” 절로 가는 링크"' in korean.body_html
    assert 'aria-label="코드 1: 예제 (python)"' in korean.body_html
    assert 'aria-label="“힌트” 절로 가는 링크"' in korean.exercise_html
    assert 'aria-label="Link to the section “Start”"' in english.body_html
    with translation.override("ko"):
        course = CourseFactory(language="en", description="## About\n")
    assert 'aria-label="Link to the section “About”"' in course.description_html


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


def test_changing_a_courses_language_re_renders_its_lessons():
    """The lessons' stored accessible names follow the course's language when it changes."""
    lesson = LessonFactory(course__language="en", body="## Start\n\nWords.\n")
    assert "Link to the section" in lesson.body_html
    course = lesson.course
    course.language = "ko"
    course.save()
    lesson.refresh_from_db()
    assert "절로 가는 링크" in lesson.body_html


def test_saving_only_the_markdown_still_refreshes_its_html():
    lesson = LessonFactory(body="## Old\n", minutes=None)
    lesson.body = "## New\n\n" + "word " * 600
    lesson.save(update_fields=["body"])
    lesson.refresh_from_db()
    assert '<h2 id="new">' in lesson.body_html
    assert lesson.toc == [{"level": 2, "id": "new", "title": "New"}]
    assert lesson.reading_minutes == 3
