"""Throughput over HTTP: wrk against the production server, page by page against a bare view, and mixed loads.

    make bench-http
    .venv/bin/python scripts/bench_http.py [--duration 5] [--connections 32] [--rounds 3] [--only lesson]

It uses the bench database of ``scripts/bench_pages.py`` (``<configured name>_bench`` on the same
server, with the large site, 1,000 learners and a lesson with 200 comments: built once, then reused),
collects the static files and starts, as ``make serve`` does (DEBUG off), gunicorn instances of one
worker each, every instance pinned to a core of its own with ``taskset`` where there are enough cores,
and a Redis server of its own as the shared cache (``REDIS_URL`` if it is set). The servers run with
``config.settings_bench``: production's settings plus a bare view (``/bench/bare/``, bytes and nothing
else, through the site's middleware) and the page cache's counters (``config/bench.py``).

What it measures, and why so:

- **Rounds, A/B/A/B.** The bare view and the pages take turns: bare, page 1, bare, page 2, ..., bare, and
  that ``--rounds`` times. Each page's ratio is taken against the mean of the two bare runs around it, so
  a slow moment of a shared machine weighs on both sides of the ratio; the tables give each figure's median
  over the rounds and its range (lowest-highest).
- **Server CPU per request**: the user and system CPU time of the gunicorn processes (master and worker,
  from /proc/<pid>/stat; a worker that exited counts through its master's cutime/cstime) over the run,
  divided by the requests wrk completed. Another process busy on the same core lowers requests a second
  but not this figure. Redis, PostgreSQL and wrk are not counted.
- **Cold render**: each cached page (web/page_cache.py) also from a second instance with
  PAGE_CACHE_SECONDS=0, which renders every request afresh, in the same rounds.
- **Mixed loads** (``scripts/bench_http_mixed.lua``): signed-in learners reading lessons, with 1 % and with
  10 % of the requests writes (half comments, half marking the learner's lesson complete and not complete
  again, as the page's script posts them: with the session, the CSRF token and ``Accept: application/json``),
  and the page-cache hit rate the workers counted. What they wrote is deleted afterwards.
- Then the pages again with two instances, and the ratio of the two runs.

Targets: the anonymous lesson page at least 0.5 of the bare view, the signed-in lesson page with
200 comments at least 0.3 (medians of requests a second), p99 at most 5 times p50, and two instances at
least 1.6 times one.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import ROOT, free_port, open_large_site, undone_afterwards, wait_until_serving

TARGETS = {"lesson, anonymous": 0.5, "lesson with 200 comments, signed in": 0.3}
TAIL_TARGET = 5  # p99 within 5 times p50
SCALING_TARGET = 1.6  # two instances against one
BARE = "/bench/bare/"
MIXED_SCRIPT = ROOT / "scripts" / "bench_http_mixed.lua"
MIXED_LESSONS = 50  # the first lessons of the big course: the mixed loads' learners read these
WRITE_SHARES = (1, 10)  # per cent of the mixed loads' requests that write

LEGEND = """\
How to read the tables (each figure: the median over the rounds, then its range, lowest-highest):
  req/s       requests a second wrk completed (summed over the instances)
  p50, p99    latency percentiles in ms (the slowest instance's)
  x bare      the page's req/s over the bare view's, measured just before and just after it
  CPU ms/req  CPU time of the gunicorn processes (master and workers, /proc) per request wrk completed:
              the figure a busy shared machine disturbs least; Redis and PostgreSQL are not counted
  x bare CPU  the bare view's CPU ms/req over the page's: what share of the bare view's rate one core
              would serve if the page's CPU were all that limited it
  cold        the same page from an instance with PAGE_CACHE_SECONDS=0 (rendered for every request)
  cache hits  of the page-cache lookups the worker made, the share answered from a kept copy: counted in
              the worker (config/bench.py), a lookup that ends in storing a new copy is a render
  errors      failed connections and answers other than 2xx/3xx, over all rounds"""


@dataclass
class Page:
    name: str
    path: str
    signed_in: bool = False
    cached: bool = False  # behind web.page_cache.cached_page: measured cold too
    mixed: int | None = None  # per cent of writes: a mixed load (the Lua script), not one page


@dataclass
class Run:
    """One wrk run against a set of instances."""

    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float
    lookups: int = 0
    renders: int = 0
    script_output: dict = field(default_factory=dict)


@dataclass
class Rounds:
    """A page's runs over the rounds, and its ratios to the bare runs around each."""

    runs: list[Run] = field(default_factory=list)
    rate_ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)
    cold: list[Run] = field(default_factory=list)
    cold_cpu_ratios: list[float] = field(default_factory=list)


