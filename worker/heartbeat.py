"""The task worker's heartbeat, the release of tasks left behind by a worker that died, and the queue's state.

Each worker (worker/management/commands/db_worker.py) writes a heartbeat row every HEARTBEAT_INTERVAL
seconds from a thread of its own, so a long task does not silence it. A worker whose heartbeat is older
than STALE_AFTER is taken as dead: the tasks it left RUNNING go back to the queue, when a worker starts
and every RELEASE_EVERY seconds after, instead of after ABANDONED_AFTER as before heartbeats.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.db.models import Case, Count, F, Max, Min, Q, When
from django.dispatch import Signal
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from worker.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = timedelta(seconds=5)
STALE_AFTER = 3 * HEARTBEAT_INTERVAL
RELEASE_EVERY = timedelta(seconds=30)
# A worker that still beats but has been on one task this long is stuck: its task goes to another worker.
# A send never takes longer than its SMTP timeout.
ABANDONED_AFTER = timedelta(minutes=15)
FORGET_WORKERS_AFTER = timedelta(days=7)

# Sent once by each worker that keeps running when it starts (not by `db_worker --batch`, which empties the
# queue and exits): an app with a recurring task makes sure the task waits in the queue (progress.reminders).
worker_started = Signal()


def announce_start(*, worker_id: str) -> None:
    """Send ``worker_started``. A receiver's database error is raised (the worker waits the outage out and
    announces again); any other error is logged, and the worker goes on with its tasks."""
    for receiver, outcome in worker_started.send_robust(sender=None, worker_id=worker_id):
        if isinstance(outcome, DatabaseError):
            raise outcome
        if isinstance(outcome, Exception):
            logger.error("A worker_started receiver failed: %r: %s: %s", receiver, type(outcome).__name__, outcome)


def beat(*, worker_id: str, started_at: datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": timezone.now()},
        create_defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


def release_abandoned_tasks() -> int:
    """Put back in the queue the RUNNING tasks of workers that stopped beating (or that hang); returns how many.

    A task that did finish just before its worker died may then run again: e-mail is sent once all the same
    (accounts.tasks.send_email's idempotency key).
    """
    now = timezone.now()
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=now - STALE_AFTER).values_list("worker_id", flat=True))
    running = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - STALE_AFTER
    ).values_list("id", "worker_ids", "started_at")
    released = []
    for task_id, worker_ids, started_at in running:
        worker = worker_ids[-1] if worker_ids else None
        if worker in alive and started_at >= now - ABANDONED_AFTER:
            continue
        # Only if it is still that run: the task may have ended and been claimed again meanwhile.
        still_running = DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING, started_at=started_at)
        if still_running.update(status=TaskResultStatus.READY):
            released.append(worker)
    if released:
        logger.warning(
            "Put %d task(s) back in the queue, left RUNNING by worker(s) %s that stopped (or hang) mid-task.",
            len(released),
            ", ".join(sorted({str(worker) for worker in released})),
        )
    return len(released)


def forget_old_workers() -> None:
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - FORGET_WORKERS_AFTER).delete()


class Heartbeat(threading.Thread):
    """Beats every HEARTBEAT_INTERVAL and releases dead workers' tasks every RELEASE_EVERY, until stopped."""

    def __init__(self, *, worker_id: str, started_at: datetime) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = started_at
        self.stopped = threading.Event()
        self.failing = False

    def run(self) -> None:
        interval = HEARTBEAT_INTERVAL.total_seconds()
        beats_per_release = max(1, round(RELEASE_EVERY / HEARTBEAT_INTERVAL))
        count = 0
        try:
            while not self.stopped.wait(interval):
                count += 1
                try:
                    beat(worker_id=self.worker_id, started_at=self.started_at)
                    if count % beats_per_release == 0:
                        release_abandoned_tasks()
                except DatabaseError as error:
                    # The worker's loop says that the database is unreachable; a new connection next time.
                    if not self.failing:
                        logger.warning("The worker's heartbeat could not be written: %s", error)
                    self.failing = True
                    connection.close()
                else:
                    self.failing = False
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


@dataclass(frozen=True)
class WorkerState:
    last_heartbeat: datetime | None
    workers_alive: int

    @property
    def alive(self) -> bool:
        return self.workers_alive > 0


def worker_state() -> WorkerState:
    now = timezone.now()
    summary = WorkerHeartbeat.objects.aggregate(
        last=Max("seen_at"), alive=Count("worker_id", filter=Q(seen_at__gte=now - STALE_AFTER))
    )
    return WorkerState(last_heartbeat=summary["last"], workers_alive=summary["alive"])


@dataclass(frozen=True)
class QueueState:
    ready: int
    running: int
    failed: int
    oldest_ready_since: datetime | None


def queue_state() -> QueueState:
    """The queue's depth in one query. A task is ready since it was queued, or since its retry delay ended."""
    now = timezone.now()
    no_delay = get_date_max()
    ready = Q(status=TaskResultStatus.READY) & (Q(run_after=no_delay) | Q(run_after__lte=now))
    summary = DBTaskResult.objects.aggregate(
        ready=Count("id", filter=ready),
        running=Count("id", filter=Q(status=TaskResultStatus.RUNNING)),
        failed=Count("id", filter=Q(status=TaskResultStatus.FAILED)),
        oldest_ready_since=Min(
            Case(When(run_after=no_delay, then=F("enqueued_at")), default=F("run_after")), filter=ready
        ),
    )
    return QueueState(**summary)
