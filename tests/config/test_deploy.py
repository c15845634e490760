import os
import subprocess
import sys
from pathlib import Path

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
