"""A database that is down when the site starts gets one clear line, not a traceback."""

import os
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from tests.accounts.live import database_url, free_port
from tests.config.test_deploy import BASE_DIR, run_manage


def test_a_database_that_does_not_answer_gets_one_line_that_names_it():
    port = free_port()
    started = time.monotonic()
    result = run_manage(
        "wait_for_database", "--timeout", "1", DATABASE_URL=f"postgresql://stream:secret@127.0.0.1:{port}/stream"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"The database at 127.0.0.1:{port}/stream is not reachable (connection refused). "
        "Start it or fix DATABASE_URL.\n"
    )
    assert "secret" not in result.stdout + result.stderr
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_a_missing_database_is_named_as_such():
    url = urlsplit(database_url())._replace(path="/no_such_database").geturl()
    result = run_manage("wait_for_database", "--timeout", "0", DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.endswith(
        '/no_such_database is not reachable (database "no_such_database" does not exist). '
        "Start it or fix DATABASE_URL.\n"
    )


@pytest.mark.django_db
def test_a_database_that_answers_lets_the_start_go_on_at_once():
    started = time.monotonic()
    result = run_manage("wait_for_database", "--timeout", "5", DATABASE_URL=database_url())
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""
    assert time.monotonic() - started < 5


def test_make_run_and_serve_stop_before_migrate_with_that_line():
    """`make run` and `make serve` migrate first (the _migrate target): no migrate traceback."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    environment["DATABASE_URL"] = f"postgresql://stream@127.0.0.1:{port}/stream"
    result = subprocess.run(
        ["make", "--no-print-directory", "_migrate", "DATABASE_WAIT=1"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"The database at 127.0.0.1:{port}/stream is not reachable (connection refused)." in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "migrate --no-input" not in result.stdout
