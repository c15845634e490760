"""`manage.py check_integrity`: one line per rule the data must keep, PASS or FAIL with counts (ops.integrity)."""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.integrity import FOLLOW_GRACE, run_checks


class Command(BaseCommand):
    help = (
        "Checks that XP totals equal the ledger, that nothing was completed, passed, paid, unlocked or notified "
        "twice, and that every notification the comment rules promise exists; with --markers, that each comment a "
        "load test posted is stored once. Exits non-zero when a check fails."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--markers",
            type=Path,
            help="A file of the unique markers a load test put in its comments, one a line "
            "(a line ending in ' ?' is a post whose answer never came: stored at most once).",
        )

        parser.add_argument(
            "--follow-grace",
            type=float,
            default=FOLLOW_GRACE.total_seconds(),
            help="Seconds before a comment within which a follow is not yet owed its notification "
            "(it may have been committed after the comment read the followers). Default: %(default)s.",
        )

    def handle(self, *args, markers: Path | None = None, follow_grace: float, **options) -> None:
        results = run_checks(markers=markers, follow_grace=timedelta(seconds=follow_grace))
        for result in results:
            style = self.style.SUCCESS if result.passed else self.style.ERROR
            self.stdout.write(style(result.line()))
        failed = [result for result in results if not result.passed]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} integrity checks failed.")
