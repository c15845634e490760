import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.accounts.live import database_url

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-enough-0123456789abcdef",
    "ALLOWED_HOSTS": "stream.example.com",
}


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with ``environment`` (a value of None removes the variable)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENVIRONMENT and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env |= environment
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENVIRONMENT,
        DATABASE_URL="postgresql://stream@db.example.com/stream",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="stream.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_github_and_google_sign_in_switch_on_with_their_keys():
    script = (
        "from django.conf import settings; "
        "print(sorted(settings.SOCIALACCOUNT_PROVIDERS)); "
        "print([app for app in settings.INSTALLED_APPS if '.providers.' in app])"
    )
    without = run_manage("shell", "--no-imports", "-c", script)
    assert without.stdout.splitlines() == ["[]", "[]"], without.stderr
    keys = {
        "GITHUB_CLIENT_ID": "gh-id",
        "GITHUB_CLIENT_SECRET": "gh-secret",
        "GOOGLE_CLIENT_ID": "g-id",
        "GOOGLE_CLIENT_SECRET": "g-secret",
    }
    with_keys = run_manage("shell", "--no-imports", "-c", script, **keys)
    assert with_keys.stdout.splitlines() == [
        "['github', 'google']",
        "['allauth.socialaccount.providers.github', 'allauth.socialaccount.providers.google']",
    ], with_keys.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", **(PRODUCTION_ENVIRONMENT | {"ALLOWED_HOSTS": " , "}))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_on_the_embedded_database_is_flagged():
    result = run_manage("check", **PRODUCTION_ENVIRONMENT, DATABASE_URL=None)
    assert "stream.W001" in result.stderr
    assert "DATABASE_URL is not set" in result.stderr
    development = run_manage("check", DATABASE_URL=None)
    assert "stream.W001" not in development.stderr


def test_a_django_log_line_is_printed_once():
    """Regression: the root handler repeated every django.* line that Django's own console handler printed."""
    script = "import logging; logging.getLogger('django.request').warning('marker-5b1e')"
    for debug in ["true", "false"]:
        environment = PRODUCTION_ENVIRONMENT | {"DEBUG": debug, "DATABASE_URL": "postgresql://stream@db.invalid/x"}
        result = run_manage("shell", "--no-imports", "-c", script, **environment)
        assert result.stderr.count("marker-5b1e") == 1, result.stderr


def test_a_debug_value_that_is_neither_true_nor_false_stops_the_start():
    """A typo such as DEBUG=flase must not leave the debug pages on in production."""
    result = run_manage("check", **(PRODUCTION_ENVIRONMENT | {"DEBUG": "flase"}))
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'flase'." in result.stderr


PRODUCTION_REQUESTS = """
import json
import re
from django.test import Client
client = Client(HTTP_HOST="stream.example.com")
proxied = {"HTTP_X_FORWARDED_PROTO": "https"}
health = client.get("/healthz")
page = client.get("/courses/asyncio/?page=2")
secure = client.get("/healthz", **proxied)
switched = client.post("/i18n/setlang/", {"language": "ko", "next": "/"}, **proxied)
cookie = switched.cookies["django_language"]
print(json.dumps({
    "health": [health.status_code, health.text],
    "page": [page.status_code, page.headers.get("Location")],
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "language_cookie": [bool(cookie["secure"]), cookie["samesite"]],
}))
"""


