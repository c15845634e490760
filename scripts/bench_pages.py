"""Time the pages: the demo course's, a large site's in a database of its own, and progress there.

    make bench                                   # the three runs below
    .venv/bin/python scripts/bench_pages.py      # the demo course on the running database
    .venv/bin/python scripts/bench_pages.py --large-site
    .venv/bin/python scripts/bench_pages.py --progress
    .venv/bin/python scripts/bench_pages.py --comments
    .venv/bin/python scripts/bench_pages.py --search

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

The progress run (``--progress``) adds to that database, with ``manage.py build_progress_bench``,
1,000 learners and 100,000 XP ledger rows, and times one lesson of the big course for a visitor,
for a learner with 500 completions and every achievement, and for a learner who has just signed
up, beside completing a lesson: a POST to the real endpoint, each on a lesson its learner has not
completed, so the whole write path runs (the test client skips the CSRF check). The learners are
signed in with the test client's ``force_login``; the completions are undone afterwards, so every
run times the same data.

The comments run (``--comments``) adds to that database, with ``manage.py build_comments_bench``,
200 comments in 50 threads (replies four deep, a quarter on code blocks) to one lesson of the big
course, and times it beside a lesson without comments, for a visitor and for the heavy learner.

The search run (``--search``) uses a database of its own, ``<configured name>_search_bench``, fills it
with ``manage.py build_search_bench`` to 500 generated lessons, times /search/ for a set of queries (a
common word, a rare one, two words, Korean, a two-syllable Korean piece of a word, a misspelling) and
prints the plan of each page's query, then times them again answered from the kept results (as with DEBUG off),
then grows the corpus to 5,000 lessons and does it again.
"""

import argparse
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TIME_TARGET = 3  # each large-site page's median within 3 times the demo lesson's
MEMORY_TARGET_MB = 150  # a worker's resident memory after the 1,000 requests
# Lessons each learner completes in a progress run: under the limit of 30 a minute (RATELIMITS in settings).
COMPLETIONS_PER_LEARNER = 20


def bench_database_url() -> tuple[str, str]:
    """The configured database's URL and that of its ``_bench`` sibling on the same server."""
    from ops import embedded_db

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
class Case:
    """A request to time: ``send`` makes it through Django's full request handling and returns the response."""

    url: str
    send: Callable
    status: int = 200


@dataclass
class Timing:
    url: str
    queries: str
    median: float
    p95: float


def time_cases(cases: dict[str, Case], requests: int, *, baseline: str | None = None) -> None:
    """Print each request's queries and times (and, with a baseline, its median as a multiple of that one's).

    One untimed round warms up, then ``requests`` timed and counted ones; the cases take turns, so a slow
    moment of the machine weighs on all of them alike. Every response must have the case's status.
    """
    from django.db import connection

    queries: dict[str, list[int]] = {name: [] for name in cases}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(requests + 1):
        for name, case in cases.items():
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                start = time.perf_counter()
                response = case.send()
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == case.status, (name, case.url, response.status_code)
            if round_:
                queries[name].append(counter.count)
                samples[name].append(elapsed)
    timings = {
        name: Timing(
            case.url,
            query_range(queries[name]),
            statistics.median(samples[name]),
            statistics.quantiles(samples[name], n=20)[-1],
        )
        for name, case in cases.items()
    }
    width = max(14, len(f"x {baseline}"))
    print(f"{'page':<28} {'url':<44} {'queries':>7} {'median ms':>9} {'p95 ms':>7}", end="")
    print(f" {'x ' + baseline:>{width}}" if baseline else "")
    for name, timing in timings.items():
        print(f"{name:<28} {timing.url:<44} {timing.queries:>7} {timing.median:>9.2f} {timing.p95:>7.2f}", end="")
        print(f" {timing.median / timings[baseline].median:>{width}.1f}" if baseline else "")


def query_range(counts: list[int]) -> str:
    """``7``, or ``31-38`` where the requests differ (a completion's queries depend on what it unlocks)."""
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}-{high}"


def time_pages(pages: dict[str, str], requests: int, *, baseline: str | None = None) -> None:
    """Time GET requests of a visitor who is not signed in."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    time_cases(
        {name: Case(url, lambda url=url: client.get(url)) for name, url in pages.items()}, requests, baseline=baseline
    )


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


def wait_until_serving(server: subprocess.Popen, log, url: str, *, seconds: float = 30) -> None:
    """Return once ``url`` answers; leave with gunicorn's output (``log``) if it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                sys.exit(f"gunicorn did not start:\n{log.read()}")
            time.sleep(0.2)


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
            wait_until_serving(server, log, base + "/healthz")
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


def open_large_site() -> str:
    """Set Django up on the bench database, with the large site built in it; returns the database's URL."""
    configured, bench_url = bench_database_url()
    bench_name = urlsplit(bench_url).path.lstrip("/")
    create_database(server_url=configured, name=bench_name)
    os.environ["DATABASE_URL"] = bench_url

    import django

    django.setup()
    from django.core.management import call_command

    print(f"Large site in the database {bench_name}:")
    call_command("migrate", verbosity=0)
    call_command("build_large_site")
    return bench_url


