"""`make cluster`'s supervisord event listener: when a program dies, kill what it left behind.

supervisord starts each program in a process group of its own and starts it again when it dies, but it
leaves the dead program's children running: gunicorn's workers, nginx's, PostgreSQL's backends. Those hold
the port or the shared memory the new process needs, so it could never start. After each exit this kills
(SIGKILL) every process of supervisord's session whose process group has lost its leader; it does nothing
unless supervisord leads a session of its own, as ops/cluster.py starts it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def session_processes(session: int) -> list[tuple[int, int]]:
    """(pid, process group) of each process in ``session``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if os.getsid(pid) == session:
                found.append((pid, os.getpgid(pid)))
        except OSError:  # gone meanwhile
            continue
    return found


def leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except OSError:
        return False


def orphans(session: int) -> list[int]:
    """Processes of ``session`` whose process group leader is gone."""
    return [
        pid
        for pid, group in session_processes(session)
        if group != session and group != pid and not leads_group(group)
    ]


def kill_orphans(session: int) -> list[int]:
    killed = []
    for pid in orphans(session):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except OSError:
            continue
    return killed


def listen() -> None:
    """supervisord's event listener protocol: READY, a header line with the payload's length, the payload, a result."""
    session = os.getppid()
    if os.getsid(0) != session:
        print("supervisord does not lead a session of its own: orphans are left alone", file=sys.stderr, flush=True)
        session = None
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header = dict(token.split(":", 1) for token in sys.stdin.readline().split())
        payload = sys.stdin.read(int(header["len"]))
        if session is not None and (killed := kill_orphans(session)):
            print(f"{header['eventname']} ({payload}): killed {killed}", file=sys.stderr, flush=True)
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


if __name__ == "__main__":
    listen()
