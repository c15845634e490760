"""django-tasks-db's worker, made to outlast database outages and workers that died mid-task.

It replaces `manage.py db_worker` (our app comes before django_tasks_db in INSTALLED_APPS), with the same
options. Added:

- A database that goes away (a restart, a failover) no longer ends the worker with an OperationalError:
  it logs, waits and carries on when the database is back. Under honcho (`make run`, `make serve`) a
  worker that exits stops the web server too, so this keeps the whole site up through a restart.
- A heartbeat in the database every few seconds (worker.heartbeat), and a task left RUNNING by a worker
  whose heartbeat stopped (kill -9, out of memory, a lost machine) is put back in the queue when a worker
  starts, after an outage and every half minute: no worker would take it up otherwise. E-mail is sent
  once all the same (accounts.tasks.send_email).
- One log line per task: which task, how it ended, how long it took.
- ``worker.heartbeat.worker_started`` once a worker that keeps running (not ``--batch``) has started, for the apps
  that keep a recurring task in the queue (the streak reminders' round).
"""

import logging
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from web.logs import log_fields, task_logger
from worker.heartbeat import Heartbeat, announce_start, beat, forget_old_workers, release_abandoned_tasks

logger = logging.getLogger(__name__)

OUTAGE_PAUSE = 2.0  # seconds between attempts to reach the database again


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
        started_at = timezone.now()
        heartbeat = None
        announced = self.batch  # a batch run empties the queue and exits: it keeps no recurring task
        try:
            while self.running:
                try:
                    beat(worker_id=self.worker_id, started_at=started_at)
                    release_abandoned_tasks()
                    forget_old_workers()
                    if heartbeat is None:
                        heartbeat = Heartbeat(worker_id=self.worker_id, started_at=started_at)
                        heartbeat.start()
                    if not announced:
                        announce_start(worker_id=self.worker_id)
                        announced = True
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
        finally:
            if heartbeat is not None:
                heartbeat.stop()


class Command(db_worker.Command):
    help = f"{db_worker.Command.help}, surviving database outages and releasing abandoned tasks"

    def handle(self, *args, **options) -> None:
        # The parent builds its Worker by name from its own module; let it build ours.
        original, db_worker.Worker = db_worker.Worker, Worker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
