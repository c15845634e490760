"""`make cluster`: the production topology on one machine, in the foreground, under supervisord.

nginx listens on 127.0.0.1:$PORT (default 8000), serves /static/ itself and spreads everything else over two
gunicorn instances on free ports; beside them run the task worker, Redis on a free port (unless REDIS_URL is
set) and the embedded PostgreSQL (unless DATABASE_URL is set or the server was running already). The site runs
as in production (DEBUG off) except that it speaks plain http (HTTPS=false) and believes the one proxy in
front of it (TRUSTED_PROXY_COUNT=1).

supervisord runs them all, as systemd runs deploy/'s units on a server: a program that dies is started again,
after a delay that grows while it keeps dying at once, and ops/orphans.py kills what it left behind (a
gunicorn master's workers, PostgreSQL's backends) so that no orphan holds its port. Only Ctrl-C or SIGTERM
stops the cluster.

What the cluster writes lives in the cluster folder, $CLUSTER_DIR or .cluster/ (git-ignored): supervisord.conf,
nginx.conf, log/ (a file per program), the pid files, Redis's data (redis/) and, without SECRET_KEY in the
environment, a key generated on the first run (secret_key).

    python -m ops.cluster                             # what `make cluster` runs
    supervisorctl -c .cluster/supervisord.conf status    # while it runs: each program, its pid and uptime
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ops import orphans

BASE_DIR = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = Path(__file__).with_name("cluster.nginx.conf")
# Straight to our own ports, whatever http_proxy says.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
READY_WITHIN = 120  # seconds


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
    """The cluster's nginx configuration, from ops/cluster.nginx.conf."""
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
    """A [program:name] of supervisord.conf."""

    name: str
    command: list[str]
    priority: int  # started in this order, stopped in the reverse one
    stop_signal: str = "TERM"
    stop_wait: int = 35  # seconds before SIGKILL
    user: str | None = None


def supervisord_config(folder: Path, programs: list[Program]) -> str:
    """supervisord.conf for ``programs``, their output in log/<name>.log, ops/orphans.py listening."""
    parser = configparser.RawConfigParser()
    log = folder / "log"
    parser["supervisord"] = {
        "nodaemon": "true",
        "logfile": str(log / "supervisord.log"),
        "pidfile": str(folder / "supervisord.pid"),
        "childlogdir": str(log),
    }
    if os.geteuid() == 0:
        parser["supervisord"]["user"] = "root"  # on purpose: nginx and PostgreSQL drop to their own users
    # supervisorctl finds the socket and a password made for this run here, in a file only its owner reads.
    password = secrets.token_urlsafe(24)
    parser["unix_http_server"] = {
        "file": str(folder / "supervisor.sock"),
        "chmod": "0700",
        "username": "cluster",
        "password": password,
    }
    parser["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    parser["supervisorctl"] = {
        "serverurl": f"unix://{folder / 'supervisor.sock'}",
        "username": "cluster",
        "password": password,
    }
    for program in programs:
        section = {
            "command": shlex.join(program.command),
            "directory": str(BASE_DIR),
            "priority": str(program.priority),
            "autorestart": "true",
            # Up for a second counts as started; one that dies sooner is tried again after 1, 2, 3… seconds.
            "startsecs": "1",
            "startretries": "100",
            "stopsignal": program.stop_signal,
            "stopwaitsecs": str(program.stop_wait),
            "stopasgroup": "true",
            "killasgroup": "true",
            "redirect_stderr": "true",
            "stdout_logfile": str(log / f"{program.name}.log"),
            "stdout_logfile_maxbytes": "10MB",
            "stdout_logfile_backups": "2",
        }
        if program.user:
            section["user"] = program.user
        parser[f"program:{program.name}"] = section
    parser["eventlistener:orphans"] = {
        "command": shlex.join([sys.executable, "-m", "ops.orphans"]),
        "directory": str(BASE_DIR),
        "events": "PROCESS_STATE_EXITED,PROCESS_STATE_BACKOFF",
        "priority": "1",
        "autorestart": "true",
        "stderr_logfile": str(log / "orphans.log"),
        "stdout_logfile": "NONE",
    }
    text = io.StringIO()
    parser.write(text)
    return text.getvalue()


