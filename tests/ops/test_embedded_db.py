"""The embedded server shared by several `make run` / `make test` in one checkout (a real PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def environment(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["STREAM_PGDATA"] = str(tmp_path / "pgdata")
    yield env
    subprocess.run([sys.executable, "-m", "ops.embedded_db", "stop"], cwd=BASE_DIR, env=env, check=False)


def run_command(environment, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops.embedded_db", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def embedded_db(environment, *args: str) -> str:
    """``python -m ops.embedded_db <args>``'s output, once it has succeeded."""
    result = run_command(environment, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def start_user(environment) -> subprocess.Popen:
    """`embedded_db run -- sleep`, as `make run` does with the web server; returns once it is registered."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.embedded_db", "run", "--", "sleep", "300"], cwd=BASE_DIR, env=environment
    )
    registration = Path(environment["STREAM_PGDATA"] + ".users") / str(process.pid)
    deadline = time.monotonic() + 60
    while not registration.exists():
        assert process.poll() is None, "the run command ended early"
        assert time.monotonic() < deadline, "the run command did not start the server in 60 s"
        time.sleep(0.1)
    return process


def finish(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) is not None


def test_only_the_last_user_of_the_embedded_server_stops_it(environment):
    """Regression: with two `make run` in one checkout, stopping either stopped the database under the other."""
    first = start_user(environment)
    second = start_user(environment)
    assert embedded_db(environment, "status") == "running"

    finish(first)
    assert embedded_db(environment, "status") == "running"

    finish(second)
    assert embedded_db(environment, "status") == "stopped"


def test_a_server_started_by_hand_outlives_the_runs_that_used_it(environment):
    embedded_db(environment, "start")
    finish(start_user(environment))
    assert embedded_db(environment, "status") == "running"


def test_with_database_url_set_no_embedded_server_is_made(environment):
    """`make db` beside a configured DATABASE_URL must not start a second, unused server."""
    environment["DATABASE_URL"] = "postgresql://stream@db.example.com/stream"
    result = run_command(environment, "start")
    assert result.returncode == 0
    assert "DATABASE_URL is set, so the embedded server is not used." in result.stdout
    assert not Path(environment["STREAM_PGDATA"]).exists()


def test_run_ends_with_the_commands_exit_status(environment):
    """`make test` fails when the suite fails, and a command killed by a signal exits 128 + its number."""
    environment["DATABASE_URL"] = "postgresql://stream@db.example.com/stream"
    assert run_command(environment, "run", "--", "sh", "-c", "exit 3").returncode == 3
    assert run_command(environment, "run", "--", "sh", "-c", "kill -TERM $$").returncode == 128 + signal.SIGTERM


def test_ctrl_c_ends_run_without_an_error(environment):
    """Ctrl-C is how a developer stops `make run`: make must not report it as a failure."""
    environment["DATABASE_URL"] = "postgresql://stream@db.example.com/stream"
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.embedded_db", "run", "--", "sleep", "300"],
        cwd=BASE_DIR,
        env=environment,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not psutil.Process(process.pid).children():
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
    assert process.wait(timeout=60) == 0


def test_an_unknown_command_is_refused_with_the_usage(environment):
    result = run_command(environment, "restart")
    assert result.returncode == 2
    assert "usage: python -m ops.embedded_db start|stop|status|url|run" in result.stderr
