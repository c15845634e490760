from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "progress"
    verbose_name = _("Progress")

    def ready(self) -> None:
        from config.worker import worker_started
        from progress.reminders import schedule_on_worker_start

        worker_started.connect(schedule_on_worker_start, dispatch_uid="progress:streak-reminder-round")
