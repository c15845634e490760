"""A course's own text is marked with the course's language; the interface keeps the reader's.

Pins Korean lessons announced as English (`<html lang="en">` around Korean text) to a
screen reader reading the English interface, and the reverse.
"""

from html.parser import HTMLParser

import pytest

from courses.models import LessonLink
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _LanguageOfText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        language = next((lang for _, lang in reversed(self.stack) if lang), None)
        if data.strip():
            self.texts.append((" ".join(data.split()), language))


def language_of(page: str, text: str) -> str:
    """The language the page declares for the text node that contains `text` (the innermost `lang`).

    Only the body counts: the document's <title> mixes the lesson's and the site's names.
    """
    parser = _LanguageOfText()
    parser.feed(page[: page.index("<head>")] + page[page.index("</head>") + len("</head>") :])
    found = {language for node, language in parser.texts if text in node}
    assert len(found) == 1, f"{text!r} is in {len(found)} differently marked places (or none)"
    return found.pop()


@pytest.fixture
def korean_lesson():
    course = CourseFactory(
        slug="asyncio",
        language="ko",
        title="파이썬 비동기",
        summary="코스 요약",
        description="코스 설명입니다.",
    )
    LessonFactory(course=course, position=1, slug="first", title="첫 레슨")
    lesson = LessonFactory(
        course=course,
        position=2,
        slug="second",
        title="둘째 레슨",
        summary="레슨 요약",
        body="## 목차 항목\n\n본문 문단입니다.\n",
        exercise="연습 문제입니다.",
    )
    LessonFactory(course=course, position=3, slug="third", title="셋째 레슨")
    LessonLink.objects.create(lesson=lesson, title="공식 문서", url="https://docs.python.org/3/")
    lesson.tags.set([TagFactory(slug="asyncio", name="asyncio")])
    return lesson


def test_a_korean_lesson_read_in_the_english_interface(client, korean_lesson):
    page = client.get("/courses/asyncio/second/", HTTP_ACCEPT_LANGUAGE="en").text
    for content in [
        "파이썬 비동기",
        "둘째 레슨",
        "레슨 요약",
        "목차 항목",
        "본문 문단입니다.",
        "공식 문서",
        "연습 문제입니다.",
    ]:
        assert language_of(page, content) == "ko", content
    for neighbour in ["첫 레슨", "셋째 레슨"]:
        assert language_of(page, neighbour) == "ko", neighbour
    for interface in ["On this page", "Further reading", "Exercise", "Previous lesson", "Next lesson", "Courses"]:
        assert language_of(page, interface) == "en", interface


def test_catalogue_course_and_tag_pages_mark_the_courses_text(client, korean_lesson):
    catalogue = client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    assert language_of(catalogue, "파이썬 비동기") == "ko"
    assert language_of(catalogue, "코스 요약") == "ko"
    assert language_of(catalogue, "lessons") == "en"

    course = client.get("/courses/asyncio/", HTTP_ACCEPT_LANGUAGE="en").text
    for content in ["파이썬 비동기", "코스 요약", "코스 설명입니다.", "첫 레슨", "둘째 레슨"]:
        assert language_of(course, content) == "ko", content
    assert language_of(course, "Lessons") == "en"

    tag = client.get("/tags/asyncio/", HTTP_ACCEPT_LANGUAGE="en").text
    assert language_of(tag, "둘째 레슨") == "ko"
    assert language_of(tag, "파이썬 비동기") == "ko"
    assert language_of(tag, "Lessons tagged") == "en"


def test_an_english_course_read_in_the_korean_interface(client):
    LessonFactory(course__slug="basics", course__language="en", slug="one", title="First steps", body="Plain words.\n")
    page = client.get("/courses/basics/one/", HTTP_ACCEPT_LANGUAGE="ko").text
    assert '<html lang="ko">' in page
    assert language_of(page, "First steps") == "en"
    assert language_of(page, "Plain words.") == "en"
    assert language_of(page, "강의") == "ko"


def test_the_admin_preview_marks_the_lesson_text(staff_client, korean_lesson):
    page = staff_client.get(f"/admin/courses/lesson/{korean_lesson.pk}/preview/", HTTP_ACCEPT_LANGUAGE="en").text
    for content in ["둘째 레슨", "본문 문단입니다.", "연습 문제입니다."]:
        assert language_of(page, content) == "ko", content
    assert language_of(page, "Open it on the site") == "en"


def test_right_to_left_content_gets_its_direction(client):
    LessonFactory(course__slug="arabic", course__language="ar", slug="one", title="مرحبا")
    page = client.get("/courses/arabic/one/").text
    assert '<h1 lang="ar" dir="rtl">مرحبا</h1>' in page
