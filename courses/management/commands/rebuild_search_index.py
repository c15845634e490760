from django.core.management.base import BaseCommand
from django.db import transaction

from courses import search
from courses.models import SearchEntry


class Command(BaseCommand):
    help = "Write the search entry of every lesson and course afresh (after lessons written with bulk_create)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            search.reindex_all()
        self.stdout.write(f"{SearchEntry.objects.count()} search entries written.")
