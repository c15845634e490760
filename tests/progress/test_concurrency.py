"""The rules that must hold when one learner's requests arrive at the same instant, against a live server."""

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from progress import services
from progress.models import Achievement, Completion, ExerciseCompletion, LearnerProgress, Rule, Unlock, XPEntry
from tests.factories import AchievementFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def signed_in_opener(live_server, learner, page: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A cookie-keeping opener signed in as ``learner``, and the CSRF token of ``page``."""
    client = Client()
    client.force_login(learner)
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirects)
    opener.addheaders = [
        ("Cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    ]
    with opener.open(f"{live_server.url}{page}") as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())[1]
    csrf_cookie = next(cookie.value for cookie in jar if cookie.name == settings.CSRF_COOKIE_NAME)
    opener.addheaders = [
        ("Cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
                   f"{settings.CSRF_COOKIE_NAME}={csrf_cookie}"),
        ("Referer", live_server.url + page),
    ]  # fmt: skip
    return opener, token


def post_at_once(opener, urls: list[str], token: str, *, fields: dict | None = None) -> list[int]:
    """POST every URL (with ``fields``) from its own thread, all released at the same moment; the status codes."""
    barrier = threading.Barrier(len(urls))
    statuses: list[int] = [0] * len(urls)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **(fields or {})}).encode()

    def post(index: int, url: str) -> None:
        barrier.wait()
        try:
            with opener.open(url, data=data, timeout=60) as response:
                statuses[index] = response.status
        except urllib.error.HTTPError as error:
            statuses[index] = error.code

    threads = [threading.Thread(target=post, args=(index, url)) for index, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """The rules under test decide these answers, not the per-learner limits (tested in test_views.py and
    test_exercises.py). A generous limit is not enough: the limiter's own cache lock gives up after a short
    wait and answers 429, which twenty requests at once on a busy machine reach. No rate, no lock."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "complete_lesson": "",
        "complete_exercise": "",
    }
    cache.clear()
    yield
    cache.clear()


def test_twenty_parallel_completions_of_one_lesson_pay_once(live_server):
    learner = UserFactory()
    lesson = LessonFactory(xp=10)
    Achievement.objects.all().delete()
    # A learner with progress already: their row exists, so nothing but the service's lock orders the requests.
    services.complete_lesson(learner=learner, lesson=LessonFactory(course=lesson.course, xp=5))
    opener, token = signed_in_opener(live_server, learner, lesson.get_absolute_url())
    url = f"{live_server.url}/progress/lessons/{lesson.pk}/complete/"
    statuses = post_at_once(opener, [url] * 20, token)
    assert statuses == [302] * 20
    assert Completion.objects.filter(learner=learner, lesson=lesson).count() == 1
    assert XPEntry.objects.filter(learner=learner).count() == 2
    assert LearnerProgress.objects.get(learner=learner).xp == 15


def test_twenty_parallel_passes_of_one_exercise_pay_once(live_server):
    learner = UserFactory()
    lesson = LessonFactory(xp=10, exercise="Write add.", exercise_checks='assert add(2, 3) == 5, "add adds"')
    Achievement.objects.all().delete()
    services.complete_lesson(learner=learner, lesson=lesson)  # the lesson's own XP: 10
    opener, token = signed_in_opener(live_server, learner, lesson.get_absolute_url())
    url = f"{live_server.url}/progress/exercises/{lesson.pk}/done/"
    statuses = post_at_once(opener, [url] * 20, token)
    assert statuses == [200] * 20
    assert ExerciseCompletion.objects.filter(learner=learner, lesson=lesson).count() == 1
    assert XPEntry.objects.filter(learner=learner, source=f"exercise:{lesson.pk}").count() == 1
    assert LearnerProgress.objects.get(learner=learner).xp == 10 + lesson.exercise_xp


def test_two_lessons_completed_at_once_that_both_cross_a_threshold_unlock_it_once(live_server):
    learner = UserFactory()
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=2, bonus_xp=50)
    services.complete_lesson(learner=learner, lesson=LessonFactory(xp=10))
    first, second = LessonFactory.create_batch(2, xp=10)
    opener, token = signed_in_opener(live_server, learner, first.get_absolute_url())
    urls = [f"{live_server.url}/progress/lessons/{lesson.pk}/complete/" for lesson in (first, second)]
    assert post_at_once(opener, urls, token) == [302, 302]
    assert Completion.objects.filter(learner=learner).count() == 3
    assert Unlock.objects.filter(learner=learner).count() == 1
    assert XPEntry.objects.filter(learner=learner, reason="achievement").count() == 1
    assert LearnerProgress.objects.get(learner=learner).xp == 80


def test_a_learners_second_change_waits_for_the_first_to_commit():
    """Two completions of one learner take turns, so the second counts the first toward an achievement.

    The first has taken the learner's progress and holds its transaction open; the second must wait for
    it (without the lock it would count without the first, and both would try to unlock the achievement).
    """
    from django.db import connection, transaction

    learner = UserFactory()
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=2, bonus_xp=50)
    # Yesterday: the two changes share no row but the learner's progress.
    services.complete_lesson(learner=learner, lesson=LessonFactory(xp=10), at=timezone.now() - timedelta(days=1))
    first, second = LessonFactory.create_batch(2, xp=10)
    first_done, release = threading.Event(), threading.Event()
    second_done = threading.Event()
    errors = []

    def complete_first() -> None:
        try:
            with transaction.atomic():
                # In the middle of its change: the learner's progress is taken, nothing written yet.
                services.lock_progress(learner)
                first_done.set()
                release.wait(10)
                services.complete_lesson(learner=learner, lesson=first)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def complete_second() -> None:
        try:
            first_done.wait(10)
            services.complete_lesson(learner=learner, lesson=second)
        except Exception as error:
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=complete_first), threading.Thread(target=complete_second)]
    for thread in threads:
        thread.start()
    assert first_done.wait(10)
    assert not second_done.wait(1), "the second change went ahead while the first was not committed"
    release.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert Unlock.objects.filter(learner=learner).count() == 1
    assert LearnerProgress.objects.get(learner=learner).xp == 80
