"""`make loadtest`: start the site as in production, send it simulated learners, check the data, report.

    python -m loadtest.run            # LOADTEST_USERS (50) people for LOADTEST_TIME (60) seconds
    LOADTEST_OUTAGE=1 python -m loadtest.run    # the same, stopping PostgreSQL for a while in the middle
    LOADTEST_FAULTS=1 python -m loadtest.run    # the same, killing `make cluster`'s processes one after another

Steps: start the site command (``LOADTEST_SITE_COMMAND``; by default ``make cluster`` where the Makefile has it,
else ``make serve``) on a free loopback port with DEBUG off and a database of the run's own (the embedded server
in ``.loadtest/<run>/pgdata``; with ``DATABASE_URL``, a database whose name ends in ``_loadtest``); wait for
``/healthz``; add the learners (prepare.py); run Locust headless (locustfile.py) bounded in people and time; run
``manage.py check_integrity`` on what the run left; stop the site; print the requests, failures, 5xx answers
and the p50/p95/p99 of each endpoint, then the checks. Exits non-zero if a request failed outside a fault's
window (the outage, or from a kill until the cluster is whole again), if the cluster did not heal itself, or
if a check failed. Everything stays on loopback.

The fault run SIGKILLs, with the site under load, a gunicorn master alone (its workers left behind), the task
worker, Redis and PostgreSQL's postmaster, each once the cluster is whole again after the one before.
"""

import csv
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STARTUP_TIMEOUT = 300  # seconds: a first run creates the database and migrates it
OUTAGE_SECONDS = 10
# Failures this long after the site answers /healthz again still count as the outage's (reconnecting).
OUTAGE_TAIL = 5
MIN_OUTAGE_RUN = 45
# The fault run: the first kill this long after the load begins, the next this long after the cluster is whole.
FAULT_SPACING = 10
FAULTS = ["web-1", "worker", "redis", "postgres"]
MIN_FAULTS_RUN = 100


