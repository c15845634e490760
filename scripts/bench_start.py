"""Time a restart of `make serve` with nothing changed: from the command to the first 200 of /healthz.

    make bench                                   # among the others
    .venv/bin/python scripts/bench_start.py [--rounds 5]

Each round runs the real `make serve` (its collectstatic --if-changed, gunicorn, the task worker under honcho)
on a free loopback port against the configured database, waits for /healthz to answer 200, then stops it with
SIGTERM as Ctrl-C would. The first round collects whatever changed and is not counted; the median and range of
the others are printed against the target.
"""

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import ROOT, free_port

TARGET = 3.0  # seconds to the first 200 with nothing changed


def first_answer(port: int) -> float:
    """Seconds from starting `make serve` to /healthz answering 200; the server is stopped before returning."""
    environment = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    }
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        server = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"PORT={port}"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                        if response.status == 200:
                            return time.monotonic() - started
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() - started > 120:
                    log.seek(0)
                    sys.exit(f"make serve did not answer:\n{log.read().decode(errors='replace')}")
                time.sleep(0.02)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    first_answer(free_port())  # collects what changed since the last collect
    times = [first_answer(free_port()) for _ in range(arguments.rounds)]
    median = statistics.median(times)
    print(
        f"restart, nothing changed: first 200 in {median:.2f} s median "
        f"({min(times):.2f} to {max(times):.2f} s over {len(times)} rounds); target ≤ {TARGET:.1f} s "
        + ("met" if median <= TARGET else "NOT met")
    )


if __name__ == "__main__":
    main()
