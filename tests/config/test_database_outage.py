"""A database that is down or restarting: 503 pages while it is away, service again as soon as it is back."""

import logging
import subprocess
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client

from tests.accounts.live import free_port, site_environment, wait_until_serving
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def client_without_exceptions():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_while_the_database_is_down_is_a_503_in_the_site_layout_and_language(
    client_without_exceptions, database_down, settings, debug
):
    settings.DEBUG = debug
    response = client_without_exceptions.get("/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert '<html lang="ko">' in response.text
    assert 'class="site-header"' in response.text
    assert "사이트를 잠시 사용할 수 없습니다" in response.text
    assert "Traceback" not in response.text


@pytest.fixture
def signed_in_then_database_down(client_without_exceptions, request):
    client_without_exceptions.force_login(UserFactory())
    request.getfixturevalue("database_down")


def test_a_signed_in_visitor_gets_the_503_page_too(client_without_exceptions, signed_in_then_database_down):
    """The session is read in a middleware, before any view: the 500 handler answers 503 there."""
    response = client_without_exceptions.get("/me/")
    assert response.status_code == 503
    assert "The site is briefly unavailable" in response.text


def test_a_script_gets_json_while_the_database_is_down(client_without_exceptions, signed_in_then_database_down):
    response = client_without_exceptions.post("/progress/sync/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json() == {"error": "The site cannot reach its database at the moment. Please try again shortly."}


def test_the_log_says_so_once_not_once_per_request(client_without_exceptions, database_down, caplog, monkeypatch):
    from config import views

    monkeypatch.setattr(views, "_warned_at", -views.WARN_EVERY)
    for _ in range(3):
        assert client_without_exceptions.get("/").status_code == 503
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage()[:47] for record in problems] == ["The database is unreachable (OperationalError: "]
    assert "Traceback" not in caplog.text


@pytest.fixture
def gunicorn():
    """The site under gunicorn with one worker, as `make serve` runs it: one process, one persistent connection."""
    port = free_port()
    process = subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--no-control-socket"],
        cwd=BASE_DIR,
        env=site_environment(DEBUG="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_same_process_serves_again_after_its_database_connection_was_cut(gunicorn):
    """A database restart cuts the web process's persistent connection: the next request must not fail."""
    lesson = LessonFactory()
    url = gunicorn + lesson.get_absolute_url()
    with urllib.request.urlopen(url) as response:
        assert response.status == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [test_connection] = cursor.fetchone()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid NOT IN (pg_backend_pid(), %s) AND backend_type = 'client backend'",
            [test_connection],
        ).fetchall()
    assert cut, "the web process's connection was found and cut"

    with urllib.request.urlopen(url) as response:
        assert response.status == 200
