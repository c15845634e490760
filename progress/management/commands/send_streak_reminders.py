from django.core.management.base import BaseCommand

from progress import reminders


class Command(BaseCommand):
    help = (
        "Queue the streak reminders due now: one e-mail task per learner who asked for them, whose local time is "
        "in the evening and whose streak ends at midnight unless they learn today. The worker does this every "
        "15 minutes; running it again, or beside the worker, reminds nobody twice."
    )

    def handle(self, *args, **options) -> None:
        queued = reminders.queue_reminders()
        self.stdout.write(f"{len(queued)} streak reminder(s) queued.")
