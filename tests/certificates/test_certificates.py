"""Course certificates: issued once on the last lesson, open to anyone with the link, hidden, revoked."""

import re

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Status
from progress import services
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(title="Python asyncio", slug="asyncio")
    for position in (1, 2, 3):
        LessonFactory(course=course, slug=f"part-{position}", position=position)
    LessonFactory(course=course, slug="draft", position=4, status=Status.DRAFT)
    return course


def complete_all(learner, course):
    for lesson in course.lessons.order_by("position")[:3]:
        services.complete_lesson(learner=learner, lesson=lesson)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_last_published_lesson_issues_one_certificate(course, learner):
    first, second, third = course.lessons.order_by("position")[:3]
    services.complete_lesson(learner=learner, lesson=first)
    services.complete_lesson(learner=learner, lesson=second)
    assert not Certificate.objects.exists()  # the draft does not count, the third lesson does
    outcome = services.complete_lesson(learner=learner, lesson=third)
    certificate = Certificate.objects.get()
    assert outcome.certificates[0].course == course
    assert (certificate.learner, certificate.course, certificate.lesson_count) == (learner, course, 3)
    assert len(certificate.public_id) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", certificate.public_id)
    services.uncomplete_lesson(learner=learner, lesson=third)
    assert services.complete_lesson(learner=learner, lesson=third).certificates == []
    assert Certificate.objects.count() == 1


def test_a_completed_lesson_that_was_unpublished_does_not_stand_in_for_an_unfinished_one(course, learner):
    first, second, third = course.lessons.order_by("position")[:3]
    services.complete_lesson(learner=learner, lesson=first)
    services.complete_lesson(learner=learner, lesson=third)
    third.status = Status.DRAFT  # taken back by its author: two published lessons now, one of them unfinished
    third.save()
    added = LessonFactory(course=course, slug="part-5", position=5)
    services.complete_lesson(learner=learner, lesson=added)
    assert not Certificate.objects.exists(), "two completions of two published lessons, but not the same two"
    services.complete_lesson(learner=learner, lesson=second)
    assert Certificate.objects.get().lesson_count == 3


def test_the_database_refuses_a_second_certificate_of_one_course(course, learner):
    complete_all(learner, course)
    with pytest.raises(IntegrityError):
        Certificate.objects.create(learner=learner, course=course, issued_at=timezone.now(), lesson_count=3)


def test_completions_synced_from_the_browser_issue_the_certificate(course, learner):
    lessons = list(course.lessons.order_by("position").values_list("pk", flat=True))
    result = services.sync_local_completions(learner=learner, lesson_ids=lessons)
    assert [c.course for c in result.outcome.certificates] == [course]
    assert Certificate.objects.get(learner=learner).lesson_count == 3


def test_a_lesson_added_later_takes_nothing_away(course, learner):
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    LessonFactory(course=course, slug="new", position=5)
    response = Client().get(certificate.get_absolute_url())
    assert response.status_code == 200
    assert Certificate.objects.get().lesson_count == 3
    assert "Lessons 3" in text(response)


def test_anyone_with_the_link_sees_the_name_course_date_and_lesson_count(course):
    learner = UserFactory(display_name="Ada Lovelace", time_zone="Asia/Seoul")
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    response = Client().get(certificate.get_absolute_url())
    assert response.status_code == 200
    page = text(response)
    assert "Ada Lovelace" in page and "Python asyncio" in page and "Lessons 3" in page
    issued = timezone.localtime(certificate.issued_at, learner.zone).date().isoformat()
    assert f'<time datetime="{issued}">' in response.content.decode()
    assert "css/certificate" in response.content.decode()  # the print stylesheet
    assert learner.email not in page
    assert Client().get("/certificates/NoSuchCertificateNumber00/").status_code == 404


def test_a_hidden_certificate_is_not_found_but_by_its_learner(course, learner):
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    url = certificate.get_absolute_url()
    owner = signed_in(learner)
    form = owner.get("/me/").content.decode()
    assert f'action="/certificates/{certificate.public_id}/hide/"' in form
    assert owner.post(f"/certificates/{certificate.public_id}/hide/").status_code == 302
    assert Client().get(url).status_code == 404
    assert signed_in(UserFactory()).get(url).status_code == 404
    response = owner.get(url)
    assert response.status_code == 200 and "Hidden" in text(response)
    assert f'action="/certificates/{certificate.public_id}/show/"' in owner.get("/me/").content.decode()
    assert owner.post(f"/certificates/{certificate.public_id}/show/").status_code == 302
    assert Client().get(url).status_code == 200


