"""Wait until the database answers, or say in one line which database does not and stop.

`make run` and `make serve` run it before `migrate`: a database that is down, or a DATABASE_URL with a
typo, then reads "The database at db.example.com:5432/stream is not reachable (connection refused). Start
it or fix DATABASE_URL." instead of a page of traceback.
"""

import math
import time

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

PAUSE = 0.5  # seconds between attempts


def describe_location(settings_dict: dict) -> str:
    """host:port/name, without the user or the password."""
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host") or "localhost"
    port = settings_dict.get("PORT") or "5432"
    return f"{host}:{port}/{settings_dict.get('NAME')}"


def describe_error(error: Exception) -> str:
    """libpq's reason in a few words: "connection refused", 'database "x" does not exist', ..."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = first_line.rpartition("failed: ")[2].removeprefix("FATAL:").strip()
    return reason[:1].lower() + reason[1:]


class Command(BaseCommand):
    help = "Wait until the database answers (up to --timeout seconds); exit 1 with one clear line if it does not."
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to keep trying (default: 10)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, timeout: float, database: str, **options) -> None:
        connection = connections[database]
        options = connection.settings_dict.setdefault("OPTIONS", {})
        configured = int(options.get("connect_timeout") or 5)
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            # A host that drops packets holds an attempt until the connect timeout: not past the deadline.
            options["connect_timeout"] = max(1, min(configured, math.ceil(deadline - time.monotonic())))
            try:
                connection.ensure_connection()
            except OperationalError as error:
                if time.monotonic() + PAUSE >= deadline:
                    self.stderr.write(
                        f"The database at {describe_location(connection.settings_dict)} is not reachable "
                        f"({describe_error(error)}). Start it or fix DATABASE_URL."
                    )
                    raise SystemExit(1) from None
                if not waiting:
                    waiting = True
                    self.stdout.write(
                        f"Waiting up to {timeout:.0f} s for the database at "
                        f"{describe_location(connection.settings_dict)} to answer..."
                    )
                time.sleep(PAUSE)
                connection.close()
            else:
                connection.close()
                return
