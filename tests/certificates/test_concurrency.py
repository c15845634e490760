"""Completions of a course's last lessons arriving at the same instant issue one certificate, against a live server."""

import pytest
from django.core.cache import cache

from certificates.models import Certificate
from tests.factories import CourseFactory, LessonFactory, UserFactory
from tests.progress.test_concurrency import post_at_once, signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_parallel_completions_of_every_lesson_issue_one_certificate(live_server):
    learner = UserFactory()
    course = CourseFactory()
    lessons = [LessonFactory(course=course, position=n) for n in range(1, 7)]
    opener, token = signed_in_opener(live_server, learner, lessons[0].get_absolute_url())
    urls = [f"{live_server.url}/progress/lessons/{lesson.pk}/complete/" for lesson in lessons for _ in range(2)]
    statuses = post_at_once(opener, urls, token)
    assert set(statuses) == {302}
    certificate = Certificate.objects.get()
    assert (certificate.learner, certificate.course, certificate.lesson_count) == (learner, course, 6)
