"""`make cluster` (config/cluster.py) and deploy/'s nginx site: nginx accepts both, and the cluster serves
through nginx from both gunicorn instances, as a real server does, and goes on when one of them dies."""

import datetime
import re
import signal
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

from config import cluster
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


def test_nginx_accepts_the_deploy_site_with_its_placeholders_filled(nginx, tmp_path):
    self_signed_certificate(tmp_path)
    site = DEPLOY_SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/stream.example.com/", f"{tmp_path}/")
    site = site.replace("/srv/stream/", f"{BASE_DIR}/")
    directives = re.sub(r"#.*", "", site)
    assert "/etc/letsencrypt" not in directives and "/srv/stream" not in directives
    (tmp_path / "stream.conf").write_text(site)
    # What Debian's /etc/nginx/nginx.conf around sites-enabled/ amounts to, with every path in tmp.
    config = tmp_path / "nginx.conf"
    temp_paths = TEMP_PATHS.format(folder=tmp_path)
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n{temp_paths}gzip on;\ninclude {tmp_path}/stream.conf;\n}}\n"
    )
    result = nginx_accepts(nginx, config)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_cache")
def test_the_cluster_serves_through_nginx_from_both_instances_and_goes_on_without_one(nginx, tmp_path):
    if not cluster.find_program("redis-server", "redis-server"):
        pytest.skip("redis-server is not installed and cannot be installed here (only root on Debian installs it)")
    learner = UserFactory(email="ada@example.com")
    # Hashed with few iterations, so the servers (which use the real hashers) check it quickly.
    learner.password = PBKDF2PasswordHasher().encode("correct horse battery", "saltsaltsalt", iterations=1000)
    learner.save()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)

    port = free_port()
    environment = site_environment(PORT=str(port), CLUSTER_DIR=str(tmp_path), WEB_CONCURRENCY="1")
    for name in ["REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"]:  # the cluster's own, not the test run's
        environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "config.cluster"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    site = f"http://127.0.0.1:{port}"
    try:
        output.wait_for("Stream is serving at", process, 120)
        assert f"SECRET_KEY generated into {tmp_path}/secret_key" in output.text()
        browser = Browser(site)

        status, headers, page = get(browser.opener, f"{site}/")
        assert status == 200
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.decode())[1]
        status, headers, _ = get(browser.opener, f"{site}{stylesheet}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Content-Encoding"] == "gzip"
        assert "X-Stream-Upstream" not in headers, "nginx answered a static file, not gunicorn"

        status, _ = browser.submit("/accounts/login/", {"login": learner.email, "password": "correct horse battery"})
        assert status == 302, "signed in"
        answers = [get(browser.opener, f"{site}/accounts/settings/") for _ in range(6)]
        assert [status for status, _, _ in answers] == [200] * 6, "the session holds on either instance"
        both = {instance(headers) for _, headers, _ in answers}
        assert len(both) == 2, f"one instance answered everything: {both}"

        # One instance dies, master and worker at once, as in a crash.
        master = psutil.Process(int((tmp_path / "web.1.pid").read_text()))
        dead = re.search(r"web\.1 +\| .*Listening at: http://(127\.0\.0\.1:\d+)", output.text())[1]
        for doomed in [*master.children(recursive=True), master]:
            doomed.kill()
        answers = [get(browser.opener, f"{site}/accounts/settings/") for _ in range(10)]
        assert [status for status, _, _ in answers] == [200] * 10, "a request was lost with one instance down"
        assert dead not in instance(answers[0][1])

        output.wait_for("web.1  | exited with code", process, 10)
        cluster_processes = psutil.Process(process.pid).children(recursive=True)
        assert len(cluster_processes) >= 6  # redis, two gunicorn masters and their workers, the worker, nginx
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        output.thread.join(timeout=5)
    assert "The cluster has stopped." in output.text()
    left = [" ".join(p.cmdline()) for p in cluster_processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], "processes outlived the cluster"