@dataclass
class Server:
    base: str
    pid: int


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def parse_wrk(output: str) -> Run:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {"50": "0ms", "99": "0ms"} | dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    script = dict(re.findall(r"^bench (\w+)=(\d+)$", output, re.MULTILINE))
    return Run(requests, rate, to_ms(latency["50"]), to_ms(latency["99"]), errors, 0, script_output=script)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of gunicorn master ``pid`` and its workers; exited workers count through cutime/cstime."""

    def times(process: int, *, with_children: bool) -> int:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        # After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (proc(5)).
        return sum(int(value) for value in fields[11 : 15 if with_children else 13])

    total = times(pid, with_children=True)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with suppress(FileNotFoundError):  # exited between the two reads: its master's cutime has it next time
            total += times(int(child), with_children=False)
    return total / CLOCK_TICKS


def page_cache_counts(servers: list[Server]) -> tuple[int, int]:
    counts = [json.loads(fetch_page(server.base, "/bench/page-cache/", [])) for server in servers]
    return sum(c["lookups"] for c in counts), sum(c["renders"] for c in counts)


def run_wrk(
    servers: list[Server], path: str, *, headers: list[str], duration: int, connections: int, script=()
) -> Run:
    """wrk against every instance at once; the rates add up, the latencies are the slowest instance's."""
    command = ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{duration}s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(MIXED_SCRIPT)]
    lookups, renders = page_cache_counts(servers)
    cpu = [cpu_seconds(server.pid) for server in servers]
    runs = [
        subprocess.Popen(
            [*command, server.base + path, *(["--", *script] if script else [])], stdout=subprocess.PIPE, text=True
        )
        for server in servers
    ]
    results = [parse_wrk(run.communicate()[0]) for run in runs]
    time.sleep(0.1)  # the answers wrk had asked for when it stopped
    cpu = sum(cpu_seconds(server.pid) - before for server, before in zip(servers, cpu, strict=True))
    requests = sum(r.requests for r in results)
    lookups_after, renders_after = page_cache_counts(servers)
    return Run(
        requests,
        sum(r.requests_per_second for r in results),
        max(r.p50_ms for r in results),
        max(r.p99_ms for r in results),
        sum(r.errors for r in results),
        cpu * 1000 / max(requests, 1),
        lookups_after - lookups,
        renders_after - renders,
        {key: sum(int(r.script_output.get(key, 0)) for r in results) for key in results[0].script_output},
    )


def fetch_page(base: str, path: str, headers: list[str]) -> bytes:
    request = urllib.request.Request(base + path, headers=dict(header.split(": ", 1) for header in headers))
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, (path, response.status)
        return response.read()


@contextmanager
def redis_server():
    """The configured Redis, or one of our own on a free port (nothing kept on disk)."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    if not shutil.which("redis-server"):
        sys.exit("wrk needs a shared cache to bench as production runs: install redis-server or set REDIS_URL.")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=10)


@contextmanager
def gunicorn(*, env: dict, core: int | None):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--no-control-socket", "--backlog", "2048"]
    if core is not None:
        command = ["taskset", "--cpu-list", str(core), *command]  # taskset execs gunicorn: the same pid
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(server, log, base + BARE)
            yield Server(base, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


def session_cookie(email: str) -> str:
    """A session of ``email``'s learner, as after a real sign-in, in the shared session store."""
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=email))
    return client.cookies["sessionid"].value


def pages() -> tuple[list[Page], str]:
    """The pages to bench and the signed-in learner's session."""
    from django.core.management import call_command

    from comments.management.commands import build_comments_bench as comments
    from courses.management.commands import build_large_site as site
    from progress.management.commands import build_progress_bench as learners

    call_command("build_progress_bench")
    call_command("build_comments_bench")
    manifest = json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())
    lesson = f"/courses/{site.BIG_COURSE_SLUG}/lesson-250/"  # a copy of a demo lesson, without comments
    commented = f"/courses/{site.BIG_COURSE_SLUG}/{comments.COMMENTED_LESSON}/"
    return [
        Page("static file", "/static/" + manifest["paths"]["css/site.css"]),
        Page("/healthz/live (the old yardstick)", "/healthz/live"),
        Page("/healthz", "/healthz"),
        Page("catalogue", "/", cached=True),
        Page("lesson, anonymous", lesson, cached=True),
        Page("lesson with 200 comments, anonymous", commented, cached=True),
        Page("lesson with 200 comments, signed in", commented, signed_in=True, cached=True),
        Page("/me/, signed in", "/me/", signed_in=True, cached=True),
    ], session_cookie(learners.HEAVY_EMAIL)


