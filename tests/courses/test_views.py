import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import LessonLink, Status
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db


def make_course(lesson_count: int, tag_count: int = 3):
    course = CourseFactory(slug="asyncio")
    tags = TagFactory.create_batch(tag_count)
    lessons = [LessonFactory(course=course, position=n, slug=f"lesson-{n}") for n in range(1, lesson_count + 1)]
    for lesson in lessons:
        lesson.tags.set(tags)
        LessonLink.objects.create(lesson=lesson, title="Docs", url="https://docs.python.org/3/")
    return course, lessons, tags


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_lessons(course, tags, start: int, stop: int) -> None:
    for n in range(start, stop):
        lesson = LessonFactory(course=course, position=n, slug=f"lesson-{n}")
        lesson.tags.set(tags)
        LessonLink.objects.create(lesson=lesson, title="Docs", url="https://docs.python.org/3/")
        LessonFactory(course=CourseFactory(), position=1).tags.set(tags)


@pytest.mark.parametrize("url", ["/", "/courses/asyncio/", "/courses/asyncio/lesson-2/", "/tags/{tag}/"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "staff"])
def test_pages_run_the_same_number_of_queries_for_1_and_50_lessons(client, staff, url, signed_in):
    course, _, tags = make_course(2)
    url = url.format(tag=tags[0].slug)
    if signed_in:
        client.force_login(staff)
    few = count_queries(client, url)
    add_lessons(course, tags, start=3, stop=51)
    assert count_queries(client, url) == few
    assert few <= (4 if not signed_in else 6)


def test_catalogue_lists_published_courses_with_lesson_counts(client):
    make_course(3)
    CourseFactory(title="Secret draft course", status=Status.DRAFT)
    response = client.get("/")
    assert "3 lessons" in response.text
    assert "Secret draft course" not in response.text


def test_course_page_lists_lessons_in_order_with_reading_times(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=2, title="Second lesson")
    LessonFactory(course=course, position=1, title="First lesson", minutes=22)
    text = client.get("/courses/asyncio/").text
    assert text.index("First lesson") < text.index("Second lesson")
    assert "~22 min" in text


def test_lesson_page_shows_position_state_tags_code_and_neighbours(client):
    _, _, tags = make_course(3)
    text = client.get("/courses/asyncio/lesson-2/").text
    assert "Lesson 02 of 03" in text
    assert "published" in text
    assert f'href="/tags/{tags[0].slug}/"' in text
    assert '<span class="code-title">Hello</span>' in text
    assert 'href="/courses/asyncio/lesson-1/" rel="prev"' in text
    assert 'href="/courses/asyncio/lesson-3/" rel="next"' in text
    assert 'href="https://docs.python.org/3/"' in text


def test_first_lesson_has_no_previous_link(client):
    make_course(2)
    text = client.get("/courses/asyncio/lesson-1/").text
    assert 'rel="prev"' not in text
    assert 'rel="next"' in text


def test_tag_page_lists_lessons_with_the_tag(client):
    _, lessons, tags = make_course(2)
    other = LessonFactory(title="Untagged lesson")
    text = client.get(f"/tags/{tags[0].slug}/").text
    assert lessons[0].title in text and lessons[1].title in text
    assert other.title not in text


def test_draft_lesson_is_404_for_visitors_and_learners(client, learner):
    LessonFactory(course__slug="asyncio", slug="draft", status=Status.DRAFT, published_at=None)
    assert client.get("/courses/asyncio/draft/").status_code == 404
    client.force_login(learner)
    assert client.get("/courses/asyncio/draft/").status_code == 404


def test_draft_lesson_is_shown_to_staff_marked_as_draft(staff_client):
    LessonFactory(course__slug="asyncio", slug="draft", status=Status.DRAFT, published_at=None)
    response = staff_client.get("/courses/asyncio/draft/")
    assert response.status_code == 200
    assert "draft — visible to staff only" in response.text


def test_draft_lessons_are_left_out_of_course_pages_and_navigation(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, slug="one")
    LessonFactory(course=course, position=2, slug="hidden", title="Hidden draft", status=Status.DRAFT)
    LessonFactory(course=course, position=3, slug="three")
    assert "Hidden draft" not in client.get("/courses/asyncio/").text
    text = client.get("/courses/asyncio/one/").text
    assert "Lesson 01 of 02" in text
    assert 'href="/courses/asyncio/three/" rel="next"' in text


def test_draft_course_is_404_for_visitors(client):
    CourseFactory(slug="soon", status=Status.DRAFT)
    assert client.get("/courses/soon/").status_code == 404


def test_unknown_pages_are_404(client):
    assert client.get("/courses/nope/").status_code == 404
    assert client.get("/courses/nope/nothing/").status_code == 404
    assert client.get("/tags/nothing/").status_code == 404


def test_a_scheduled_lesson_is_404_for_visitors_and_marked_for_staff(client, staff):
    LessonFactory(course__slug="asyncio", slug="soon", published_at="2999-01-01T09:00:00Z")
    assert client.get("/courses/asyncio/soon/").status_code == 404
    client.force_login(staff)
    assert "scheduled for Jan. 1, 2999" in client.get("/courses/asyncio/soon/").text


def test_staff_see_draft_courses_in_the_catalogue_marked_as_drafts(staff_client):
    CourseFactory(title="Upcoming course", status=Status.DRAFT)
    text = staff_client.get("/").text
    assert "Upcoming course" in text
    assert "Draft" in text
