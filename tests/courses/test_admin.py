import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from courses.models import Lesson, Status
from tests.factories import CourseFactory, LessonFactory, StaffFactory, UserFactory

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
        "exercise_xp": 10,
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
    assert staff_client.get("/admin/courses/lesson/", {"state": "draft"}).status_code == 200
    assert staff_client.get("/admin/courses/course/").status_code == 200


def test_preview_needs_staff(client, learner):
    lesson = LessonFactory()
    client.force_login(learner)
    response = client.get(f"/admin/courses/lesson/{lesson.pk}/preview/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]


def course_form(course, lessons: list[dict]) -> dict:
    """The course change form as the admin posts it, with the lessons inline."""
    data = {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "language": course.language,
        "description": course.description,
        "position": course.position,
        "status": course.status,
        "lessons-TOTAL_FORMS": len(lessons),
        "lessons-INITIAL_FORMS": sum(1 for lesson in lessons if lesson.get("id")),
        "lessons-MIN_NUM_FORMS": 0,
        "lessons-MAX_NUM_FORMS": 1000,
    }
    for index, lesson in enumerate(lessons):
        data |= {f"lessons-{index}-{key}": value for key, value in lesson.items()}
        data[f"lessons-{index}-course"] = course.pk
    return data


def inline_row(lesson, **overrides) -> dict:
    row = {
        "id": lesson.pk,
        "position": lesson.position,
        "slug": lesson.slug,
    }
    return row | overrides


def test_an_author_swaps_two_lessons_in_the_course_admin_in_one_save(staff_client):
    """Regression: the inline refused the swap ("Lesson with this Course and Position already exists")."""
    course = CourseFactory()
    first = LessonFactory(course=course, position=1, slug="first")
    second = LessonFactory(course=course, position=2, slug="second")
    data = course_form(course, [inline_row(first, position=2), inline_row(second, position=1)])
    response = staff_client.post(f"/admin/courses/course/{course.pk}/change/", data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert list(course.lessons.order_by("position").values_list("slug", flat=True)) == ["second", "first"]


def test_two_lessons_given_the_same_position_in_the_course_admin_are_refused(staff_client):
    course = CourseFactory()
    first = LessonFactory(course=course, position=1, slug="first")
    second = LessonFactory(course=course, position=2, slug="second")
    data = course_form(course, [inline_row(first, position=3), inline_row(second, position=3, slug="kept-slug")])
    response = staff_client.post(f"/admin/courses/course/{course.pk}/change/", data)
    assert response.status_code == 200
    assert "Please correct the duplicate data for position" in response.text
    assert "kept-slug" in response.text
    assert list(course.lessons.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_a_lesson_moved_onto_a_taken_position_in_its_own_form_gets_a_form_error(staff_client):
    course = CourseFactory()
    LessonFactory(course=course, position=1, slug="first")
    second = LessonFactory(course=course, position=2, slug="second", title="Second")
    data = lesson_form(course, title="Second", slug="second", position=1, status=Status.PUBLISHED)
    response = staff_client.post(f"/admin/courses/lesson/{second.pk}/change/", data)
    assert response.status_code == 200
    assert "already exists" in response.text
    second.refresh_from_db()
    assert second.position == 2


def test_bulk_publishing_dates_only_first_publications(staff_client):
    course = CourseFactory()
    earlier = "2024-03-01T09:00:00Z"
    republished = LessonFactory(course=course, status=Status.DRAFT, published_at=earlier)
    new = LessonFactory(course=course, status=Status.DRAFT, published_at=None)
    staff_client.post("/admin/courses/lesson/", {"action": "publish", "_selected_action": [republished.pk, new.pk]})
    republished.refresh_from_db()
    new.refresh_from_db()
    assert republished.status == new.status == Status.PUBLISHED
    assert republished.published_at.isoformat() == "2024-03-01T09:00:00+00:00"
    assert new.published_at is not None


def test_view_on_site_opens_the_lesson_on_the_host_the_admin_is_using(staff_client):
    """Review finding: under `make run` the admin's "View on site" led to http://localhost/… (port 80).

    The sites framework's domain (SITE_DOMAIN, by default the first of ALLOWED_HOSTS, without a port)
    is put in front of the lesson's path, instead of the host the admin was opened on.
    """
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts")
    admin_page = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/change/", HTTP_HOST="127.0.0.1:8000")
    target = re.search(r'href="([^"]+)"[^>]*class="viewsitelink"', admin_page.text)[1]
    if target.startswith("/admin/r/"):  # Django's redirecting shortcut
        target = staff_client.get(target, HTTP_HOST="127.0.0.1:8000")["Location"]

    assert target in {"/courses/asyncio/timeouts/", "http://127.0.0.1:8000/courses/asyncio/timeouts/"}


def lessons_editor(*permissions: str):
    """A staff account that holds only the given lesson permissions ("view", "change", …)."""
    editor = UserFactory(is_staff=True)
    codenames = [f"{permission}_lesson" for permission in permissions]
    editor.user_permissions.set(Permission.objects.filter(content_type__app_label="courses", codename__in=codenames))
    return editor


def test_staff_without_access_to_lessons_cannot_preview_them(client):
    lesson = LessonFactory(title="Unreleased", status=Status.DRAFT, published_at=None)
    client.force_login(lessons_editor())
    response = client.get(f"/admin/courses/lesson/{lesson.pk}/preview/")
    assert response.status_code == 403
    assert "Your account does not have access to this page." in response.text
    assert "Unreleased" not in response.text


def test_staff_who_may_only_view_lessons_can_neither_publish_nor_unpublish_them(client):
    draft = LessonFactory(status=Status.DRAFT, published_at=None)
    published = LessonFactory()
    client.force_login(lessons_editor("view"))
    assert "Publish the selected lessons" not in client.get("/admin/courses/lesson/").text
    for action, lesson in [("publish", draft), ("unpublish", published)]:
        client.post("/admin/courses/lesson/", {"action": action, "_selected_action": [lesson.pk]})
    assert list(Lesson.objects.order_by("pk").values_list("status", flat=True)) == [Status.DRAFT, Status.PUBLISHED]


def test_the_course_list_counts_each_courses_lessons_drafts_included(staff_client):
    course = CourseFactory(title="Counted")
    LessonFactory.create_batch(2, course=course)
    LessonFactory(course=course, status=Status.DRAFT, published_at=None)
    text = staff_client.get("/admin/courses/course/").text
    assert '<td class="field-lesson_count">3</td>' in text


def test_the_lesson_form_leads_to_the_preview_once_the_lesson_is_saved(staff_client):
    lesson = LessonFactory()
    change = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/change/").text
    assert f'<a href="/admin/courses/lesson/{lesson.pk}/preview/">Preview the lesson</a>' in change
    assert "Save the lesson to preview it." in staff_client.get("/admin/courses/lesson/add/").text


def test_the_preview_of_a_published_lesson_says_so_and_links_to_it_with_its_exercise(staff_client):
    lesson = LessonFactory(course__slug="asyncio", slug="tasks", exercise="Write *two* tasks.")
    text = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/preview/").text
    assert "This lesson is on the site." in text
    assert '<a href="/courses/asyncio/tasks/">Open it on the site</a>' in text
    assert "<h3>Exercise</h3>" in text and "Write <em>two</em> tasks." in text


def test_unpublishing_keeps_the_first_publication_date(staff_client):
    lesson = LessonFactory(published_at="2024-03-01T09:00:00Z")
    response = staff_client.post(
        "/admin/courses/lesson/", {"action": "unpublish", "_selected_action": [lesson.pk]}, follow=True
    )
    assert "1 lesson unpublished." in response.text
    staff_client.post("/admin/courses/lesson/", {"action": "publish", "_selected_action": [lesson.pk]})
    lesson.refresh_from_db()
    assert lesson.status == Status.PUBLISHED
    assert lesson.published_at.isoformat() == "2024-03-01T09:00:00+00:00"


@pytest.mark.django_db(transaction=True)
def test_publishing_from_the_lesson_list_works_outside_a_test_transaction(staff_client):
    """The test database wraps each test in a transaction; the site does not, and the rows must still be locked."""
    lessons = LessonFactory.create_batch(2, status=Status.DRAFT, published_at=None)
    response = staff_client.post(
        "/admin/courses/lesson/",
        {"action": "publish", "_selected_action": [lesson.pk for lesson in lessons]},
        follow=True,
    )
    assert "2 lessons published." in response.text
    assert Lesson.objects.published().count() == 2


def test_staff_find_a_lesson_by_words_of_its_text(staff_client):
    LessonFactory(title="Queues", body="A semaphore limits how many tasks run at once.")
    LessonFactory(title="Something else")
    text = staff_client.get("/admin/courses/lesson/", {"q": "semaphore"}).text
    assert "Queues" in text and "Something else" not in text


def test_staff_read_and_enter_admin_times_in_their_own_time_zone(client):
    """Regression: the admin showed and took times in UTC whatever the staff member's time zone setting."""
    editor = StaffFactory(time_zone="Asia/Seoul")
    client.force_login(editor)
    lesson = LessonFactory(published_at="2026-03-01T00:00:00Z", status=Status.DRAFT)
    form = client.get(f"/admin/courses/lesson/{lesson.pk}/change/").text
    assert 'name="published_at_1" value="09:00:00"' in form

    data = lesson_form(lesson.course, slug=lesson.slug, title=lesson.title, position=lesson.position)
    data |= {"published_at_0": "2026-03-02", "published_at_1": "09:30:00"}
    assert client.post(f"/admin/courses/lesson/{lesson.pk}/change/", data).status_code == 302
    lesson.refresh_from_db()
    assert lesson.published_at.isoformat() == "2026-03-02T00:30:00+00:00"


def test_the_site_keeps_its_own_time_zone_outside_the_admin(client):
    from django.utils import timezone

    client.force_login(StaffFactory(time_zone="Asia/Seoul"))
    client.get("/")
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_lesson_list_says_scheduled_for_when_and_filters_by_state(staff_client):
    LessonFactory(title="Later", published_at="2999-01-01T09:00:00Z")
    LessonFactory(title="Now")
    LessonFactory(title="Unwritten", status=Status.DRAFT, published_at=None)
    page = staff_client.get("/admin/courses/lesson/").text
    assert "Scheduled for Jan. 1, 2999, 9 a.m." in page and "On the site" in page
    scheduled = staff_client.get("/admin/courses/lesson/", {"state": "scheduled"}).text
    assert "Later" in scheduled and "Unwritten" not in scheduled and ">Now<" not in scheduled
