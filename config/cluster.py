"""`make cluster`: the production topology on one machine, in the foreground.

nginx listens on 127.0.0.1:$PORT (default 8000), serves /static/ itself and spreads everything else over two
gunicorn instances on free ports; beside them run the task worker and, unless REDIS_URL is set, a Redis server
on a free port. The database is DATABASE_URL's, else the embedded server that `make cluster` starts. The site
runs as in production (DEBUG off) except that it speaks plain http (HTTPS=false) and believes the one proxy
in front of it (TRUSTED_PROXY_COUNT=1).

Ctrl-C or SIGTERM stops everything, and so does any process other than a web instance exiting. A web instance
that exits is started again, as systemd's Restart=always does on a server, while nginx sends its requests to
the other one.

What the cluster writes lives in the cluster folder, $CLUSTER_DIR or .cluster/ (git-ignored): nginx.conf and
nginx's pid, temp and log files, the gunicorn pid files (web.1.pid, web.2.pid), Redis's data (redis/) and,
without SECRET_KEY in the environment, a key generated on the first run (secret_key).

    python -m config.cluster     # what `make cluster` runs, after migrate
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = Path(__file__).with_name("cluster.nginx.conf")
# Straight to our own ports, whatever http_proxy says.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
READY_WITHIN = 90  # seconds
# A web instance that exits again sooner than this after its restart is broken, not crashed: the cluster stops.
WEB_MIN_UPTIME = 10


def find_program(name: str, package: str) -> str | None:
    """``name`` on PATH or in the sbin folders; else Debian's ``package`` installed now when root on Debian."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    if path := shutil.which(name, path=search):
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Installing Debian's {package} package for the cluster…", file=sys.stderr, flush=True)
        environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "-qq", "-o", "DPkg::Lock::Timeout=300"]
        subprocess.run([*apt, "update"], env=environment, check=False)
        subprocess.run([*apt, "install", "-y", package], env=environment, check=False)
        return shutil.which(name, path=search)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def secret_key(folder: Path) -> tuple[str, str]:
    """SECRET_KEY from the environment, else the one generated into the cluster folder on the first run."""
    if key := os.environ.get("SECRET_KEY"):
        return key, "SECRET_KEY from the environment"
    path = folder / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
        return path.read_text(), f"SECRET_KEY generated into {path} (set SECRET_KEY to use your own)"
    return path.read_text(), f"SECRET_KEY from {path} (set SECRET_KEY to use your own)"


def nginx_config(*, folder: Path, port: int, web_ports: list[int], static_root: Path) -> str:
    """The cluster's nginx configuration, from config/cluster.nginx.conf."""
    user = ""
    if os.geteuid() == 0:
        # nginx's workers would run as nobody; they read the project's static files, so they run as their owner.
        import grp
        import pwd

        owner = static_root.stat() if static_root.exists() else BASE_DIR.stat()
        user = f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};"
    values = {
        "USER": user,
        "FOLDER": str(folder),
        "PORT": str(port),
        "WEB_PORT_1": str(web_ports[0]),
        "WEB_PORT_2": str(web_ports[1]),
        "STATIC_ROOT": str(static_root),
    }
    text = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert not re.search(r"@[A-Z_0-9]+@", text), "a placeholder of cluster.nginx.conf was left unfilled"
    return text


@dataclass
class Program:
    name: str
    command: list[str]
    web_port: int | None = None  # set for a web instance, which is started again when it exits
    process: subprocess.Popen | None = None
    started: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    output: threading.Thread | None = field(default=None, repr=False)


