"""Per-address rate limits see the client behind our proxy, and only behind it."""

import pytest

from tests.comments.test_reports import report_url
from tests.config.test_deploy import run_manage
from tests.factories import LessonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

NGINX = "127.0.0.1"  # every request comes from the proxy's address


def fail_to_sign_in(client, number: int, forwarded_for: str) -> str:
    """A wrong password for a different address each time, so only the per-address limit can be met."""
    form = {"login": f"nobody{number}@example.com", "password": "wrong password"}
    return client.post("/accounts/login/", form, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded_for).text


def report(client, lesson, forwarded_for: str) -> int:
    form = {"kind": "typo", "message": "There is a typo."}
    return client.post(report_url(lesson), form, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded_for).status_code


def test_behind_one_proxy_two_clients_are_limited_separately(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for number in range(10):  # allauth: 10 failed sign-ins a minute per address
        assert "Too many failed login attempts" not in fail_to_sign_in(client, number, "203.0.113.1")
    assert "Too many failed login attempts" in fail_to_sign_in(client, 10, "203.0.113.1")
    assert "Too many failed login attempts" not in fail_to_sign_in(client, 11, "203.0.113.2")


def test_our_own_per_address_limit_sees_the_client_behind_the_proxy(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    lesson = LessonFactory()
    # nginx appends the address it saw to what the client sent: the last entry is the one to believe.
    first, second = "198.51.100.7, 203.0.113.1", "198.51.100.7, 203.0.113.2"
    for _ in range(5):
        assert report(client, lesson, first) == 302
    assert report(client, lesson, first) == 429
    assert report(client, lesson, second) == 302


def test_without_a_proxy_a_made_up_forwarded_for_does_not_escape_the_limit(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for number in range(10):
        fail_to_sign_in(client, number, f"203.0.113.{number}")
    assert "Too many failed login attempts" in fail_to_sign_in(client, 10, "203.0.113.99")
    lesson = LessonFactory()
    for number in range(5):
        report(client, lesson, f"203.0.113.{number}")
    assert report(client, lesson, "203.0.113.99") == 429


def test_the_number_of_trusted_proxies_comes_from_the_environment():
    script = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    assert run_manage("shell", "--no-imports", "-c", script).stdout.strip() == "0"
    assert run_manage("shell", "--no-imports", "-c", script, TRUSTED_PROXY_COUNT="1").stdout.strip() == "1"
