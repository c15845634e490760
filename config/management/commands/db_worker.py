"""django-tasks-db's worker, made to outlast database outages and workers that died mid-task.

It replaces `manage.py db_worker` (our app comes before django_tasks_db in INSTALLED_APPS), with the same
options. Two things are added:

- A database that goes away (a restart, a failover) no longer ends the worker with an OperationalError:
  it logs, waits and carries on when the database is back. Under honcho (`make run`, `make serve`) a
  worker that exits stops the web server too, so this keeps the whole site up through a restart.
- A task left RUNNING by a worker that was killed (kill -9, out of memory, a lost machine) is put back in
  the queue when a worker starts and after an outage: no worker would take it up otherwise, and the
  e-mail it carries would never be sent, retried or logged. A send never takes longer than its SMTP
  timeout, so a task that has been running for ABANDONED_AFTER is taken as abandoned. A task that did
  finish just before its worker died may then run twice: account e-mail is sent at least once.
"""

import logging
import time
from datetime import timedelta

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from config.logs import log_fields, task_logger

logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(minutes=15)
OUTAGE_PAUSE = 2.0  # seconds between attempts to reach the database again


def release_abandoned_tasks() -> int:
    """Put tasks that have been RUNNING for longer than ABANDONED_AFTER back in the queue; returns how many."""
    released = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - ABANDONED_AFTER
    ).update(status=TaskResultStatus.READY)
    if released:
        logger.warning("Put %d task(s) abandoned by a worker that stopped mid-task back in the queue.", released)
    return released


class Worker(db_worker.Worker):
    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Runs the task as django-tasks-db does, and logs one line: which task, how it ended, how long it took."""
        started = time.perf_counter()
        try:
            super().run_task(db_task_result)
        finally:
            log_fields(
                task_logger,
                {
                    "task": db_task_result.task_path,
                    "id": db_task_result.id,
                    "outcome": db_task_result.status,
                    "attempt": len(db_task_result.worker_ids),
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    def run(self) -> None:
        while self.running:
            try:
                release_abandoned_tasks()
                return super().run()
            except (OperationalError, InterfaceError) as error:
                if not self.running:
                    raise
                logger.warning(
                    "The database is unreachable (%s); the worker tries again every %.0f s.", error, OUTAGE_PAUSE
                )
                # Drop the broken connection, so the next attempt opens a new one.
                connections.close_all()
                time.sleep(OUTAGE_PAUSE)
                close_old_connections()
        return None


class Command(db_worker.Command):
    help = f"{db_worker.Command.help}, surviving database outages and releasing abandoned tasks"

    def handle(self, *args, **options) -> None:
        # The parent builds its Worker by name from its own module; let it build ours.
        original, db_worker.Worker = db_worker.Worker, Worker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
