"""Rate limits hold across the site's processes (gunicorn runs several)."""

import html
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache

from tests.accounts.live import Browser, free_port, site_environment, wait_until_serving
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture
def two_servers():
    """Two `manage.py runserver` processes on the test database: two processes, as gunicorn's workers are."""
    servers = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=site_environment(DEBUG="true"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        servers.append((f"http://127.0.0.1:{port}", process))
    try:
        for url, process in servers:
            wait_until_serving(url, process)
        yield [url for url, _ in servers]
    finally:
        for _, process in servers:
            process.terminate()
            process.wait(timeout=10)


def sign_in(server: str, email: str, password: str) -> str:
    _, page = Browser(server).submit("/accounts/login/", {"login": email, "password": password})
    return html.unescape(page)


def test_a_sign_in_lock_in_one_process_holds_in_another(two_servers):
    """Regression: each gunicorn worker kept its own limits; 17 of 30 wrong passwords were checked."""
    learner = UserFactory(email="ada@example.com")
    # Hashed with few iterations, so the servers (which use the real hashers) check it quickly.
    learner.password = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000)
    learner.save()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    first, second = two_servers

    for _ in range(5):
        assert "you specified are not correct" in sign_in(first, learner.email, "wrong password")
    page = sign_in(second, learner.email, PASSWORD)

    assert "Too many failed login attempts. Try again later." in page


def test_a_flood_of_other_visitors_does_not_wipe_a_sign_in_lock(client):
    """The cache drops a third of its rows past MAX_ENTRIES: records of many other visitors must not get there."""
    learner = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    for _ in range(5):
        client.post("/accounts/login/", {"login": learner.email, "password": "wrong password"})
    cache.set_many({f"visitor-{n}": 1 for n in range(400)})  # what many other visitors leave behind

    page = client.post("/accounts/login/", {"login": learner.email, "password": PASSWORD}).text
    assert "Too many failed login attempts. Try again later." in page
