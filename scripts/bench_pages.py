"""Time the public pages: the demo course's, or a large site's in a database of its own.

    make bench                                   # both runs below
    .venv/bin/python scripts/bench_pages.py      # the demo course on the running database
    .venv/bin/python scripts/bench_pages.py --large-site

The demo run prints, per page, the SQL queries one request makes and the median and
95th-percentile time of N requests through Django's full request handling (no network,
no browser); the demo course must be loaded.

The large-site run creates (once) the database ``<configured name>_bench`` on the same
server, migrates it and fills it with ``manage.py build_large_site``: 200 courses, one of
500 lessons, a tag on 500 lessons. It times the catalogue, the big course, the big tag and
a lesson of the big course against a demo lesson in the same database, then starts one
gunicorn worker on a free loopback port (DEBUG off, as ``make serve``), sends it 1,000
requests over those four pages and prints the worker's resident memory from /proc.
The developer's own database is never written.
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TIME_TARGET = 3  # each large-site page's median within 3 times the demo lesson's
MEMORY_TARGET_MB = 150  # a worker's resident memory after the 1,000 requests


def bench_database_url() -> tuple[str, str]:
    """The configured database's URL and that of its ``_bench`` sibling on the same server."""
    from config import embedded_db

    configured = os.environ.get("DATABASE_URL") or embedded_db.database_url()
    parts = urlsplit(configured)
    name = parts.path.lstrip("/")
    bench_name = name if name.endswith("_bench") else f"{name}_bench"
    return configured, urlunsplit(parts._replace(path=f"/{bench_name}"))


def create_database(*, server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class QueryCounter:
    """Counts queries with an execute wrapper (a request's start resets connection.queries)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Timing:
    url: str
    queries: int
    median: float
    p95: float


def time_pages(pages: dict[str, str], requests: int, *, baseline: str | None = None) -> None:
    """Print each page's queries and times (and, with a baseline page, its median as a multiple of that one's).

    The pages are requested in turns, so a slow moment of the machine weighs on all of them alike.
    """
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    queries = {}
    for name, url in pages.items():
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries[name] = counter.count
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(requests):
        for name, url in pages.items():
            start = time.perf_counter()
            client.get(url)
            samples[name].append((time.perf_counter() - start) * 1000)
    timings = {
        name: Timing(
            url, queries[name], statistics.median(samples[name]), statistics.quantiles(samples[name], n=20)[-1]
        )
        for name, url in pages.items()
    }
    print(f"{'page':<28} {'url':<44} {'queries':>7} {'median ms':>9} {'p95 ms':>7}", end="")
    print(f" {'x ' + baseline:>14}" if baseline else "")
    for name, timing in timings.items():
        print(f"{name:<28} {timing.url:<44} {timing.queries:>7} {timing.median:>9.2f} {timing.p95:>7.2f}", end="")
        print(f" {timing.median / timings[baseline].median:>14.1f}" if baseline else "")


def demo_pages() -> dict[str, str]:
    from courses.models import Lesson

    lesson = Lesson.objects.published().select_related("course").prefetch_related("tags").order_by("?").first()
    if lesson is None:
        sys.exit("No published lesson: run `make run` once (it loads the demo course) or import a course.")
    tag = lesson.tags.first()
    return {
        "catalogue": "/",
        "course": lesson.course.get_absolute_url(),
        "lesson": lesson.get_absolute_url(),
        **({"tag": tag.get_absolute_url()} if tag else {}),
        "health check": "/healthz",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def fetch(base: str, url: str) -> None:
    with urllib.request.urlopen(base + url, timeout=30) as response:
        response.read()


def measure_worker(*, database_url: str, urls: list[str], requests: int) -> tuple[float, float, float]:
    """Serve the bench database with one gunicorn worker as `make serve` does; return its RSS and time.

    Returns the worker's resident MB after one request per page, after ``requests``
    requests round-robin over ``urls``, and the median ms of those requests over HTTP.
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env=env, check=True, cwd=ROOT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [
                *[sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"],
                *["--workers", "1", "--no-control-socket"],
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    fetch(base, "/healthz")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        sys.exit(f"gunicorn did not start:\n{log.read()}")
                    time.sleep(0.2)
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            worker = int(children[0])
            for url in urls:
                fetch(base, url)
            warm = resident_mb(worker)
            timings = []
            for n in range(requests):
                start = time.perf_counter()
                fetch(base, urls[n % len(urls)])
                timings.append((time.perf_counter() - start) * 1000)
            return warm, resident_mb(worker), statistics.median(timings)
        finally:
            server.terminate()
            server.wait(timeout=30)


def large_site(requests: int, worker_requests: int) -> None:
    configured, bench_url = bench_database_url()
    bench_name = urlsplit(bench_url).path.lstrip("/")
    create_database(server_url=configured, name=bench_name)
    os.environ["DATABASE_URL"] = bench_url

    import django

    django.setup()
    from django.core.management import call_command

    from courses.management.commands import build_large_site as site
    from courses.models import Lesson

    print(f"Large site in the database {bench_name}:")
    call_command("migrate", verbosity=0)
    call_command("build_large_site")
    # The one course build_large_site did not generate is the demo course.
    demo = Lesson.objects.exclude(course__slug__startswith=site.PREFIX).order_by("course", "position").first()
    pages = {
        "catalogue": "/",
        "big course": f"/courses/{site.BIG_COURSE_SLUG}/",
        "big tag": f"/tags/{site.BIG_TAG_SLUG}/",
        "lesson in the big course": f"/courses/{site.BIG_COURSE_SLUG}/lesson-250/",
    }
    print(f"\nTarget: each page's median within {TIME_TARGET} times the demo lesson's.")
    time_pages({"demo lesson": demo.get_absolute_url(), **pages}, requests, baseline="demo lesson")

    if not Path("/proc/self/status").exists():
        print("\nWorker memory is read from /proc, which this system does not have: not measured.")
        return
    warm, after, median = measure_worker(database_url=bench_url, urls=list(pages.values()), requests=worker_requests)
    print(
        f"\nOne gunicorn worker (DEBUG off), {worker_requests} requests over the four pages above "
        f"(median {median:.1f} ms over HTTP).\n"
        f"Resident memory after one request per page: {warm:.0f} MB; "
        f"after {worker_requests} requests: {after:.0f} MB (target: under {MEMORY_TARGET_MB} MB)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page for the timings")
    parser.add_argument("--large-site", action="store_true", help="bench the large site in its own database")
    parser.add_argument("--worker-requests", type=int, default=1000, help="requests to the gunicorn worker")
    args = parser.parse_args()
    if args.large_site:
        large_site(args.requests, args.worker_requests)
        return

    import django

    django.setup()
    time_pages(demo_pages(), args.requests)


if __name__ == "__main__":
    main()
