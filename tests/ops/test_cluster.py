"""`make cluster` (ops/cluster.py) and deploy/'s nginx site: nginx accepts both, and the cluster serves
through nginx from both gunicorn instances, as a real server does, and goes on when one of them dies."""

import contextlib
import datetime
import grp
import gzip
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from allauth.account.models import EmailAddress
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from ops import cluster
from ops.pyodide import VERSION
from tests.accounts.live import Browser, free_port, site_environment
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]
DEPLOY_SITE = BASE_DIR / "deploy" / "nginx" / "stream.conf"
TEMP_PATHS = "".join(
    f"{name}_temp_path {{folder}}/{name};\n" for name in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
)


@pytest.fixture(scope="session")
def nginx() -> str:
    path = cluster.find_program("nginx", "nginx")
    if not path:
        pytest.skip("nginx is not installed and cannot be installed here (only root on Debian installs it)")
    return path


def nginx_accepts(nginx: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx, "-t", "-p", str(config.parent), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_nginx_accepts_the_cluster_configuration(nginx, tmp_path):
    (tmp_path / "temp").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        cluster.nginx_config(folder=tmp_path, port=8000, web_ports=[8001, 8002], static_root=BASE_DIR / "staticfiles")
    )
    result = nginx_accepts(nginx, config)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def self_signed_certificate(folder: Path) -> None:
    """fullchain.pem and privkey.pem for stream.example.com, as certbot leaves them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stream.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def deploy_site(folder: Path, *, checkout: Path, ports: tuple[int, int] | None = None) -> Path:
    """deploy/'s site in ``folder`` inside what Debian's /etc/nginx/nginx.conf around sites-enabled/ amounts to,
    every path filled in (the checkout's is ``checkout``), on loopback ``ports`` (http, https) when given."""
    self_signed_certificate(folder)
    site = DEPLOY_SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/stream.example.com/", f"{folder}/")
    site = site.replace("/srv/stream/", f"{checkout}/")
    directives = re.sub(r"#.*", "", site)
    assert "/etc/letsencrypt" not in directives and "/srv/stream" not in directives
    if ports:
        site = site.replace("listen [::]:80;", "").replace("listen [::]:443 ssl;", "")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{ports[0]};")
        site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{ports[1]} ssl;")
    (folder / "stream.conf").write_text(site)
    config = folder / "nginx.conf"
    temp_paths = TEMP_PATHS.format(folder=folder)
    # Debian's nginx.conf includes mime.types, which has no .mjs; these are the types of the static files it has.
    mime_types = (
        "types {\ntext/css css;\napplication/javascript js;\napplication/json json;\napplication/wasm wasm;\n}\n"
    )
    user = (
        f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"
        if os.geteuid() == 0
        else ""
    )
    config.write_text(
        f"{user}daemon off;\npid {folder}/nginx.pid;\nevents {{}}\n"
        f"http {{\n{mime_types}{temp_paths}access_log off;\ngzip on;\ninclude {folder}/stream.conf;\n}}\n"
    )
    return config


def test_nginx_accepts_the_deploy_site_with_its_placeholders_filled(nginx, tmp_path):
    result = nginx_accepts(nginx, deploy_site(tmp_path, checkout=BASE_DIR))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def collected_pyodide(static_root: Path) -> dict[str, bytes]:
    """Pyodide's folder as collectstatic leaves it in STATIC_ROOT, small: each file and its .gz (none for the zip)."""
    files = {
        "pyodide.asm.wasm": b"\0asm\1\0\0\0" + bytes(1000),
        "pyodide.mjs": b"export const version = '0';\n" * 40,
        "pyodide-lock.json": b'{"packages": {}}' * 40,
        "python_stdlib.zip": b"PK\5\6" + bytes(18),
    }
    folder = static_root / "pyodide" / VERSION
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
        if not name.endswith(".zip"):
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
    return files


@contextlib.contextmanager
def running_nginx(nginx: str, config: Path, port: int):
    process = subprocess.Popen(
        [nginx, "-p", str(config.parent), "-c", str(config), "-e", "stderr"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def assert_serves_pyodide(opener: urllib.request.OpenerDirector, site: str, files: dict[str, bytes]) -> None:
    """nginx sends Pyodide's files itself: the .gz beside each, its type, cached for a year though unhashed."""
    types = {
        "pyodide.asm.wasm": "application/wasm",
        "pyodide.mjs": "text/javascript",
        "pyodide-lock.json": "application/json",
        "python_stdlib.zip": "application/zip",
    }
    for name, media_type in types.items():
        status, headers, body = get(opener, f"{site}/static/pyodide/{VERSION}/{name}", **{"Accept-Encoding": "gzip"})
        assert status == 200, name
        assert headers["Content-Type"] == media_type, name
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable", name
        if name.endswith(".zip"):
            assert "Content-Encoding" not in headers and body == files[name]
        else:
            assert headers["Content-Encoding"] == "gzip", name
            assert gzip.decompress(body) == files[name], name


def test_the_cluster_nginx_serves_pyodide_compressed_typed_and_cached_for_good(nginx, tmp_path):
    (tmp_path / "temp").mkdir()
    files = collected_pyodide(tmp_path / "staticfiles")
    port = free_port()
    config = tmp_path / "nginx.conf"
    web_ports = [free_port(), free_port()]
    config.write_text(
        cluster.nginx_config(folder=tmp_path, port=port, web_ports=web_ports, static_root=tmp_path / "staticfiles")
    )
    with running_nginx(nginx, config, port):
        assert_serves_pyodide(cluster.DIRECT, f"http://127.0.0.1:{port}", files)


def test_the_deploy_site_serves_pyodide_compressed_typed_and_cached_for_good(nginx, tmp_path):
    """Debian's mime.types, which the site's nginx.conf includes, knows no .mjs: the site's own types do."""
    files = collected_pyodide(tmp_path / "staticfiles")
    port = free_port()
    config = deploy_site(tmp_path, checkout=tmp_path, ports=(free_port(), port))
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=insecure)
    )
    with running_nginx(nginx, config, port):
        assert_serves_pyodide(opener, f"https://127.0.0.1:{port}", files)


def get(opener: urllib.request.OpenerDirector, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as answer:  # 3xx (not followed) and errors
        return answer.code, dict(answer.headers), answer.read()


def instance(headers: dict[str, str]) -> str:
    """The gunicorn that answered, as nginx names it (after a retry, the last one tried)."""
    return headers["X-Stream-Upstream"].split(",")[-1].strip()


class Output:
    """The cluster's output, read as it comes so the pipe never fills."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=lambda: self.lines.extend(process.stdout), daemon=True)
        self.thread.start()

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, process: subprocess.Popen, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.text():
            assert process.poll() is None, f"the cluster exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {text!r} within {seconds} s:\n{self.text()}"
            time.sleep(0.2)


@contextlib.contextmanager
def running_cluster(folder: Path, environment: dict[str, str]):
    """`make cluster` in ``folder``; stopped as Ctrl-C stops it, and nothing of it may outlive that."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.cluster"],
        cwd=BASE_DIR,
        env=environment | {"CLUSTER_DIR": str(folder)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    processes = []
    try:
        output.wait_for("Stream is serving at", process, 180)
        processes = psutil.Process(process.pid).children(recursive=True)
        yield output
        processes += psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        output.thread.join(timeout=5)
    assert "The cluster has stopped." in output.text()
    left = [" ".join(p.cmdline()) for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], "processes outlived the cluster"


def supervised_pid(folder: Path, name: str) -> int:
    """The pid supervisord has for program ``name``, asked as an operator asks (supervisorctl), 0 if not running."""
    answer = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(folder / "supervisord.conf"), "pid", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(answer.stdout.strip()) if answer.stdout.strip().isdigit() else 0


def started_again(folder: Path, name: str, old: int, seconds: float = 30) -> int:
    """The new pid of ``name`` once supervisord runs it again and it has stayed up (its RUNNING state)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (pid := supervised_pid(folder, name)) not in (0, old):
            return pid
        time.sleep(0.2)
    raise AssertionError(f"{name} was not started again within {seconds} s")


def cluster_environment(port: int, **extra: str) -> dict[str, str]:
    environment = site_environment(PORT=str(port), WEB_CONCURRENCY="1", **extra)
    for name in ["REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"]:  # the cluster's own, not the test run's
        environment.pop(name, None)
    return environment


def requires_redis_server() -> None:
    if not cluster.find_program("redis-server", "redis-server"):
        pytest.skip("redis-server is not installed and cannot be installed here (only root on Debian installs it)")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_cache")
def test_the_cluster_serves_through_nginx_from_both_instances_and_starts_again_what_dies(nginx, tmp_path):
    requires_redis_server()
    learner = UserFactory(email="ada@example.com")
    # Hashed with few iterations, so the servers (which use the real hashers) check it quickly.
    learner.password = PBKDF2PasswordHasher().encode("correct horse battery", "saltsaltsalt", iterations=1000)
    learner.save()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    with running_cluster(tmp_path, cluster_environment(port)) as output:
        assert f"SECRET_KEY generated into {tmp_path}/secret_key" in output.text()
        browser = Browser(site)

        status, headers, page = get(browser.opener, f"{site}/")
        assert status == 200
        # Each web process writes its request lines to the file itself; none is relayed into its program's log.
        assert "path=/ status=200" in (tmp_path / "log" / "requests.log").read_text()
        assert "stream.request" not in (tmp_path / "log" / "web-1.log").read_text()
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.decode())[1]
        status, headers, _ = get(browser.opener, f"{site}{stylesheet}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Content-Encoding"] == "gzip"
        assert "X-Stream-Upstream" not in headers, "nginx answered a static file, not gunicorn"
        wasm = f"{site}/static/pyodide/{VERSION}/pyodide.asm.wasm"
        status, headers, _ = get(browser.opener, wasm, **{"Accept-Encoding": "gzip"})
        assert (status, headers["Content-Type"], headers["Content-Encoding"]) == (200, "application/wasm", "gzip")
        assert "X-Stream-Upstream" not in headers, "nginx answered Pyodide's files, not gunicorn"

        status, _ = browser.submit("/accounts/login/", {"login": learner.email, "password": "correct horse battery"})
        assert status == 302, "signed in"
        answers = [get(browser.opener, f"{site}/accounts/settings/") for _ in range(6)]
        assert [status for status, _, _ in answers] == [200] * 6, "the session holds on either instance"
        both = {instance(headers) for _, headers, _ in answers}
        assert len(both) == 2, f"one instance answered everything: {both}"

        # One gunicorn master dies alone; its worker lives on and holds the port, until the cluster kills it.
        master = psutil.Process(supervised_pid(tmp_path, "web-1"))
        workers = master.children()
        assert workers, "web-1 has a worker"
        master.kill()
        answers = [get(browser.opener, f"{site}/accounts/settings/") for _ in range(10)]
        assert [status for status, _, _ in answers] == [200] * 10, "a request was lost with one instance down"
        new_master = psutil.Process(started_again(tmp_path, "web-1", master.pid))
        psutil.wait_procs(workers, timeout=10)
        assert not any(worker.is_running() for worker in workers), "the dead master's worker lives on"
        listening = rf"Listening at: http://127\.0\.0\.1:\d+ \({new_master.pid}\)"
        deadline = time.monotonic() + 30
        while not re.search(listening, (tmp_path / "log" / "web-1.log").read_text()):
            assert time.monotonic() < deadline, "the new web-1 could not take its port"
            time.sleep(0.2)

        # Each other kind of process, killed alone, is back within seconds, and what it left behind (nginx's
        # worker, which would go on holding the port) is gone; the site goes on answering.
        for name in ["worker", "redis", "nginx"]:
            old = psutil.Process(supervised_pid(tmp_path, name))
            left_behind = old.children(recursive=True)
            old.kill()
            new = started_again(tmp_path, name, old.pid)
            _, alive = psutil.wait_procs(left_behind, timeout=10)
            assert alive == [], f"{name}'s children outlived it"
            time.sleep(3)
            assert supervised_pid(tmp_path, name) == new, f"the new {name} did not stay up"
            deadline = time.monotonic() + 15
            while (status := get(browser.opener, f"{site}/accounts/settings/")[0]) != 200:
                assert time.monotonic() < deadline, f"not serving again after {name} was killed: {status}"
                time.sleep(0.2)
        assert "exited: nginx (terminated by SIGKILL; not expected)" in output.text()


def test_the_cluster_runs_the_embedded_postgresql_and_starts_it_again_after_a_crash(nginx, tmp_path):
    requires_redis_server()
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    environment = cluster_environment(port, STREAM_PGDATA=str(tmp_path / "pgdata"))
    environment.pop("DATABASE_URL")
    with running_cluster(tmp_path / "cluster", environment) as output:
        assert f"Embedded PostgreSQL is running (data in {tmp_path / 'pgdata'})" in output.text()
        postmaster = psutil.Process(supervised_pid(tmp_path / "cluster", "postgres"))
        assert postmaster.cmdline()[0].endswith("/postgres")
        postmaster.kill()
        started_again(tmp_path / "cluster", "postgres", postmaster.pid)
        deadline = time.monotonic() + 60
        while get(cluster.DIRECT, f"{site}/healthz")[0] != 200:
            assert time.monotonic() < deadline, "the site did not answer again after PostgreSQL's crash"
            time.sleep(0.5)
        status, _, _ = get(cluster.DIRECT, f"{site}/")
        assert status == 200
    assert "automatic recovery in progress" in (tmp_path / "cluster" / "log" / "postgres.log").read_text()
