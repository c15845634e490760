from django.core.management.base import BaseCommand

from courses import revisions


class Command(BaseCommand):
    help = (
        "Publish every draft of changes whose scheduled time has come. The worker does it at that time; this is "
        "the safety net for a task that was lost (a web process that stopped between a save and its task)."
    )

    def handle(self, *args, **options) -> None:
        # One lesson at a time, each in its own transaction and under its row's lock, as the worker's task does.
        published = [
            lesson_id for lesson_id in revisions.due_drafts() if revisions.publish_due_draft(lesson_id=lesson_id)
        ]
        self.stdout.write(f"{len(published)} scheduled draft(s) of changes published.")
