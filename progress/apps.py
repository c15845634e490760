from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "progress"
    verbose_name = _("Progress")

    def ready(self) -> None:
        from accounts import privacy as account_privacy
        from progress import privacy
        from progress.reminders import schedule_on_worker_start
        from worker.heartbeat import worker_started

        account_privacy.register("progress", export=privacy.export)
        worker_started.connect(schedule_on_worker_start, dispatch_uid="progress:streak-reminder-round")