def large_site(requests: int, worker_requests: int) -> None:
    bench_url = open_large_site()
    from courses.management.commands import build_large_site as site
    from courses.models import Lesson

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


def signed_in(user):
    """A test client with ``user`` signed in (a session in the database, as after a real sign-in)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


@contextmanager
def undone_afterwards(learners: list) -> Iterator[None]:
    """Put the learners' progress back as it was, so that every run times the same data and it does not grow."""
    from django.db import transaction
    from django.db.models import Max

    from progress.models import ActivityDay, Completion, LearnerProgress, Unlock, XPEntry

    written = [XPEntry, Completion, Unlock]
    last = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model in written}
    days = list(ActivityDay.objects.filter(learner__in=learners))
    totals = list(LearnerProgress.objects.filter(learner__in=learners))
    try:
        yield
    finally:
        with transaction.atomic():
            for model in written:
                model.objects.filter(learner__in=learners, pk__gt=last[model]).delete()
            ActivityDay.objects.filter(learner__in=learners).delete()
            ActivityDay.objects.bulk_create(days)
            LearnerProgress.objects.filter(learner__in=learners).delete()
            LearnerProgress.objects.bulk_create(totals)


def progress(requests: int) -> None:
    open_large_site()
    from allauth.core import ratelimit
    from django.core.management import call_command
    from django.test import Client, RequestFactory

    from accounts.models import User
    from courses.management.commands import build_large_site as site
    from courses.models import Lesson
    from progress.management.commands import build_progress_bench as data
    from progress.models import Completion, XPEntry

    call_command("build_progress_bench")
    lesson = Lesson.objects.select_related("course").get(course__slug=site.BIG_COURSE_SLUG, slug="lesson-250")
    heavy = User.objects.get(email=data.HEAVY_EMAIL)
    new = User.objects.get(email=data.NEW_EMAIL)

    # The completions (a warm-up and the timed ones) are shared by learners of the ordinary kind, so that
    # none of them meets the rate limit; each completes lessons they have not completed yet, in turns.
    completers = list(
        User.objects.filter(email__endswith=f"@{data.DOMAIN}")
        .exclude(pk__in=[heavy.pk, new.pk])
        .order_by("email")[: math.ceil((requests + 1) / COMPLETIONS_PER_LEARNER)]
    )
    clients = {learner: signed_in(learner) for learner in completers}
    todo = {
        learner: list(
            Lesson.objects.published()
            .exclude(completions__learner=learner)
            .order_by("pk")
            .values_list("pk", flat=True)[:COMPLETIONS_PER_LEARNER]
        )
        for learner in completers
    }
    posts = [
        (clients[learner], lesson_ids[n])
        for n in range(COMPLETIONS_PER_LEARNER)
        for learner, lesson_ids in todo.items()
        if n < len(lesson_ids)
    ][: requests + 1]
    if len(posts) < requests + 1:
        sys.exit(f"Only {len(posts)} lessons to complete for {requests + 1} requests: ask for fewer --requests.")
    for learner in completers:  # what earlier runs counted against them
        ratelimit.clear(RequestFactory().post("/"), action="complete_lesson", user=learner)
    next_post = iter(posts)

    def complete():
        client, lesson_id = next(next_post)
        client.cookies.pop("messages", None)  # a browser would have shown them on the lesson page it is sent to
        response = client.post(f"/progress/lessons/{lesson_id}/complete/")
        assert response.get("Location", "").endswith("#lesson-completion"), (
            response.status_code,
            response.get("Location"),
        )
        return response

    url = lesson.get_absolute_url()
    anonymous, heavy_client, new_client = Client(HTTP_HOST="127.0.0.1"), signed_in(heavy), signed_in(new)
    completed_before = Completion.objects.count()
    learners = User.objects.filter(email__endswith=f"@{data.DOMAIN}")
    print(
        f"\nA lesson page and completing a lesson, with {learners.count():,} learners and "
        f"{XPEntry.objects.filter(learner__in=learners).count():,} XP ledger rows (the heavy learner: "
        f"{heavy.completions.count()} lessons completed, {heavy.unlocks.count()} achievements unlocked)."
    )
    with undone_afterwards(completers):
        time_cases(
            {
                "lesson, anonymous": Case(url, lambda: anonymous.get(url)),
                "lesson, heavy learner": Case(url, lambda: heavy_client.get(url)),
                "lesson, new learner": Case(url, lambda: new_client.get(url)),
                "complete a lesson": Case("POST /progress/lessons/<id>/complete/", complete, status=302),
            },
            requests,
            baseline="lesson, anonymous",
        )
        assert Completion.objects.count() == completed_before + requests + 1, "a completion was not written"