def test_only_the_learner_can_hide_their_certificate_and_only_with_a_csrf_token(course, learner):
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    other = signed_in(UserFactory())
    assert other.post(f"/certificates/{certificate.public_id}/hide/").status_code == 404
    assert signed_in(learner).get(f"/certificates/{certificate.public_id}/hide/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert strict.post(f"/certificates/{certificate.public_id}/hide/").status_code == 403
    assert Client().post(f"/certificates/{certificate.public_id}/hide/").status_code == 302  # to sign in
    assert not Certificate.objects.get().hidden


def test_staff_revoke_in_the_admin_and_the_page_says_so(course, learner, staff_client, staff):
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    reader = signed_in(learner)
    assert "Revoked" not in text(reader.get("/me/"))  # cached now
    changelist = "/admin/certificates/certificate/"
    assert staff_client.get(changelist).status_code == 200
    selection = {"action": "revoke", "_selected_action": [certificate.pk]}
    asked = staff_client.post(changelist, selection)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert Certificate.objects.get().revoked_at is None
    done = staff_client.post(changelist, {**selection, "apply": "yes", "reason": "Copied the exercises"})
    assert done.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_by == staff and certificate.revocation_reason == "Copied the exercises"
    response = Client().get(certificate.get_absolute_url())
    assert response.status_code == 200
    assert "This certificate was revoked on" in text(response)
    assert "Copied the exercises" not in text(response)
    assert "Revoked" in text(reader.get("/me/"))  # the learner's cached page was made stale
    assert "was revoked" in text(reader.get(course.get_absolute_url()))
    staff_client.post(changelist, {"action": "reinstate", "_selected_action": [certificate.pk]})
    assert Certificate.objects.get().revoked_at is None


def test_the_admin_adds_and_edits_no_certificate(course, learner, staff_client):
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    assert staff_client.get("/admin/certificates/certificate/add/").status_code == 403
    staff_client.post(
        f"/admin/certificates/certificate/{certificate.pk}/change/", {"lesson_count": 99, "hidden": "on"}
    )
    assert Certificate.objects.get().lesson_count == 3


def test_the_course_page_and_my_progress_link_the_certificate_at_once(course, learner):
    reader = signed_in(learner)
    first, second, third = course.lessons.order_by("position")[:3]
    for lesson in (first, second):
        assert reader.post(f"/progress/lessons/{lesson.pk}/complete/").status_code == 302
    reader.get("/me/")  # the messages of the completions; then each page is cached for the reader
    for url in ("/me/", course.get_absolute_url()):
        reader.get(url)
        assert "/certificates/" not in reader.get(url).content.decode()
    assert reader.post(f"/progress/lessons/{third.pk}/complete/").status_code == 302
    reader.get("/")  # shows the message
    certificate = Certificate.objects.get()
    for url in ("/me/", course.get_absolute_url()):
        assert certificate.get_absolute_url() in reader.get(url).content.decode(), url
    assert certificate.get_absolute_url() not in Client().get(course.get_absolute_url()).content.decode()


def test_the_certificate_page_is_in_korean(course, learner):
    complete_all(learner, course)
    url = Certificate.objects.get().get_absolute_url()
    response = Client().get(url, headers={"accept-language": "ko"})
    assert '<html lang="ko">' in response.content.decode()


def test_my_progress_shows_a_certificate_hidden_elsewhere_at_once(course, learner):
    """Hiding from another tab: the reader's cached /me/ is stale at once (the model is a reader model)."""
    complete_all(learner, course)
    certificate = Certificate.objects.get()
    reader, other_tab = signed_in(learner), signed_in(learner)  # (signing in saves the learner, and bumps)
    reader.get("/me/")
    assert "/hide/" in reader.get("/me/").content.decode()  # a cached copy
    assert other_tab.post(f"/certificates/{certificate.public_id}/hide/").status_code == 302
    assert f"/certificates/{certificate.public_id}/show/" in reader.get("/me/").content.decode()
