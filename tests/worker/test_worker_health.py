"""The worker's heartbeat in the database: /healthz reports it, and a dead worker's task goes back to the queue."""

import logging
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import SentEmail
from accounts.tasks import queue_email
from worker import heartbeat as worker
from worker.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def queue(subject: str = "Subject") -> DBTaskResult:
    with transaction.atomic():
        queue_email(
            message=EmailMessage(subject, "Body", "Stream <noreply@stream.example>", ["ada@example.com"]), kind="test"
        )
    return DBTaskResult.objects.latest("enqueued_at")


def heartbeat(worker_id: str, seconds_ago: float) -> None:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(worker_id=worker_id, host="web-1", pid=1, started_at=seen, seen_at=seen)


def claimed_by(task: DBTaskResult, worker_id: str, seconds_ago: float) -> None:
    DBTaskResult.objects.filter(id=task.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_ids=[worker_id],
    )


def test_healthz_json_reports_the_database_the_worker_and_the_queue(client):
    heartbeat("alive-worker", seconds_ago=2)
    oldest, _, running, failed = queue(), queue(), queue(), queue()
    DBTaskResult.objects.filter(id=oldest.id).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    claimed_by(running, "alive-worker", seconds_ago=1)
    DBTaskResult.objects.filter(id=failed.id).update(status=TaskResultStatus.FAILED)
    retry_later = queue()
    DBTaskResult.objects.filter(id=retry_later.id).update(run_after=timezone.now() + timedelta(minutes=5))

    response = client.get("/healthz?format=json")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"] == {"ok": True}
    assert report["worker"]["alive"] is True
    assert report["worker"]["workers_alive"] == 1
    assert 1 < report["worker"]["last_heartbeat_age_seconds"] < 10
    assert report["queue"]["ready"] == 2, "the one waiting for its retry delay is not ready yet"
    assert (report["queue"]["running"], report["queue"]["failed"]) == (1, 1)
    assert 295 < report["queue"]["oldest_ready_age_seconds"] < 320
    again = client.get("/healthz", HTTP_ACCEPT="application/json").json()["queue"]  # a moment later
    age = again.pop("oldest_ready_age_seconds")
    assert report["queue"].pop("oldest_ready_age_seconds") <= age < 320
    assert again == report["queue"]


def test_healthz_json_says_when_no_worker_is_alive(client):
    assert client.get("/healthz?format=json").json()["worker"] == {
        "alive": False,
        "workers_alive": 0,
        "last_heartbeat": None,
        "last_heartbeat_age_seconds": None,
    }
    heartbeat("stopped-worker", seconds_ago=120)
    report = client.get("/healthz?format=json").json()["worker"]
    assert report["alive"] is False
    assert 119 < report["last_heartbeat_age_seconds"] < 130


def test_healthz_json_is_503_while_the_database_is_down(client, database_down):
    response = client.get("/healthz?format=json")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": {"ok": False, "error": "OperationalError"}}


def test_the_worker_writes_its_heartbeat_while_a_long_task_runs(deliver_mail, settings, monkeypatch):
    monkeypatch.setattr(worker, "HEARTBEAT_INTERVAL", timedelta(seconds=0.05))
    settings.MAILERS = {"default": {"BACKEND": "tests.worker.slow_mail.SlowEmailBackend"}}
    task = queue()

    deliver_mail()

    task.refresh_from_db()
    [beat] = WorkerHeartbeat.objects.all()
    assert beat.worker_id == task.worker_ids[-1]
    assert beat.seen_at > task.started_at + timedelta(seconds=0.3), "beats went on during the 0.5 s send"


def test_a_task_left_running_by_a_dead_worker_is_released_by_a_starting_worker(deliver_mail, caplog):
    """Before heartbeats, a worker killed mid-send held its e-mail back for 15 minutes."""
    heartbeat("killed-worker", seconds_ago=60)
    task = queue()
    claimed_by(task, "killed-worker", seconds_ago=30)

    deliver_mail()

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert "left RUNNING by worker(s) killed-worker" in caplog.text


def test_a_task_of_a_worker_that_still_beats_is_left_alone(deliver_mail):
    heartbeat("busy-worker", seconds_ago=1)
    task = queue()
    claimed_by(task, "busy-worker", seconds_ago=30)

    deliver_mail()

    assert mail.outbox == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_running_worker_releases_a_dead_workers_task_within_its_release_interval(monkeypatch):
    monkeypatch.setattr(worker, "HEARTBEAT_INTERVAL", timedelta(seconds=0.05))
    monkeypatch.setattr(worker, "RELEASE_EVERY", timedelta(seconds=0.1))
    heartbeat("killed-worker", seconds_ago=60)
    task = queue()
    claimed_by(task, "killed-worker", seconds_ago=30)

    thread = worker.Heartbeat(worker_id="running-worker", started_at=timezone.now())
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while DBTaskResult.objects.get(id=task.id).status == TaskResultStatus.RUNNING:
            assert time.monotonic() < deadline, "not released"
            time.sleep(0.05)
    finally:
        thread.stop()
    assert DBTaskResult.objects.get(id=task.id).status == TaskResultStatus.READY


def test_an_email_whose_task_runs_twice_is_sent_once(deliver_mail, caplog):
    """A worker that died after the mail server took the message leaves its task to run again."""
    caplog.set_level(logging.INFO, logger="accounts.tasks")
    task = queue()
    deliver_mail()
    DBTaskResult.objects.filter(id=task.id).update(status=TaskResultStatus.READY, finished_at=None)

    deliver_mail()

    [sent] = mail.outbox
    [record] = SentEmail.objects.all()
    assert sent.message()["Message-ID"] == f"<{record.key}@stream.example>"
    assert DBTaskResult.objects.get(id=task.id).status == TaskResultStatus.SUCCESSFUL
    assert f"The test e-mail {record.key} was sent already" in caplog.text


def test_two_emails_with_the_same_content_are_both_sent(deliver_mail):
    queue(), queue()
    deliver_mail()
    assert len(mail.outbox) == 2
    assert len({message.message()["Message-ID"] for message in mail.outbox}) == 2
