"""With REDIS_URL set, a Redis that is down or goes away degrades the site: no request fails because of it."""

import logging
import socket
import time

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from progress.models import Completion
from tests.accounts.live import free_port
from tests.config.tiny_redis import TinyRedis
from tests.factories import LessonFactory, UserFactory
from web import cache as resilient_cache

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def redis_port(settings, monkeypatch, learner_with_password):
    """The site's cache and sessions on a Redis at a free port, as REDIS_URL configures them; nothing listens yet.

    The learner is made first: saving an account writes to the cache (web.page_cache), which would find
    Redis away before the test begins."""
    port = free_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "web.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        },
        "database": settings.DATABASE_CACHE,
    }
    monkeypatch.setattr(resilient_cache, "health", resilient_cache.RedisHealth())
    return port


@pytest.fixture
def learner_with_password(db):
    learner = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def sign_in(client: Client) -> None:
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302, response.text
    assert client.get("/me/").status_code == 200


def test_pages_and_sign_in_work_while_redis_is_unreachable_and_the_log_says_so_once(
    redis_port, learner_with_password, caplog
):
    lesson = LessonFactory()
    client = Client()
    caplog.set_level(logging.INFO, logger="web.cache")

    assert client.get("/").status_code == 200
    assert client.get(lesson.get_absolute_url()).status_code == 200
    sign_in(client)
    page = client.get(lesson.get_absolute_url())
    assert page.status_code == 200
    assert page.context["user"] == learner_with_password

    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1, "one warning, not one per cache call"
    assert warnings[0].getMessage().startswith("Redis is unreachable (ConnectionError: ")


def test_comments_post_and_their_rate_limit_holds_while_redis_is_unreachable(
    redis_port, learner_with_password, settings
):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "comment": "1/m/user"}
    lesson = LessonFactory()
    client = Client()
    sign_in(client)

    response = client.post(f"/comments/lessons/{lesson.pk}/", {"body": "First comment"})
    assert response.status_code == 302, response.text
    refused = client.post(f"/comments/lessons/{lesson.pk}/", {"body": "Second comment"})
    assert refused.status_code == 429
    assert [comment.body for comment in lesson.comments.order_by("pk")] == ["First comment"]


def test_the_sixth_wrong_password_is_refused_while_redis_is_unreachable(redis_port, learner_with_password):
    """The sign-in lockout is kept in the database's cache table while Redis is away, not switched off."""
    client = Client()
    for attempt in range(1, 7):
        response = client.post("/accounts/login/", {"login": "ada@example.com", "password": f"wrong {attempt}"})
        assert response.status_code in {200, 429}
        locked = "Too many failed login attempts" in response.text
        assert locked == (attempt == 6), attempt
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert "Too many failed login attempts" in response.text, "the right password waits too"


def test_a_redis_that_never_answers_costs_one_timeout_not_one_per_cache_call(redis_port, learner_with_password):
    """A host that accepts connections and then says nothing: each cache call would wait for the read timeout."""
    lesson = LessonFactory()
    with socket.create_server(("127.0.0.1", redis_port)):
        client = Client()
        client.force_login(learner_with_password)
        started = time.perf_counter()
        for _ in range(5):
            assert client.get(lesson.get_absolute_url()).status_code == 200
        elapsed = time.perf_counter() - started
    # One read timeout (0.5 s) and then the cache is skipped, where each of the 5 requests' cache calls
    # would otherwise wait 0.5 s.
    assert elapsed < 1.5


def cache_log(caplog) -> list[str]:
    return [record.levelname for record in caplog.records if record.name == "web.cache"]


def test_redis_going_away_and_coming_back_mid_run(redis_port, learner_with_password, monkeypatch, caplog):
    """A sign-out while Redis is away must not leave the cached session to sign the visitor in again later."""
    monkeypatch.setattr(resilient_cache, "RETRY_AFTER", 0)
    caplog.set_level(logging.INFO, logger="web.cache")
    redis = TinyRedis(redis_port)
    redis.start()
    try:
        client = Client()
        sign_in(client)
        assert redis.data, "the pages' versions are in Redis"
        assert not any(key.startswith(b":1:django.contrib.sessions") for key in redis.data), "sessions are not"
        assert cache_log(caplog) == []

        session = client.cookies["sessionid"].value
        redis.stop()
        assert client.get("/me/").status_code == 200, "the session is read from the database"
        assert client.post("/accounts/logout/").status_code == 302
        assert cache_log(caplog) == ["WARNING"]

        # The process that handled the sign-out dies before Redis is back: another one, knowing nothing of
        # the outage, answers the old cookie.
        monkeypatch.setattr(resilient_cache, "health", resilient_cache.RedisHealth())
        redis.start()
        # The old session cookie, as someone who kept a copy of it would send it.
        thief = Client()
        thief.cookies["sessionid"] = session
        assert thief.get("/me/").status_code == 302, "the ended session stays ended"
        thief.post(f"/progress/lessons/{LessonFactory().pk}/complete/")
        assert not Completion.objects.exists(), "no completion is taken from the ended session"
    finally:
        if redis.server:
            redis.stop()