def comments(requests: int) -> None:
    open_large_site()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from comments.management.commands import build_comments_bench as data
    from comments.models import Comment
    from courses.management.commands import build_large_site as site
    from courses.models import Lesson
    from progress.management.commands import build_progress_bench as learners

    call_command("build_progress_bench")
    call_command("build_comments_bench")
    big_course = Lesson.objects.filter(course__slug=site.BIG_COURSE_SLUG)
    busy = big_course.get(slug=data.COMMENTED_LESSON).get_absolute_url()
    quiet = big_course.get(slug="lesson-250").get_absolute_url()  # the same demo lesson's copy, no comments
    threads = Comment.objects.filter(lesson__course__slug=site.BIG_COURSE_SLUG, lesson__slug=data.COMMENTED_LESSON)
    print(
        f"\nA lesson with {threads.count()} comments in {threads.filter(parent=None).count()} threads "
        f"({threads.exclude(code_block=None).count()} on code blocks) beside one without comments."
    )
    anonymous, learner = Client(HTTP_HOST="127.0.0.1"), signed_in(User.objects.get(email=learners.HEAVY_EMAIL))
    time_cases(
        {
            "no comments, anonymous": Case(quiet, lambda: anonymous.get(quiet)),
            "200 comments, anonymous": Case(busy, lambda: anonymous.get(busy)),
            "no comments, signed in": Case(quiet, lambda: learner.get(quiet)),
            "200 comments, signed in": Case(busy, lambda: learner.get(busy)),
        },
        requests,
        baseline="no comments, anonymous",
    )


SEARCH_SIZES = [500, 5000]
KEPT_SECONDS = 60  # as in production (settings.PAGE_CACHE_SECONDS)


def search_queries() -> dict[str, str]:
    from courses.management.commands import build_search_bench as corpus

    made_up_english, _ = corpus.ENGLISH_ZIPF
    return {
        "common word": "coroutine",
        "rare made-up word": made_up_english[2500],
        "two words": "timeout retry",
        "korean word": "비동기",
        "korean two syllables": "동기",
        "misspelt": "corutine",
    }


def search(requests: int) -> None:
    from django.db import connection

    configured, bench_url = bench_database_url()
    parts = urlsplit(bench_url)
    name = parts.path.lstrip("/").removesuffix("_bench") + "_search_bench"
    create_database(server_url=configured, name=name)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.core.management import call_command

    from courses import search as lesson_search

    # One client sends every request: the limit of searches a minute from one address would refuse them.
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "search": False}
    call_command("migrate", verbosity=0)
    queries = search_queries()
    for size in SEARCH_SIZES:
        started = time.perf_counter()
        call_command("build_search_bench", lessons=size)
        print(f"(built in {time.perf_counter() - started:.0f} s)")
        print(f"\nSearch in {size:,} lessons ({name}), anonymous, first page of results:")
        time_pages({label: f"/search/?q={query}" for label, query in queries.items()}, requests)
        print("\nThe plan of each page's query (EXPLAIN ANALYZE; the scans of the search entries):")
        for label, query in queries.items():
            entries = lesson_search.search(lesson_search.Query.parse(query), AnonymousUser())[:20]
            with lesson_search.index_scans():
                plan = entries.explain(analyze=True)
            scans = [
                line.strip().removeprefix("->  ").split("  (cost")[0]
                for line in plan.splitlines()
                if "Scan" in line and ("courses_searchentry" in line or "search_entry_" in line)
            ]
            total = next(line for line in plan.splitlines() if line.startswith("Execution Time"))
            print(f"  {label:<22} {total}; " + "; ".join(scans))
        print(f"\nThe same searches with the results kept (PAGE_CACHE_SECONDS={KEPT_SECONDS}): the repeats' cost")
        settings.PAGE_CACHE_SECONDS = KEPT_SECONDS
        time_pages({label: f"/search/?q={query}" for label, query in queries.items()}, requests)
        settings.PAGE_CACHE_SECONDS = 0
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page for the timings")
    parser.add_argument("--large-site", action="store_true", help="bench the large site in its own database")
    parser.add_argument(
        "--progress", action="store_true", help="bench the lesson page and completing a lesson with many learners"
    )
    parser.add_argument(
        "--comments", action="store_true", help="bench a lesson page with 200 comments beside one without"
    )
    parser.add_argument("--search", action="store_true", help="bench search at 500 and 5,000 lessons")
    parser.add_argument("--worker-requests", type=int, default=1000, help="requests to the gunicorn worker")
    args = parser.parse_args()
    if args.large_site:
        large_site(args.requests, args.worker_requests)
        return
    if args.progress:
        progress(args.requests)
        return
    if args.comments:
        comments(args.requests)
        return
    if args.search:
        search(args.requests)
        return

    import django

    django.setup()
    time_pages(demo_pages(), args.requests)


if __name__ == "__main__":
    main()
