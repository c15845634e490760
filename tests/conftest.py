import importlib
import signal
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from progress.selectors import level_ladder
from tests.factories import StaffFactory, UserFactory
from web.page_cache import bump_content_generation


def is_cache_query(sql: str) -> bool:
    """Whether ``sql`` is the database cache's (the tests run without REDIS_URL): its table, or the savepoint
    around a write to it, which a GET page makes only there. Query counts of pages leave those out."""
    return settings.CACHES["default"]["LOCATION"] in sql or "SAVEPOINT" in sql


@pytest.fixture
def learner(db):
    return UserFactory()


def keep_ladder() -> None:
    """Put the levels in the shared cache, as a site that has served a page has them: query counts then compare
    like with like (the first page after a content change asks the database for them)."""
    level_ladder()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    """Pages are kept in the cache as in production (the settings turn it off with DEBUG, the default)."""
    settings.PAGE_CACHE_SECONDS = 60


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; the production hasher would spend seconds on each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request in Korean leaves Korean active in its thread."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def database_down():
    """Point the connection at a database that does not exist, as if the server were down; then put it back."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = "stream_no_such_database"
    yield
    connection.close()
    connection.settings_dict["NAME"] = original


@pytest.fixture
def deliver_mail():
    """Runs the real worker (`manage.py db_worker`) until the queue has nothing ready, like `make run` does."""

    def deliver() -> None:
        handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0)
        finally:
            # The worker installs its own Ctrl-C handling; give pytest its own back.
            for number, handler in handlers.items():
                signal.signal(number, handler)

    return deliver


class Clock:
    """The time the code reads (``django.utils.timezone.now``), moved forward as waiting would, without waiting."""

    def __init__(self, real_now) -> None:
        self.real_now = real_now
        self.ahead = timedelta()

    def now(self) -> datetime:
        return self.real_now() + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Moves time forward for the code under test: its threads too (the live server, the worker)."""
    clock = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", clock.now)
    return clock


@pytest.fixture
def clean_cache():
    """The database cache's table outlives transactional tests' flush: start them with no rate limits used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def levels_and_achievements(request):
    """Put back the ladder of the data migration before a transactional test.

    Such tests end by emptying every table, the levels and achievements the migration loaded too;
    the tests after them would find a site without levels.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames
    if transactional:
        request.getfixturevalue("transactional_db")
        from django.apps import apps

        from progress.models import Achievement, Level

        if not Level.objects.exists() and not Achievement.objects.exists():
            importlib.import_module("progress.migrations.0002_levels_and_achievements").load(apps, None)
            # The migration's models send no signals: what the cache kept of the levels before is stale now.
            bump_content_generation()
