"""`make backup` and `make restore` (ops/backup.py) against the real server of the tests.

The database the tests fill is committed (transactional tests), dumped by the real command, and
restored into a database of its own on the same server, or back into itself.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from comments import services as comments
from comments.models import Comment, Flag, Notification
from courses.models import Lesson
from ops import backup
from progress import services as progress
from progress.models import Completion, Unlock, XPEntry
from tests.accounts.live import database_url
from tests.factories import StaffFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]


def run_backup(*args: str, url: str | None = None, stdin: str = "", env: dict | None = None):
    environment = (env or {}) | {"DATABASE_URL": url or database_url()}
    return subprocess.run(
        [sys.executable, "-m", "ops.backup", *args],
        cwd=BASE_DIR,
        env=os.environ | environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_backup(directory: Path, url: str | None = None) -> Path:
    result = run_backup("backup", "--directory", str(directory), url=url)
    assert result.returncode == 0, result.stdout + result.stderr
    written = re.search(r"Backup written: (\S+) \(([\d.]+ (?:bytes|KB|MB))", result.stdout)
    assert written, result.stdout
    path = Path(written[1])
    assert path.parent == directory and re.fullmatch(r".+-\d{8}-\d{6}\.dump", path.name)
    return path


def snapshot(url: str) -> dict[str, list[str]]:
    """Every table of the public schema, found in the catalogue, with its rows as text, sorted; and the sequences."""
    with psycopg.connect(url) as database:
        tables = database.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        ).fetchall()
        contents = {
            name: [
                row[0]
                for row in database.execute(
                    sql.SQL("SELECT snapshot_row::text FROM public.{} AS snapshot_row ORDER BY 1").format(
                        sql.Identifier(name)
                    )
                )
            ]
            for (name,) in tables
        }
        for name, last_value in database.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ):
            contents[f"sequence {name}"] = [str(last_value)]
    return contents


def other_database_url(name: str) -> str:
    return database_url().replace(f"/{connection.settings_dict['NAME']}", f"/{name}", 1)


@pytest.fixture
def fresh_database():
    """An empty database beside the test database on the same server, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_url(), autocommit=True) as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield other_database_url(name)
    with psycopg.connect(database_url(), autocommit=True) as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def verified_learner(**fields):
    learner = UserFactory(**fields)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def populate() -> None:
    """The demo course, learners with XP, completions and achievements, a comment thread, a flag."""
    call_command("import_course", BASE_DIR / "content" / "asyncio", verbosity=0)
    lessons = list(Lesson.objects.order_by("position"))
    ada, grace, linus = (verified_learner(display_name=name) for name in ("Ada", "Grace", "Linus"))
    for lesson in lessons:
        progress.complete_lesson(learner=ada, lesson=lesson)
    progress.complete_lesson(learner=grace, lesson=lessons[0])
    progress.adjust_xp(learner=linus, amount=5, note="Bug report", by=StaffFactory())
    question = comments.post_comment(author=ada, lesson=lessons[0], body="Why **await** here?")
    answer = comments.post_comment(author=grace, lesson=lessons[0], body="It yields.", parent=question)
    comments.post_comment(author=ada, lesson=lessons[0], body="Thanks!", parent=answer)
    comments.post_comment(author=linus, lesson=lessons[1], body="Nice lesson.")
    comments.flag_comment(learner=linus, comment=answer, reason="Off topic")
    comments.mark_read(learner=grace)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_new_database_has_every_row(tmp_path, fresh_database):
    populate()
    before = snapshot(database_url())
    assert len(before["courses_lesson"]) >= 5
    assert len(before["accounts_user"]) == 4
    assert XPEntry.objects.count() >= 7 and Completion.objects.count() >= 6 and Unlock.objects.exists()
    assert Comment.objects.filter(parent__isnull=False).count() == 2
    assert Notification.objects.exists() and Flag.objects.count() == 1
    assert sum(len(rows) for rows in before.values()) > 200

    dump = make_backup(tmp_path)
    assert dump.stat().st_mode & 0o077 == 0, "a backup holds password hashes: its owner alone may read it"
    result = run_backup("restore", "--yes", str(dump), url=fresh_database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Restored" in result.stdout

    after = snapshot(fresh_database)
    assert after.keys() == before.keys()
    assert before["stream_cache"], "pages' versions and rate limits were in the shared cache"
    assert after.pop("stream_cache") == [], "a restore empties the shared cache: it describes the old data"
    assert "The shared cache was cleared" in result.stdout
    for table, rows in after.items():
        assert before[table] == rows, table


@pytest.mark.django_db(transaction=True)
def test_restore_asks_first_and_a_no_changes_nothing(tmp_path):
    populate()
    backed_up = snapshot(database_url())
    dump = make_backup(tmp_path)
    verified_learner(display_name="Joined after the backup")
    Comment.objects.filter(parent__isnull=True).first().delete()
    changed = snapshot(database_url())
    assert changed != backed_up
    connection.close()

    for answer in ("n\n", "", "yes please\n"):  # no, no terminal, anything but y/yes
        refused = run_backup("restore", str(dump), stdin=answer)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "[y/N]" in refused.stdout and "Nothing was restored" in refused.stdout
        assert snapshot(database_url()) == changed

    accepted = run_backup("restore", str(dump), stdin="y\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    restored = snapshot(database_url())
    assert restored.pop("stream_cache") == []  # emptied: it described the data before the restore
    assert restored == {table: rows for table, rows in backed_up.items() if table != "stream_cache"}


@pytest.mark.django_db(transaction=True)
def test_a_restore_that_fails_halfway_leaves_the_database_as_it_was(tmp_path):
    populate()
    dump = make_backup(tmp_path)
    verified_learner(display_name="Joined after the backup")
    changed = snapshot(database_url())
    connection.close()
    # Cut off the end: the table definitions read fine, the last table's rows do not.
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(dump.read_bytes()[:-200])

    result = run_backup("restore", "--yes", str(truncated))

    assert result.returncode == 1
    assert "rolled back" in result.stderr and "as it was before" in result.stderr
    assert snapshot(database_url()) == changed


def test_a_missing_or_foreign_file_is_refused_before_any_connection(tmp_path):
    nowhere = "postgresql://stream@127.0.0.1:1/stream"  # nothing listens on port 1
    missing = run_backup("restore", "--yes", str(tmp_path / "stream-20260101-000000.dump"), url=nowhere)
    assert missing.returncode == 1
    assert "stream-20260101-000000.dump: no such file." in missing.stderr

    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a backup")
    refused = run_backup("restore", "--yes", str(foreign), url=nowhere)
    assert refused.returncode == 1
    assert "is not a backup made by `make backup`" in refused.stderr


def fake_client(folder: Path, name: str, major: int) -> Path:
    """A client program that reports ``major`` and records its arguments and PGPASSWORD."""
    program = folder / name
    program.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --version ]; then echo "{name} (PostgreSQL) {major}.1 (Debian)"; exit 0; fi\n'
        f'printf "%s\\n" "$@" > "{folder}/arguments"; printf "%s" "$PGPASSWORD" > "{folder}/password"\n'
        'for argument; do case "$argument" in --file=*) printf PGDMP > "${argument#--file=}";; esac; done\n'
    )
    program.chmod(0o755)
    return program


