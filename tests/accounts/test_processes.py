"""`make serve` runs gunicorn and the task worker together (Procfile, under honcho) and stops both."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.db import connection
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


class DatabaseOutage:
    """A TCP port in front of the test database that can go down and come back, like a restarting server."""

    def __init__(self) -> None:
        settings = connection.settings_dict
        host = settings["HOST"] or settings["OPTIONS"].get("host", "")
        port = int(settings["PORT"] or 5432)
        self.upstream = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}") if host.startswith("/") else (socket.AF_INET, (host, port))
        )
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def url(self) -> str:
        settings = connection.settings_dict
        password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
        user = quote(settings["USER"] or "")
        return f"postgresql://{user}{password}@127.0.0.1:{self.port}/{settings['NAME']}?sslmode=disable"

    def up(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones, as a stopped server does."""
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.socket(self.upstream[0], socket.SOCK_STREAM)
            server.connect(self.upstream[1])
            self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)


def test_the_worker_outlives_a_database_restart_and_sends_what_was_queued_meanwhile(client, unreachable_smtp):
    """Review finding: with the database down for a second or two (a restart), the worker died of an
    OperationalError, and honcho then stopped the web server too: `make serve` and `make run` were gone
    for good, although the site itself recovers from a database restart."""
    database = DatabaseOutage()
    database.up()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"],
        cwd=BASE_DIR,
        env=site_environment(
            DEBUG="true",
            DATABASE_URL=database.url(),
            CONN_MAX_AGE="0",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(unreachable_smtp),
            EMAIL_USE_TLS="false",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(3)  # started and polling the queue
        database.down()
        time.sleep(3)
        database.up()
        time.sleep(1)
        assert worker.poll() is None, "the worker exited while the database was down"

        password = "a long passphrase 42"
        client.post("/accounts/signup/", {"email": "ada@example.com", "password1": password, "password2": password})
        deadline = time.monotonic() + 30
        while not DBTaskResult.objects.exclude(worker_ids=[]).exists():
            assert time.monotonic() < deadline, "the worker never tried to send the e-mail queued after the restart"
            time.sleep(0.5)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
        database.down()
    assert "Could not send the email_confirmation_signup e-mail" in output