def median_range(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def bench(servers: list[Server], cold: Server | None, items: list[Page], headers_of, args) -> dict[str, Rounds]:
    """The rounds: bare, item, bare, item, ..., bare; each item's ratios against the bare runs either side."""
    wrk = {"duration": args.duration, "connections": args.connections}
    for item in items:  # warm each worker's caches and connections first, and check the page is what it says
        if item.mixed is not None:
            continue
        headers = headers_of(item)
        for server in [*servers, *([cold] if cold and item.cached else [])]:
            for _ in range(3):
                page = fetch_page(server.base, item.path, headers)
            assert not item.signed_in or b'action="/accounts/logout/"' in page, f"{item.name}: not signed in"
    results = {"bare view": Rounds(), **{item.name: Rounds() for item in items}}
    for round_ in range(args.rounds):
        print(f"  round {round_ + 1} of {args.rounds}", end="\r", flush=True, file=sys.stderr)
        before = run_wrk(servers, BARE, headers=[], **wrk)
        results["bare view"].runs.append(before)
        for item in items:
            script = (
                () if item.mixed is None else [str(args.mixed_data), str(100 // item.mixed), str(secrets.randbits(31))]
            )
            run = run_wrk(servers, item.path, headers=headers_of(item), script=script, **wrk)
            cold_run = run_wrk([cold], item.path, headers=headers_of(item), **wrk) if cold and item.cached else None
            after = run_wrk(servers, BARE, headers=[], **wrk)
            results["bare view"].runs.append(after)
            bare_rate = (before.requests_per_second + after.requests_per_second) / 2
            bare_cpu = (before.cpu_ms_per_request + after.cpu_ms_per_request) / 2
            rounds = results[item.name]
            rounds.runs.append(run)
            rounds.rate_ratios.append(run.requests_per_second / bare_rate)
            rounds.cpu_ratios.append(bare_cpu / max(run.cpu_ms_per_request, 1e-6))
            if cold_run:
                rounds.cold.append(cold_run)
                rounds.cold_cpu_ratios.append(bare_cpu / max(cold_run.cpu_ms_per_request, 1e-6))
            before = after
    results["bare view"].rate_ratios = results["bare view"].cpu_ratios = [1.0]
    return results


def print_tables(results: dict[str, Rounds], *, cold: bool) -> None:
    print(f"\n{'page':<40} {'req/s':>18} {'p50 ms':>7} {'p99 ms':>7} {'x bare':>17} {'errors':>6}")
    for name, rounds in results.items():
        runs = rounds.runs
        print(
            f"{name:<40} {median_range([r.requests_per_second for r in runs], 0):>18} "
            f"{statistics.median(r.p50_ms for r in runs):>7.2f} {statistics.median(r.p99_ms for r in runs):>7.2f} "
            f"{median_range(rounds.rate_ratios, 2):>17} {sum(r.errors for r in runs):>6}"
        )
    cold_heads = f" {'cold CPU ms/req':>22} {'cold x bare CPU':>19}" if cold else ""
    print(f"\n{'page':<40} {'CPU ms/req':>17} {'x bare CPU':>17}{cold_heads} {'cache hits':>10}")
    for name, rounds in results.items():
        lookups = sum(r.lookups for r in rounds.runs)
        hits = f"{1 - sum(r.renders for r in rounds.runs) / lookups:.1%}" if lookups else "-"
        cold_columns = (
            f" {median_range([r.cpu_ms_per_request for r in rounds.cold], 2):>22} "
            f"{median_range(rounds.cold_cpu_ratios, 3):>19}"
            if cold
            else ""
        )
        print(
            f"{name:<40} {median_range([r.cpu_ms_per_request for r in rounds.runs], 2):>17} "
            f"{median_range(rounds.cpu_ratios, 2):>17}{cold_columns} {hits:>10}"
        )


def verdicts(one: dict[str, Rounds], two: dict[str, Rounds]) -> list[str]:
    failures = []
    for run, results in (("one instance", one), ("two instances", two)):
        for name, target in TARGETS.items():
            if name in results and (ratio := statistics.median(results[name].rate_ratios)) < target:
                failures.append(f"{run}, {name}: {ratio:.2f} of the bare view (target {target})")
        for name, rounds in results.items():
            p50 = statistics.median(r.p50_ms for r in rounds.runs)
            p99 = statistics.median(r.p99_ms for r in rounds.runs)
            if p99 > TAIL_TARGET * p50:
                failures.append(f"{run}, {name}: p99 {p99:.1f} ms is over {TAIL_TARGET}x p50 {p50:.1f}")
            if errors := sum(r.errors for r in rounds.runs):
                failures.append(f"{run}, {name}: {errors} errors")
    print(f"\nTwo instances against one, req/s (target {SCALING_TARGET}x): the ratio of the medians, and the range")
    print("from the lowest two-instance round over the highest one-instance round to the reverse.")
    for name in one:
        single = [r.requests_per_second for r in one[name].runs]
        double = [r.requests_per_second for r in two[name].runs]
        scaling = statistics.median(double) / statistics.median(single)
        print(f"  {name:<40} {scaling:.2f}x ({min(double) / max(single):.2f}-{max(double) / min(single):.2f})")
        if name != "static file" and scaling < SCALING_TARGET:
            failures.append(f"{name}: two instances {scaling:.2f}x one (target {SCALING_TARGET}x)")
    return failures


def mixed_learners(count: int, data_file: Path) -> list:
    """Sessions and CSRF secrets for ``count`` bench learners, written for the Lua script; returns the learners.

    Learner n reads two of the first ``MIXED_LESSONS`` lessons of the big course (n and n + 1, wrapping) and
    writes on the first lesson from n on they have not completed (reading it too), so that their completions
    start from "not complete" and are all new rows, which ``undone_afterwards`` deletes.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from courses.management.commands import build_large_site as site
    from courses.models import Lesson
    from progress.management.commands import build_progress_bench as bench_learners
    from progress.models import Completion

    lessons = list(Lesson.objects.filter(course__slug=site.BIG_COURSE_SLUG).order_by("position"))
    learners = list(User.objects.filter(email__startswith="learner-", email__endswith=f"@{bench_learners.DOMAIN}"))
    learners = sorted(learners, key=lambda learner: learner.email)[:count]
    done = set(Completion.objects.filter(learner__in=learners, lesson__in=lessons).values_list("learner", "lesson"))
    lines = []
    for n, learner in enumerate(learners):
        read = [lessons[(n + step) % MIXED_LESSONS] for step in range(2)]
        writes_on = next(lesson for lesson in lessons[n % MIXED_LESSONS :] if (learner.pk, lesson.pk) not in done)
        session = SessionStore()
        session[SESSION_KEY] = str(learner.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = learner.get_session_auth_hash()
        session.create()
        learner.bench_session = session.session_key
        pages = [f"{lesson.pk}:{lesson.get_absolute_url()}" for lesson in dict.fromkeys([writes_on, *read])]
        lines.append(f"{session.session_key} {get_random_string(32)} {' '.join(pages)}")
    data_file.write_text("\n".join(lines) + "\n")
    return learners


@contextmanager
def writes_undone(learners: list):
    """Delete the mixed loads' comments, follows, queued e-mails, sessions and the confirmed addresses given to
    their learners (only a confirmed address may comment), and put progress back as it was. Yields a dict that
    then holds the number of comments stored."""
    from allauth.account.models import EmailAddress
    from django.contrib.sessions.models import Session
    from django.db.models import Max
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from comments.models import Comment, Follow

    last = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model in (Comment, Follow, EmailAddress)}
    started = timezone.now()
    confirmed = set(EmailAddress.objects.filter(user__in=learners, verified=True).values_list("user", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=learner, email=learner.email, verified=True, primary=True)
            for learner in learners
            if learner.pk not in confirmed
        ]
    )
    stored = {}
    with undone_afterwards(learners):
        try:
            yield stored
        finally:
            written = Comment.objects.filter(author__in=learners, pk__gt=last[Comment])
            stored["comments"] = written.count()
            written.delete()
            Follow.objects.filter(learner__in=learners, pk__gt=last[Follow]).delete()
            DBTaskResult.objects.filter(enqueued_at__gte=started).delete()
            Session.objects.filter(session_key__in=[learner.bench_session for learner in learners]).delete()
            EmailAddress.objects.filter(user__in=learners, pk__gt=last[EmailAddress]).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections per instance")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds of the bare view and each page")
    parser.add_argument("--learners", type=int, default=100, help="signed-in learners of the mixed loads")
    parser.add_argument("--only", help="bench only the pages whose names contain this")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (Debian) or see https://github.com/wg/wrk.")

    cores = os.cpu_count() or 1
    with redis_server() as redis_url:
        # Before Django starts: the sessions must be in the servers' store, signed with their key.
        os.environ["REDIS_URL"] = redis_url
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
        bench_url = open_large_site()
        env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings_bench",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env=env, check=True, cwd=ROOT)
        items, session = pages()
        if args.only:
            items = [item for item in items if args.only in item.name]

        def headers_of(item: Page) -> list[str]:
            return [f"Cookie: sessionid={session}"] if item.signed_in else []

        print(f"{cores} cores ({cpu_model()}); pinned with taskset: {'yes' if cores >= 2 else 'no'}")
        print(f"wrk -t1 -c{args.connections} -d{args.duration}s per run and instance, {args.rounds} rounds\n")
        print(LEGEND)
        runs, failures = [], []
        with ExitStack() as stack:
            core = 0 if cores >= 2 else None
            servers = [stack.enter_context(gunicorn(env=env, core=core))]
            cold = stack.enter_context(gunicorn(env={**env, "PAGE_CACHE_SECONDS": "0"}, core=core))
            print(
                "\nOne gunicorn instance of one worker (cold: a second one, on the same core, without the page cache)"
            )
            runs.append(bench(servers, cold, items, headers_of, args))
            print_tables(runs[0], cold=True)
            if not args.only or args.only in "mixed":
                failures += mixed_loads(servers[0], headers_of, args)
        with ExitStack() as stack:
            servers = [stack.enter_context(gunicorn(env=env, core=n if cores >= 2 else None)) for n in range(2)]
            print("\nTwo gunicorn instances of one worker, wrk against both at once")
            runs.append(bench(servers, None, items, headers_of, args))
            print_tables(runs[1], cold=False)
    failures = verdicts(*runs) + failures
    print("\nAll targets met." if not failures else "\nShort of target:\n  " + "\n  ".join(failures))


def mixed_loads(server: Server, headers_of, args) -> list[str]:
    """The mixed loads against ``server``, bracketed by the bare view like the pages; what they wrote is undone."""
    with tempfile.TemporaryDirectory() as folder:
        args.mixed_data = Path(folder) / "learners.txt"
        learners = mixed_learners(args.learners, args.mixed_data)
        print()
        print(
            textwrap.fill(
                f"Mixed loads on the same instance: {len(learners)} signed-in learners (wrk's connections take them "
                f"at random), each reading two or three of the first {MIXED_LESSONS} lessons of the big course; every "
                "100th or 10th request a write, in turn a comment on the learner's lesson and marking it complete or "
                "not complete again. A comment makes that lesson's kept copies stale for every reader, a completion "
                "the writer's own copies. Each learner's pages are read once before the first round, untimed. What "
                "they wrote is deleted afterwards.",
                width=110,
            )
        )
        mixed = [Page(f"mixed: signed-in reading, {share} % writes", "/", mixed=share) for share in WRITE_SHARES]
        with writes_undone(learners) as stored:
            # Each learner's pages once, untimed: the loads start from the copies a minute of reading would keep.
            for line in args.mixed_data.read_text().splitlines():
                session, csrf, *lessons = line.split()
                for lesson in lessons:
                    cookie = [f"Cookie: sessionid={session}; csrftoken={csrf}"]
                    page = fetch_page(server.base, lesson.split(":", 1)[1], cookie)
                    assert b'action="/accounts/logout/"' in page, "the mixed loads' learners are not signed in"
            results = bench([server], None, mixed, headers_of, args)
    print_tables(results, cold=False)
    sent = {"comments": 0, "toggles": 0}
    failures = []
    for item in mixed:
        runs = results[item.name].runs
        for key in sent:
            sent[key] += sum(int(r.script_output.get(key, 0)) for r in runs)
        if errors := sum(r.errors for r in runs):
            failures.append(f"{item.name}: {errors} errors")
    print(
        f"Writes wrk built: {sent['comments']} comments, {sent['toggles']} completion changes; comments stored: "
        f"{stored['comments']} (the few wrk built but had not sent when it stopped are not)."
    )
    return failures


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    main()
