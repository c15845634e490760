"""A worker killed (SIGKILL) while the mail server is still taking an e-mail: another worker sends it, once.

Real processes: two `manage.py db_worker` in turn (tests/worker/quick_worker.py, the heartbeat's timings cut
to tenths of a second) and a mail server in this process that keeps the first message waiting for its answer.
"""

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import SentEmail
from accounts.tasks import queue_email
from tests.accounts.live import site_environment

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]


class SlowMailServer:
    """SMTP on a free loopback port. The first message it is given gets no answer (a slow server at work) until its
    client goes away, and is then dropped, as a server drops a message whose sender vanished before the reply to
    its DATA. Every later message is accepted and kept in ``delivered``."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.holding = threading.Event()  # the first message is in, waiting for its answer
        self.dropped = threading.Event()  # its sender went away
        self.delivered: list[bytes] = []
        self.held_one = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 mail.test ESMTP\r\n")
            while line := lines.readline():
                command = line[:4].upper()
                if command == b"QUIT":
                    connection.sendall(b"221 Bye\r\n")
                    return
                if command != b"DATA":
                    connection.sendall(b"250 OK\r\n")
                    continue
                connection.sendall(b"354 Go ahead\r\n")
                message = b"".join(iter(lines.readline, b".\r\n"))
                if not self.held_one:
                    self.held_one = True
                    self.holding.set()
                    with contextlib.suppress(OSError):
                        while connection.recv(1024):
                            pass
                    self.dropped.set()
                    return
                self.delivered.append(message)
                connection.sendall(b"250 Queued\r\n")


def start_worker(mail_server: SlowMailServer) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker.quick_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"],
        cwd=BASE_DIR,
        env=site_environment(
            DEBUG="true", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(mail_server.port), EMAIL_USE_TLS="false"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    return worker.communicate(timeout=30)[0]


def test_an_email_whose_worker_was_killed_mid_send_is_sent_by_the_next_worker_once():
    mail_server = SlowMailServer()
    with transaction.atomic():
        queue_email(
            message=EmailMessage("Confirm", "Body", "Stream <noreply@stream.example>", ["ada@example.com"]),
            kind="email_confirmation_signup",
        )
    task = DBTaskResult.objects.get()
    first = start_worker(mail_server)
    second = None
    output = ""
    try:
        assert mail_server.holding.wait(60), "the first worker never sent the e-mail"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert mail_server.dropped.wait(10)
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING, "left RUNNING by the killed worker"
        assert not SentEmail.objects.exists()

        second = start_worker(mail_server)
        deadline = time.monotonic() + 30
        while DBTaskResult.objects.get(id=task.id).status != TaskResultStatus.SUCCESSFUL:
            assert time.monotonic() < deadline, "the second worker did not send the e-mail"
            assert second.poll() is None, stop(second)
            time.sleep(0.2)
        time.sleep(1.5)  # some of the second worker's release rounds: nothing runs again
    finally:
        mail_server.close()
        stop(first)
        if second is not None:
            output = stop(second)
    assert first.returncode == -signal.SIGKILL

    task.refresh_from_db()
    assert len(task.worker_ids) == 2, "the task ran again, on the second worker"
    assert task.worker_ids[0] != task.worker_ids[1]
    [message] = mail_server.delivered
    [sent] = SentEmail.objects.all()
    assert f"Message-ID: <{sent.key}@stream.example>".encode() in message
    assert f"left RUNNING by worker(s) {task.worker_ids[0]}" in output, "released by the second worker"