def serving(url: str) -> bool:
    try:
        with DIRECT.open(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def prepare_database(environment: dict[str, str]) -> Program | None:
    """Migrate and collect the static files; the embedded PostgreSQL's program when the cluster is to run it.

    The embedded server is started as `make run` starts it (created on first use), migrated, then stopped for
    supervisord to start in the foreground. One that was running already (`make db`) is left as it is.
    """
    from ops import embedded_db

    takes_over = not environment.get("DATABASE_URL") and not embedded_db.is_running()
    if takes_over:
        embedded_db.start()
    # Django set up under the cluster's settings, in this process.
    os.environ.clear()
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("wait_for_database", timeout=60)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", "--no-input", "--if-changed", verbosity=1)
    connections.close_all()
    if not takes_over:
        return None
    command, user = embedded_db.foreground_command()
    embedded_db.stop()
    # SIGINT is PostgreSQL's fast shutdown: open connections do not hold it up.
    return Program("postgres", command, priority=10, stop_signal="INT", stop_wait=60, user=user)


def main() -> int:
    begun = time.monotonic()
    folder = Path(os.environ.get("CLUSTER_DIR") or BASE_DIR / ".cluster").resolve()
    port = int(os.environ.get("PORT") or 8000)
    for name in ["temp", "log"]:
        (folder / name).mkdir(parents=True, exist_ok=True)

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
        # Written by the web processes themselves, not relayed by supervisord line by line.
        "REQUEST_LOG_FILE": str(folder / "log" / "requests.log"),
    }
    print(key_source, flush=True)
    postgres = prepare_database(environment)
    from django.conf import settings

    static_root = Path(settings.STATIC_ROOT)
    web_ports = [free_port(), free_port()]
    (folder / "nginx.conf").write_text(
        nginx_config(folder=folder, port=port, web_ports=web_ports, static_root=static_root)
    )
    workers = os.environ.get("WEB_CONCURRENCY") or "2"
    programs = [postgres] if postgres else []
    if redis_server:
        (folder / "redis").mkdir(exist_ok=True)
        # A cache, not a store: a Redis started again after a crash begins empty rather than from an old
        # snapshot whose page versions would serve pages from before the crash.
        redis_options = ["--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(folder / "redis")]
        redis_options += ["--daemonize", "no", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
        programs.append(Program("redis", [redis_server, *redis_options], priority=20))
    for number, web_port in enumerate(web_ports, start=1):
        gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{web_port}"]
        gunicorn += ["--workers", workers, "--no-control-socket", "--pid", str(folder / f"web-{number}.pid")]
        programs.append(Program(f"web-{number}", gunicorn, priority=30))
    # SIGTERM lets the worker finish the task in hand.
    programs.append(Program("worker", [sys.executable, "manage.py", "db_worker"], priority=40, stop_wait=60))
    nginx_command = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    programs.append(Program("nginx", nginx_command, priority=50, stop_signal="QUIT"))
    config = folder / "supervisord.conf"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(supervisord_config(folder, programs))

    # A session of its own, so that ops/orphans.py finds the cluster's processes and nothing else; the
    # terminal's Ctrl-C reaches this process, which passes it on.
    supervisord = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
        cwd=BASE_DIR,
        env=environment,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )

    def request_stop(signum, frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            supervisord.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        # Both instances first, then through nginx: a request nginx sent to an instance still starting would
        # make it leave that one alone for a while.
        waiting = [f"http://127.0.0.1:{web_port}/healthz" for web_port in web_ports]
        waiting.append(f"http://127.0.0.1:{port}/healthz")
        deadline = time.monotonic() + READY_WITHIN
        while supervisord.poll() is None and waiting:
            if serving(waiting[0]):
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                print(f"Not serving after {READY_WITHIN} s: see the logs in {folder / 'log'}/.", flush=True)
                break
            time.sleep(0.2)
        else:
            if supervisord.poll() is None:
                instances = ", ".join(f"127.0.0.1:{web_port}" for web_port in web_ports)
                print(
                    f"Stream is serving at http://127.0.0.1:{port}/ (up in {time.monotonic() - begun:.1f} s): "
                    f"nginx in front of gunicorn on {instances}, the worker, Redis at {redis_url}"
                    f"{', PostgreSQL' if postgres else ''}, under supervisord. Logs in {folder / 'log'}/; "
                    f"`supervisorctl -c {config} status` shows each program. Ctrl-C stops all of it.",
                    flush=True,
                )
        code = supervisord.wait()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the shutdown
        # Whatever supervisord leaves (it was killed, say) goes with it.
        for pid, _group in orphans.session_processes(supervisord.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        supervisord.wait()
    print("The cluster has stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
