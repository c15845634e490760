import pytest
from django.test import Client

from courses.models import Lesson, Status
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db


def lesson_form(course, **overrides) -> dict:
    data = {
        "course": course.pk,
        "title": "Timeouts",
        "slug": "timeouts",
        "position": 1,
        "status": Status.DRAFT,
        "summary": "Stop waiting forever.",
        "body": '## Why\n\n```python title="A timeout"\nasync with asyncio.timeout(1):\n    ...\n```\n',
        "exercise": "Add a timeout.",
        "xp": 25,
        "links-TOTAL_FORMS": 1,
        "links-INITIAL_FORMS": 0,
        "links-MIN_NUM_FORMS": 0,
        "links-MAX_NUM_FORMS": 1000,
        "links-0-position": 0,
        "links-0-title": "asyncio.timeout",
        "links-0-url": "https://docs.python.org/3/library/asyncio-task.html#timeouts",
    }
    return data | overrides


def test_staff_creates_a_draft_previews_it_and_publishes_it(staff_client):
    visitor = Client()
    course = CourseFactory(slug="asyncio")
    response = staff_client.post("/admin/courses/lesson/add/", lesson_form(course))
    assert response.status_code == 302, response.context["adminform"].form.errors
    lesson = Lesson.objects.get(slug="timeouts")
    assert lesson.status == Status.DRAFT
    assert '<span class="code-title">A timeout</span>' in lesson.body_html
    assert lesson.links.get().title == "asyncio.timeout"
    assert visitor.get("/courses/asyncio/timeouts/").status_code == 404

    preview = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/preview/")
    assert preview.status_code == 200
    assert '<span class="code-title">A timeout</span>' in preview.text
    assert "not on the site yet" in preview.text

    response = staff_client.post(
        "/admin/courses/lesson/", {"action": "publish", "_selected_action": [lesson.pk]}, follow=True
    )
    assert "1 lesson published." in response.text
    lesson.refresh_from_db()
    assert lesson.status == Status.PUBLISHED and lesson.published_at is not None
    assert visitor.get("/courses/asyncio/timeouts/").status_code == 200


def test_a_lesson_form_with_errors_keeps_what_was_typed(staff_client):
    course = CourseFactory()
    response = staff_client.post("/admin/courses/lesson/add/", lesson_form(course, slug="not a slug!"))
    assert response.status_code == 200
    assert "Stop waiting forever." in response.text
    assert not Lesson.objects.exists()


def test_bulk_unpublish_hides_lessons(staff_client):
    course = CourseFactory()
    lessons = LessonFactory.create_batch(2, course=course)
    staff_client.post(
        "/admin/courses/lesson/", {"action": "unpublish", "_selected_action": [lesson.pk for lesson in lessons]}
    )
    assert not Lesson.objects.published().exists()


def test_admin_lists_search_and_filter(staff_client):
    LessonFactory(title="Queues and workers")
    LessonFactory(title="Something else")
    text = staff_client.get("/admin/courses/lesson/", {"q": "Queues"}).text
    assert "Queues and workers" in text and "Something else" not in text
    assert staff_client.get("/admin/courses/lesson/", {"status__exact": "draft"}).status_code == 200
    assert staff_client.get("/admin/courses/course/").status_code == 200


def test_preview_needs_staff(client, learner):
    lesson = LessonFactory()
    client.force_login(learner)
    response = client.get(f"/admin/courses/lesson/{lesson.pk}/preview/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]