class Cluster:
    def __init__(self, programs: list[Program], environment: dict[str, str]) -> None:
        self.programs = programs
        self.environment = environment
        self.stopping = False
        self.print_lock = threading.Lock()
        width = max(len(program.name) for program in programs)
        self.prefix = {program.name: f"{program.name:<{width}} | " for program in programs}

    def say(self, name: str, line: str) -> None:
        with self.print_lock:
            print(f"{self.prefix.get(name, name + ' | ')}{line}", flush=True)

    def start(self, program: Program) -> None:
        # A session of its own: the terminal's Ctrl-C reaches this runner only, which stops everyone in order.
        program.process = subprocess.Popen(
            program.command,
            cwd=BASE_DIR,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        program.started = time.monotonic()
        program.restart_at = None
        self.say(program.name, f"started (pid={program.process.pid})")
        program.output = threading.Thread(target=self._pump, args=(program, program.process), daemon=True)
        program.output.start()

    def _pump(self, program: Program, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.say(program.name, line.rstrip("\n"))

    def wait_until_ready(self, urls: list[str]) -> bool:
        deadline = time.monotonic() + READY_WITHIN
        waiting = list(urls)
        while waiting and not self.stopping and time.monotonic() < deadline:
            if self.exited():
                return False
            try:
                with DIRECT.open(waiting[0], timeout=2) as answer:
                    if answer.status == 200:
                        waiting.pop(0)
                        continue
            except OSError:
                pass
            time.sleep(0.2)
        return not waiting

    def exited(self) -> list[Program]:
        return [program for program in self.programs if program.process and program.process.poll() is not None]

    def supervise(self) -> int:
        """Until Ctrl-C/SIGTERM or a failure: start crashed web instances again, stop on anything else."""
        while not self.stopping:
            now = time.monotonic()
            for program in self.exited():
                if program.restart_at is not None:
                    if now >= program.restart_at:
                        self.start(program)
                    continue
                code = program.process.returncode
                if program.web_port is None or (program.restarts and now - program.started < WEB_MIN_UPTIME):
                    self.say(program.name, f"exited with code {code}: stopping the cluster")
                    return 1
                self.say(program.name, f"exited with code {code}; nginx sends its requests to the other instance")
                program.restart_at = now + 1
                program.restarts += 1
            time.sleep(0.2)
        return 0

    def stop(self) -> None:
        """nginx first (no new requests), then the web instances and the worker, Redis last."""
        self.stopping = True
        rank = {"nginx": 0, "redis": 2}
        for step in (0, 1, 2):
            group = [program for program in self.programs if program.process and rank.get(program.name, 1) == step]
            for program in group:
                if program.process.poll() is None:
                    program.process.terminate()
            for program in group:
                try:
                    program.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.say(program.name, "did not stop within 30 seconds: killed")
                # Whatever is left in its session (a gunicorn worker whose master was killed, say).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(program.process.pid, signal.SIGKILL)
                program.process.wait()
                program.output.join(timeout=5)
        print("The cluster has stopped.", flush=True)


def main() -> int:
    begun = time.monotonic()
    folder = Path(os.environ.get("CLUSTER_DIR") or BASE_DIR / ".cluster").resolve()
    port = int(os.environ.get("PORT") or 8000)
    (folder / "temp").mkdir(parents=True, exist_ok=True)

    missing = "{name} is not installed and cannot be installed from here (Debian: apt-get install {package})."
    nginx = find_program("nginx", "nginx")
    if not nginx:
        print(missing.format(name="nginx", package="nginx"), file=sys.stderr)
        return 1
    redis_url = os.environ.get("REDIS_URL")
    redis_server = None
    if not redis_url:
        redis_server = find_program("redis-server", "redis-server")
        if not redis_server:
            print(missing.format(name="redis-server", package="redis-server"), file=sys.stderr)
            print("Or set REDIS_URL to a Redis server of your own.", file=sys.stderr)
            return 1
        redis_port = free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"

    key, key_source = secret_key(folder)
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment |= {
        "DEBUG": "false",
        "SECRET_KEY": key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }

    # collectstatic as `make serve` does, in this process under the cluster's settings.
    os.environ.clear()
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    print("Collecting static files…", flush=True)
    call_command("collectstatic", "--no-input", verbosity=0)
    static_root = Path(settings.STATIC_ROOT)

    web_ports = [free_port(), free_port()]
    (folder / "nginx.conf").write_text(
        nginx_config(folder=folder, port=port, web_ports=web_ports, static_root=static_root)
    )
    workers = os.environ.get("WEB_CONCURRENCY") or "2"
    programs = []
    if redis_server:
        (folder / "redis").mkdir(exist_ok=True)
        redis_options = ["--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(folder / "redis")]
        redis_options += ["--daemonize", "no", "--logfile", "", "--loglevel", "warning"]
        programs.append(Program("redis", [redis_server, *redis_options]))
    for number, web_port in enumerate(web_ports, start=1):
        gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{web_port}"]
        gunicorn += ["--workers", workers, "--no-control-socket", "--pid", str(folder / f"web.{number}.pid")]
        programs.append(Program(f"web.{number}", gunicorn, web_port=web_port))
    programs.append(Program("worker", [sys.executable, "manage.py", "db_worker"]))
    programs.append(Program("nginx", [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]))

    cluster = Cluster(programs, environment)

    def request_stop(signum, frame) -> None:
        cluster.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    print(key_source, flush=True)
    code = 1
    try:
        ready = True
        for program in programs:
            if program.name == "nginx":
                # Both instances answer before nginx takes requests.
                ready = cluster.wait_until_ready([f"http://127.0.0.1:{web_port}/healthz" for web_port in web_ports])
                if not ready:
                    break
            cluster.start(program)
        if ready and cluster.wait_until_ready([f"http://127.0.0.1:{port}/healthz"]):
            instances = ", ".join(f"127.0.0.1:{web_port}" for web_port in web_ports)
            print(
                f"Stream is serving at http://127.0.0.1:{port}/ (up in {time.monotonic() - begun:.1f} s): "
                f"nginx in front of gunicorn on {instances}, the worker, Redis at {redis_url}. "
                "Ctrl-C stops all of it.",
                flush=True,
            )
            code = cluster.supervise()
        elif cluster.stopping:
            code = 0
        else:
            print("The cluster did not come up: stopping it.", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the shutdown
        cluster.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