def log(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_command() -> list[str]:
    if command := os.environ.get("LOADTEST_SITE_COMMAND"):
        return shlex.split(command)
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    target = "cluster" if "\ncluster:" in makefile else "serve"
    return [os.environ.get("MAKE", "make"), "--no-print-directory", target]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(url: str, *, site: subprocess.Popen, timeout: float) -> float:
    """Seconds until ``url`` answers 200; raises if the site exits or the time runs out."""
    started = time.monotonic()
    while not healthy(url):
        if site.poll() is not None:
            raise RuntimeError(f"the site exited ({site.returncode}) before {url} answered")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - started


def stop_site(site: subprocess.Popen) -> None:
    """Ctrl-C to the site's process group, as a developer stops `make serve`; harder if it will not go."""
    for signum, grace in [(signal.SIGINT, 60), (signal.SIGTERM, 15), (signal.SIGKILL, 5)]:
        if site.poll() is not None:
            return
        try:
            os.killpg(site.pid, signum)
        except ProcessLookupError:
            return
        try:
            site.wait(grace)
        except subprocess.TimeoutExpired:
            continue


def supervisorctl(cluster_dir: Path, *args: str) -> str:
    """What `supervisorctl` answers about `make cluster`'s programs (the cluster folder holds its configuration)."""
    command = [PYTHON, "-m", "supervisor.supervisorctl", "-c", str(cluster_dir / "supervisord.conf"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def supervised_pid(cluster_dir: Path, name: str) -> int:
    answer = supervisorctl(cluster_dir, "pid", name)
    return int(answer) if answer.isdigit() else 0


class Outage(threading.Thread):
    """Stops PostgreSQL ``after`` seconds in, starts it again ``OUTAGE_SECONDS`` later.

    The embedded server, through supervisord when `make cluster` runs it (else it would start it again at once).
    """

    def __init__(self, *, after: float, env: dict, health_url: str, site: subprocess.Popen, cluster_dir: Path) -> None:
        super().__init__(daemon=True)
        self.after, self.env, self.health_url, self.site = after, env, health_url, site
        self.cluster_dir = cluster_dir
        self.began = self.ended = None
        self.error = ""

    def postgres(self, action: str) -> None:
        if supervised_pid(self.cluster_dir, "postgres"):
            supervisorctl(self.cluster_dir, action, "postgres")
        else:
            subprocess.run([PYTHON, "-m", "ops.embedded_db", action], env=self.env, cwd=BASE_DIR, check=True)

    def run(self) -> None:
        time.sleep(self.after)
        try:
            self.began = time.time()
            log("outage: stopping PostgreSQL")
            self.postgres("stop")
            time.sleep(OUTAGE_SECONDS)
            log("outage: starting PostgreSQL")
            self.postgres("start")
            wait_healthy(self.health_url, site=self.site, timeout=120)
            self.ended = time.time()
            log(f"outage: /healthz answers 200 again, {self.ended - self.began:.1f} s after the stop")
        except (subprocess.CalledProcessError, RuntimeError) as error:
            self.error = str(error)


class Faults(threading.Thread):
    """SIGKILLs each of ``FAULTS`` of `make cluster` (the process supervisord started, not its children), one
    after another: the first ``FAULT_SPACING`` s into the load, each next one that long after the cluster was
    whole again (the program running under a new pid, /healthz answering 200)."""

    def __init__(self, *, cluster_dir: Path, health_url: str, site: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.cluster_dir, self.health_url, self.site = cluster_dir, health_url, site
        self.windows: list[tuple[str, float, float | None]] = []  # (program, killed at, whole again at)
        self.error = ""

    def run(self) -> None:
        try:
            for name in FAULTS:
                time.sleep(FAULT_SPACING)
                pid = supervised_pid(self.cluster_dir, name)
                if not pid:
                    log(f"faults: {name} is not one of the cluster's programs (DATABASE_URL is set?): skipped")
                    continue
                killed_at = time.time()
                os.kill(pid, signal.SIGKILL)
                log(f"faults: killed {name} (pid {pid}) with SIGKILL")
                self.windows.append((name, killed_at, None))
                deadline = time.monotonic() + 120
                while supervised_pid(self.cluster_dir, name) in (0, pid):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} was not started again within 120 s")
                    time.sleep(0.2)
                wait_healthy(self.health_url, site=self.site, timeout=120)
                self.windows[-1] = (name, killed_at, time.time())
                log(f"faults: the cluster is whole again {time.time() - killed_at:.1f} s after killing {name}")
        except (OSError, RuntimeError) as error:
            self.error = str(error)


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")


def percentile_table(stats_csv: Path) -> tuple[list[list[str]], dict]:
    with stats_csv.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    table = [["endpoint", "requests", "failures", "p50 ms", "p95 ms", "p99 ms"]]
    total = {}
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        line = [name, row["Request Count"], row["Failure Count"], row["50%"], row["95%"], row["99%"]]
        if row["Name"] == "Aggregated":
            total = row
            table.append(["-" * len(cell) for cell in table[0]])
        table.append(line)
    return table, total


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(cells))


def report_faults(faults: Faults, answers: list[tuple], *, load_began: float, programs: str) -> bool:
    """Prints each kill and its window; passes when every program came back and nothing failed outside them."""
    ok = not faults.error and len(faults.windows) == sum(1 for name in FAULTS if name in programs)
    if faults.error:
        print(f"  faults: {faults.error}")
    windows = []
    for name, killed_at, whole_at in faults.windows:
        if whole_at is None:
            print(f"  {name}: killed {killed_at - load_began:.0f} s in; never whole again")
            continue
        end = whole_at + OUTAGE_TAIL
        windows.append((killed_at, end))
        touching = [answer for answer in answers if answer[4] <= end and answer[0] >= killed_at]
        print(
            f"  {name}: killed {killed_at - load_began:.0f} s in, the cluster whole again "
            f"{whole_at - killed_at:.1f} s later; in that window (+{OUTAGE_TAIL} s): {len(touching)} requests, "
            f"{sum(answer[2] for answer in touching)} failed"
        )
    outside = [
        answer
        for answer in answers
        if answer[2] and not any(answer[4] <= end and answer[0] >= start for start, end in windows)
    ]
    after = [answer for answer in answers if windows and answer[4] > windows[-1][1]]
    print(
        f"  Failures outside the windows: {len(outside)}. After the last one: {len(after)} requests, "
        f"{sum(answer[2] for answer in after)} failed."
    )
    for ended, status, _failed, name, began in outside[:10]:
        answered = status or "nothing"
        print(f"    {name} begun {began - load_began:.1f} s in, answered {answered} {ended - began:.2f} s later")
    running = [line for line in programs.splitlines() if line.split()[1:2] == ["RUNNING"]]
    print(f"  At the end, supervisord runs {len(running)} of {len(programs.splitlines())} programs:")
    print("\n".join(f"    {line}" for line in programs.splitlines()))
    return ok and not outside and len(after) > 0 and len(running) == len(programs.splitlines())


def main() -> int:
    users = int(os.environ.get("LOADTEST_USERS", "50"))
    seconds = int(os.environ.get("LOADTEST_TIME", "60"))
    outage = os.environ.get("LOADTEST_OUTAGE", "") not in {"", "0", "false", "no"}
    faults = os.environ.get("LOADTEST_FAULTS", "") not in {"", "0", "false", "no"}
    if outage and faults:
        log("LOADTEST_OUTAGE and LOADTEST_FAULTS are two runs: set one of them.")
        return 2
    if faults and seconds < MIN_FAULTS_RUN:
        log(f"The fault run needs LOADTEST_TIME of {MIN_FAULTS_RUN} s or more: four kills, each with time after it.")
        return 2
    if outage and os.environ.get("DATABASE_URL"):
        log("The outage run stops and starts the embedded PostgreSQL; a DATABASE_URL server is not ours to restart.")
        log("Unset DATABASE_URL for it (the run then uses an embedded server of its own).")
        return 2
    if outage and seconds < MIN_OUTAGE_RUN:
        log(f"The outage run needs LOADTEST_TIME of {MIN_OUTAGE_RUN} s or more: time before, during and after it.")
        return 2
    run_id = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = BASE_DIR / ".loadtest" / run_id
    folder.mkdir(parents=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The people say they came over HTTPS (X-Forwarded-Proto), as a TLS proxy in front would; /healthz is
        # polled over plain HTTP.
        "SECURE_SSL_REDIRECT": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if not os.environ.get("DATABASE_URL"):
        env["STREAM_PGDATA"] = str(folder / "pgdata")
    # `make cluster` keeps its nginx configuration, pid and log files here, not in the checkout's .cluster/.
    env["CLUSTER_DIR"] = str(folder / "cluster")
    command = site_command()
    if faults and "cluster" not in command:
        log(f"The fault run kills `make cluster`'s processes; the site command is {shlex.join(command)}.")
        return 2
    log(f"run {run_id}: {users} people for {seconds} s against {base_url}, site: {shlex.join(command)}")
    log(f"files in {folder.relative_to(BASE_DIR)}/ (the site's output in site.log)")
    site_log = (folder / "site.log").open("w")
    site = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=site_log, stderr=subprocess.STDOUT, start_new_session=True
    )
    checks_output, checks_passed, events, thread = "", False, {"answers": [], "failures": []}, None
    killer = None
    programs = ""
    load_began = time.time()
    load_before = load_after = 0.0
    try:
        took = wait_healthy(f"{base_url}/healthz", site=site, timeout=STARTUP_TIMEOUT)
        log(f"the site answers /healthz after {took:.1f} s")
        data = folder / "data.json"
        subprocess.run(
            [PYTHON, "-m", "loadtest.prepare", "--learners", str(users), "--out", str(data)],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )
        markers, events_file = folder / "markers.txt", folder / "events.json"
        markers.touch()
        locust_env = env | {
            "LOADTEST_DATA": str(data),
            "LOADTEST_MARKERS": str(markers),
            "LOADTEST_EVENTS": str(events_file),
            "LOADTEST_RUN": run_id,
        }
        locust = [
            PYTHON, "-m", "locust", "-f", str(BASE_DIR / "loadtest" / "locustfile.py"), "--headless",
            "--users", str(users), "--spawn-rate", str(max(1, min(users, 5))), "--run-time", f"{seconds}s",
            "--stop-timeout", "10", "--host", base_url, "--csv", str(folder / "locust"), "--only-summary",
            "--loglevel", "WARNING", "--exit-code-on-error", "0", "--logfile", str(folder / "locust.log"),
        ]  # fmt: skip
        if outage:
            thread = Outage(
                after=seconds / 3, env=env, health_url=f"{base_url}/healthz", site=site, cluster_dir=folder / "cluster"
            )
            thread.start()
        if faults:
            killer = Faults(cluster_dir=folder / "cluster", health_url=f"{base_url}/healthz", site=site)
            killer.start()
        log("Locust is running")
        load_began = time.time()
        load_before = os.getloadavg()[0]
        with (folder / "locust-summary.txt").open("w") as summary:
            subprocess.run(
                locust,
                cwd=BASE_DIR,
                env=locust_env,
                stdout=summary,
                stderr=subprocess.STDOUT,
                timeout=seconds + 120,
                check=False,
            )
        load_after = os.getloadavg()[0]
        for helper in (thread, killer):
            if helper is not None:
                helper.join(timeout=180)
        if killer is not None:
            programs = supervisorctl(folder / "cluster", "status")
        events = json.loads(events_file.read_text(encoding="utf-8")) if events_file.exists() else events
        log("checking the data")
        check = subprocess.run(
            [PYTHON, "manage.py", "check_integrity", "--markers", str(markers), "--no-color", "--skip-checks"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        checks_output, checks_passed = (check.stdout + check.stderr).strip(), check.returncode == 0
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log(f"the run stopped: {error} (the site's output is in site.log)")
        return 1
    finally:
        log("stopping the site")
        stop_site(site)
        site_log.close()
        if "STREAM_PGDATA" in env and not os.environ.get("LOADTEST_KEEP"):
            shutil.rmtree(env["STREAM_PGDATA"], ignore_errors=True)
            shutil.rmtree(f"{env['STREAM_PGDATA']}.users", ignore_errors=True)

    stats = folder / "locust_stats.csv"
    if not stats.exists():
        log("Locust wrote no statistics: see locust.log and locust-summary.txt")
        return 1
    table, total = percentile_table(stats)
    requests, failures = int(total.get("Request Count", 0)), int(total.get("Failure Count", 0))
    answers = [(ended, status, failed, name, began) for ended, status, failed, name, began in events["answers"]]
    server_errors = sum(500 <= status < 600 for _ended, status, _failed, _name, _began in answers)
    print()
    print(f"Load test {run_id}: {users} people for {seconds} s, site: {shlex.join(command)}")
    print(
        f"  machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {load_before:.1f} before the test, "
        f"{load_after:.1f} at its end"
    )
    print(f"  requests: {requests}, failures: {failures}, 5xx answers: {server_errors}")
    print_table(table)
    failures_csv = folder / "locust_failures.csv"
    if failures and failures_csv.exists():
        print("  failures:")
        with failures_csv.open(newline="", encoding="utf-8") as file:
            for row in list(csv.DictReader(file))[:10]:
                print(f"    {row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error'][:150]}")
    ok = checks_passed
    if thread is not None:
        if thread.began is None or thread.ended is None:
            print(f"  outage: did not complete ({thread.error or 'the run ended first'})")
            ok = False
        else:
            end = thread.ended + OUTAGE_TAIL
            inside = [failed for ended, _status, failed, _name, _began in answers if thread.began <= ended <= end]
            after = [failed for ended, _status, failed, _name, _began in answers if ended > end]
            outside = sum(failed for _ended, _status, failed, _name, _began in answers) - sum(inside)
            print(
                f"  outage: PostgreSQL stopped {thread.began - load_began:.0f} s in; the site answered /healthz "
                f"again {thread.ended - thread.began:.1f} s later.\n"
                f"  In that window (+{OUTAGE_TAIL} s): {len(inside)} requests, {sum(inside)} failed. "
                f"After it: {len(after)} requests, {sum(after)} failed. Failures outside the window: {outside}."
            )
            ok = ok and outside == 0 and len(after) > 0
    elif killer is not None:
        ok = ok and report_faults(killer, answers, load_began=load_began, programs=programs)
    else:
        ok = ok and failures == 0
    print("Integrity checks:")
    print("\n".join(f"  {line}" for line in checks_output.splitlines()))
    print("PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
