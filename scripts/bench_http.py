"""Throughput over HTTP: wrk against the production server, with one gunicorn instance and with two.

    make bench-http
    .venv/bin/python scripts/bench_http.py [--duration 10] [--connections 32]

It uses the bench database of ``scripts/bench_pages.py`` (``<configured name>_bench`` on the same
server, with the large site, 1,000 learners and a lesson with 200 comments: built once, then reused),
collects the static files and starts, as ``make serve`` does (DEBUG off), gunicorn instances of one
worker each, every instance pinned to a core of its own with ``taskset`` where there are enough cores,
and a Redis server of its own as the shared cache (``REDIS_URL`` if it is set). For each page, wrk
(Debian's ``wrk`` package) sends ``--connections`` connections for ``--duration`` seconds to every
instance at once; the table gives requests a second (summed over the instances), the median and 99th
percentile latency (the slowest instance's) and each page's throughput as a ratio to the bare view's
in the same run. Then the same pages with two instances, and the ratio of the two runs.

Targets: the anonymous lesson page at least 0.5 of the bare view, the signed-in lesson page with
200 comments at least 0.3, p99 at most 5 times p50, and two instances at least 1.6 times one.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import ROOT, free_port, open_large_site, wait_until_serving

TARGETS = {"lesson, anonymous": 0.5, "lesson with 200 comments, signed in": 0.3}
TAIL_TARGET = 5  # p99 within 5 times p50
SCALING_TARGET = 1.6  # two instances against one


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def parse_wrk(output: str) -> Result:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {"50": "0ms", "99": "0ms"} | dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Result(rate, to_ms(latency["50"]), to_ms(latency["99"]), errors)


def run_wrk(bases: list[str], path: str, *, headers: list[str], duration: int, connections: int) -> Result:
    """wrk against every instance at once; the rates add up, the latencies are the slowest instance's."""
    command = ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{duration}s"]
    for header in headers:
        command += ["-H", header]
    runs = [subprocess.Popen([*command, base + path], stdout=subprocess.PIPE, text=True) for base in bases]
    results = [parse_wrk(run.communicate()[0]) for run in runs]
    return Result(
        sum(r.requests_per_second for r in results),
        max(r.p50_ms for r in results),
        max(r.p99_ms for r in results),
        sum(r.errors for r in results),
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
        command = ["taskset", "--cpu-list", str(core), *command]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(server, log, base + "/healthz/live")
            yield base
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


def pages() -> tuple[dict[str, str], str]:
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
    return {
        "static file": "/static/" + manifest["paths"]["css/site.css"],
        "bare view": "/healthz/live",
        "/healthz": "/healthz",
        "catalogue": "/",
        "lesson, anonymous": lesson,
        "lesson with 200 comments, anonymous": commented,
        "lesson with 200 comments, signed in": commented,
        "/me/, signed in": "/me/",
    }, session_cookie(learners.HEAVY_EMAIL)


def bench(bases: list[str], urls: dict[str, str], session: str, args) -> dict[str, Result]:
    results = {}
    print(f"\n{len(bases)} gunicorn instance(s) of one worker, wrk -c{args.connections} -d{args.duration}s each")
    print(f"{'page':<38} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'x bare':>6} {'errors':>6}")
    for name, path in urls.items():
        headers = [f"Cookie: sessionid={session}"] if "signed in" in name else []
        for base in bases:  # warm each worker's caches and connections first, and check the page is what it says
            for _ in range(3):
                page = fetch_page(base, path, headers)
            assert not headers or b'action="/accounts/logout/"' in page, f"{name}: not signed in"
        result = run_wrk(bases, path, headers=headers, duration=args.duration, connections=args.connections)
        results[name] = result
        bare = results.get("bare view", result).requests_per_second
        print(
            f"{name:<38} {result.requests_per_second:>8.0f} {result.p50_ms:>7.2f} {result.p99_ms:>7.2f} "
            f"{result.p99_ms / max(result.p50_ms, 0.001):>7.1f} {result.requests_per_second / bare:>6.2f} "
            f"{result.errors:>6}"
        )
    return results


def verdicts(one: dict[str, Result], two: dict[str, Result]) -> list[str]:
    failures = []
    for results in (one, two):
        bare = results["bare view"].requests_per_second
        for name, target in TARGETS.items():
            if name not in results:
                continue
            ratio = results[name].requests_per_second / bare
            if ratio < target:
                failures.append(f"{name}: {ratio:.2f} of the bare view (target {target})")
        for name, result in results.items():
            if result.p99_ms > TAIL_TARGET * result.p50_ms:
                failures.append(f"{name}: p99 {result.p99_ms:.1f} ms is over {TAIL_TARGET}x p50 {result.p50_ms:.1f}")
            if result.errors:
                failures.append(f"{name}: {result.errors} errors")
    print(f"\nTwo instances against one (target {SCALING_TARGET}x):")
    for name in one:
        print(f"  {name:<38} {two[name].requests_per_second / one[name].requests_per_second:.2f}x")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections per instance")
    parser.add_argument("--only", help="bench only the pages whose names contain this")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (Debian) or see https://github.com/wg/wrk.")

    cores = os.cpu_count() or 1
    with redis_server() as redis_url:
        # Before Django starts: the session must be in the servers' store, signed with their key.
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
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env=env, check=True, cwd=ROOT)
        urls, session = pages()
        if args.only:
            urls = {name: url for name, url in urls.items() if name == "bare view" or args.only in name}
        print(f"{cores} cores ({cpu_model()}); pinned with taskset: {'yes' if cores >= 2 else 'no'}")
        runs = []
        for instances in (1, 2):
            with ExitStack() as stack:
                bases = [
                    stack.enter_context(gunicorn(env=env, core=core if cores >= 2 else None))
                    for core in range(instances)
                ]
                runs.append(bench(bases, urls, session, args))
    failures = verdicts(*runs)
    print("\nAll targets met." if not failures else "\nShort of target:\n  " + "\n  ".join(failures))


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    main()
