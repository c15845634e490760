from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life of each task worker (`manage.py db_worker`), written every few seconds.

    In the database, so the web processes can report it (/healthz?format=json) and another worker can tell a
    worker that died with a task in hand from one still sending (worker.heartbeat.release_abandoned_tasks).
    """

    worker_id = models.CharField(primary_key=True, max_length=64)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host} (pid {self.pid})"