def test_a_system_client_older_than_the_server_is_passed_over_for_the_embedded_one(tmp_path, monkeypatch):
    """pg_dump refuses to dump a newer server: a v15 system client beside a v18 server must not be used."""
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    fake_client(tmp_path, "pg_dump", 15)
    assert backup.client_program("pg_dump", server_major=18) == backup.embedded_client("pg_dump")
    fake_client(tmp_path, "pg_dump", 18)
    assert backup.client_program("pg_dump", server_major=18) == tmp_path / "pg_dump"
    with pytest.raises(backup.BackupError, match="pg_dump 99 or newer is needed"):
        backup.client_program("pg_dump", server_major=99)


@pytest.mark.django_db
def test_the_password_reaches_pg_dump_in_its_environment_not_on_its_command_line(tmp_path):
    """Any user of the machine can read a process's command line."""
    settings = connection.settings_dict
    password = settings["PASSWORD"] or "stream-test-password"
    url = database_url()
    if not settings["PASSWORD"]:
        url = url.replace(f"{settings['USER']}@", f"{settings['USER']}:{password}@", 1)
    server_major = psycopg.connect(url).info.server_version // 10000
    fake_client(tmp_path, "pg_dump", server_major + 1)

    result = run_backup(
        "backup", "--directory", str(tmp_path / "backups"), url=url, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "password").read_text() == password
    assert password not in (tmp_path / "arguments").read_text()
