"""`make serve` runs gunicorn and the task worker together (Procfile, under honcho) and stops both."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.accounts.live import Browser, free_port, site_environment, wait_until_serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

BASE_DIR = Path(__file__).resolve().parents[2]


def running_in_groups(groups: list[int]) -> list[str]:
    """The processes, not yet exited, of the given process groups (honcho starts each command in its own)."""
    running = []
    for process in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if os.getpgid(process.pid) in groups and process.info["status"] != psutil.STATUS_ZOMBIE:
                running.append(" ".join(process.info["cmdline"]))
        except ProcessLookupError:
            pass
    return running


def test_the_worker_runs_beside_the_web_server_and_both_stop_on_sigterm(unreachable_smtp):
    port = free_port()
    environment = site_environment(
        DEBUG="true",
        HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(unreachable_smtp),
        EMAIL_USE_TLS="false",
    )
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-e", "/dev/null", "-p", str(port)],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        server = f"http://127.0.0.1:{port}"
        wait_until_serving(server, honcho)
        password = "a long passphrase 42"
        status, _ = Browser(server).submit(
            "/accounts/signup/", {"email": "ada@example.com", "password1": password, "password2": password}
        )
        assert status == 302, "signed up although the mail server is down"

        deadline = time.monotonic() + 60
        while not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exclude(worker_ids=[]).exists():
            assert time.monotonic() < deadline, "the worker never tried to send the e-mail"
            time.sleep(0.5)
    finally:
        honcho.send_signal(signal.SIGTERM)
        output = honcho.communicate(timeout=30)[0]

    assert "SIGTERM received" in output
    children = [int(pid) for pid in re.findall(r"(?:web|worker)\.1 started \(pid=(\d+)\)", output)]
    assert len(children) == 2
    assert running_in_groups(children) == []
    assert "Could not send the email_confirmation_signup e-mail to a recipient at example.com" in output