@pytest.mark.django_db
def test_production_sends_visitors_to_https_but_answers_health_checks_over_http():
    """Behind the TLS-terminating proxy: HTTPS as the proxy reports it, HSTS, secure cookies; a plain health check."""
    result = run_manage(
        "shell", "--no-imports", "-c", PRODUCTION_REQUESTS, **PRODUCTION_ENVIRONMENT, DATABASE_URL=database_url()
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["health"] == [200, "ok"]
    assert seen["page"] == [301, "https://stream.example.com/courses/asyncio/?page=2"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"  # preload only when asked for
    assert seen["language_cookie"] == [True, "Lax"]


MAIL_SETTINGS = """
import json
import re
from django.conf import settings
mailer = settings.MAILERS["default"]
print(json.dumps({"backend": mailer["BACKEND"], **mailer["OPTIONS"], "from": settings.DEFAULT_FROM_EMAIL}))
"""


def test_production_mail_goes_over_smtp_with_tls_to_a_remote_server_and_never_waits_forever():
    local = json.loads(run_manage("shell", "--no-imports", "-c", MAIL_SETTINGS, **PRODUCTION_ENVIRONMENT).stdout)
    assert local["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (local["host"], local["port"], local["use_tls"], local["timeout"]) == ("localhost", 25, False, 10)

    environment = PRODUCTION_ENVIRONMENT | {"EMAIL_HOST": "smtp.example.net"}
    remote = json.loads(run_manage("shell", "--no-imports", "-c", MAIL_SETTINGS, **environment).stdout)
    assert (remote["host"], remote["port"], remote["use_tls"], remote["timeout"]) == (
        "smtp.example.net",
        587,
        True,
        10,
    )


def test_mail_is_sent_from_the_first_allowed_host_when_no_site_domain_is_set():
    """ALLOWED_HOSTS may hold ".example.org" (every subdomain): the sender is then noreply@example.org."""
    environment = PRODUCTION_ENVIRONMENT | {"ALLOWED_HOSTS": ".learn.example.org,other.example"}
    result = run_manage("shell", "--no-imports", "-c", MAIL_SETTINGS, **environment)
    assert json.loads(result.stdout)["from"] == "Stream <noreply@learn.example.org>"


CROSS_ORIGIN_FORMS = """
import json
import re
from django.conf import settings
from django.test import Client, override_settings
# The manifest of hashed static names exists only after collectstatic; the refusal page needs one.
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
secret = "abcdefghijklmnopqrstuvwxyz012345"
client = Client(enforce_csrf_checks=True, HTTP_HOST="stream.example.com", HTTP_X_FORWARDED_PROTO="https")
client.cookies["csrftoken"] = secret
form = {"language": "ko", "csrfmiddlewaretoken": secret}
with override_settings(STORAGES=settings.STORAGES | {"staticfiles": plain}):
    answers = {
        origin: client.post("/i18n/setlang/", form, HTTP_ORIGIN=origin).status_code
        for origin in ["https://learn.example.org", "https://evil.example"]
    }
print(json.dumps(answers))
"""


def test_forms_are_accepted_from_the_trusted_origins_only():
    """Behind a proxy that serves the site under another name, CSRF_TRUSTED_ORIGINS lets its forms through."""
    environment = PRODUCTION_ENVIRONMENT | {
        "CSRF_TRUSTED_ORIGINS": "https://learn.example.org",
        "DATABASE_URL": database_url(),
    }
    result = run_manage("shell", "--no-imports", "-c", CROSS_ORIGIN_FORMS, **environment)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"https://learn.example.org": 302, "https://evil.example": 403}


def test_a_sign_in_provider_with_half_its_keys_stays_off():
    script = "from django.conf import settings; print(sorted(settings.SOCIALACCOUNT_PROVIDERS))"
    result = run_manage(
        "shell", "--no-imports", "-c", script, GITHUB_CLIENT_ID="gh-id", GOOGLE_CLIENT_SECRET="g-secret"
    )
    assert result.stdout.splitlines() == ["[]"], result.stderr


STATIC_IN_PRODUCTION = """
import json, sys, tempfile
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings
client = Client(HTTP_HOST="stream.example.com")
def answer(url, **headers):
    response = client.get(url, secure=True, **headers)
    return {"url": url, "status": response.status_code, "headers": dict(response.headers)}
with tempfile.TemporaryDirectory() as root, override_settings(STATIC_ROOT=root):
    call_command("collectstatic", "--no-input", verbosity=0)
    folder = f"/static/pyodide/{settings.PYODIDE_VERSION}/"
    answers = {"site.css": answer(static("css/site.css"))}
    for name in ["pyodide.asm.wasm", "pyodide.mjs", "pyodide.asm.mjs", "pyodide-lock.json"]:
        answers[name] = answer(folder + name, HTTP_ACCEPT_ENCODING="gzip, deflate")
    answers["unhashed site.css"] = answer("/static/css/site.css")
json.dump(answers, sys.stdout)
"""


@pytest.fixture(scope="module")
def production_static() -> dict[str, dict]:
    """What the production site (DEBUG off, the manifest storage, after collectstatic) answers for static files."""
    result = run_manage("shell", "--no-imports", "-c", STATIC_IN_PRODUCTION, **PRODUCTION_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_serves_static_files_under_hashed_names_cached_for_good(production_static):
    """A deploy changes the names of changed files, so browsers never mix an old stylesheet with a new page."""
    answer = production_static["site.css"]
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", answer["url"])
    assert (answer["status"], answer["headers"]["Cache-Control"]) == (200, "max-age=315360000, public, immutable")
    unhashed = production_static["unhashed site.css"]
    assert (unhashed["status"], unhashed["headers"]["Cache-Control"]) == (200, "max-age=60, public")


def test_production_serves_pyodide_compressed_and_cached_for_good_under_its_fixed_names(production_static):
    """Pyodide asks for its files by name under indexURL; the folder is named after the version, so a new version
    is a new URL. The 9.6 MB interpreter goes out as 3.5 MB of gzip."""
    types = {
        "pyodide.asm.wasm": "application/wasm",
        "pyodide.mjs": "text/javascript",
        "pyodide.asm.mjs": "text/javascript",
        "pyodide-lock.json": "application/json",
    }
    for name, media_type in types.items():
        answer = production_static[name]
        headers = answer["headers"]
        assert answer["status"] == 200, name
        assert headers["Content-Type"].split(";")[0] == media_type, name
        assert headers["Content-Encoding"] == "gzip", name
        assert "Accept-Encoding" in headers["Vary"], name
        cache_control = {part.strip() for part in headers["Cache-Control"].split(",")}
        max_age = next(int(part.removeprefix("max-age=")) for part in cache_control if part.startswith("max-age="))
        assert "immutable" in cache_control and max_age >= 365 * 24 * 60 * 60, name
    assert int(production_static["pyodide.asm.wasm"]["headers"]["Content-Length"]) < 5_000_000


@pytest.mark.django_db
def test_the_migrations_describe_the_models_as_they_are():
    """A model change without its migration passes every test on a fresh database and breaks the next deploy."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
