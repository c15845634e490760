from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    """The task worker: `manage.py db_worker` (django-tasks-db's, made to outlast outages) and its heartbeat."""

    name = "worker"
    verbose_name = _("Task worker")
