from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "progress"
    verbose_name = _("Progress")

    def ready(self) -> None:
        from progress.reminders import schedule_on_worker_start
        from worker.heartbeat import worker_started

        worker_started.connect(schedule_on_worker_start, dispatch_uid="progress:streak-reminder-round")
