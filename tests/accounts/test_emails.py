"""What the account e-mails say, in English and Korean."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sites.models import Site
from django.core import mail

from tests.accounts.live import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "a long passphrase 42"

GREETINGS = {
    "en": ("Hello from Stream!", "Thank you for using Stream!"),
    "ko": ("안녕하세요, Stream입니다!", "Stream 서비스를 이용해 주셔서 감사합니다!"),
}
SUBJECTS = {
    "en": ["[Stream] Please Confirm Your Email Address", "[Stream] Password Reset Email", "[Stream] Unknown Account"],
    "ko": ["[Stream] 이메일 주소를 확인해 주세요", "[Stream] 비밀번호 재설정", "[Stream] 가입되지 않은 주소"],
}


@pytest.fixture
def learn_test_host(settings):
    settings.ALLOWED_HOSTS = ["learn.test"]
    return {"HTTP_HOST": "learn.test"}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_account_emails_name_the_site_and_link_to_the_requests_host(client, deliver_mail, learn_test_host, language):
    """Regression: account e-mails said "Hello from example.com!"."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language, **learn_test_host}
    email = f"ada-{language}@learner.test"
    client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}, **headers)
    client.post("/accounts/password/reset/", {"email": email}, **headers)
    client.post("/accounts/password/reset/", {"email": f"nobody-{language}@learner.test"}, **headers)
    deliver_mail()

    assert [message.subject for message in mail.outbox] == SUBJECTS[language]
    hello, thanks = GREETINGS[language]
    for message in mail.outbox:
        assert message.from_email == "Stream <noreply@localhost>"
        assert message.body.startswith(hello)
        assert thanks in message.body
        assert "example.com" not in message.body
        assert message.alternatives == [], "plain text only: allauth's e-mails have no HTML part"
        # Every link stands on a line of its own, so no mail program glues the next word to it.
        links = re.findall(r"\S*http\S*", message.body)
        assert links
        assert all(re.fullmatch(r"http://learn\.test/accounts/[\w/:.-]+/", link) for link in links), links


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"} | environment
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )


def test_site_name_and_domain_come_from_the_environment():
    environment = {
        "SITE_NAME": "Pyeong Academy",
        "SITE_DOMAIN": "learn.example.org",
        "DATABASE_URL": database_url(),
    }
    migrated = run_manage("migrate", "--no-input", **environment)
    assert migrated.returncode == 0, migrated.stderr
    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Pyeong Academy", "learn.example.org")

    script = (
        "from django.conf import settings; "
        "print(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX); print(settings.DEFAULT_FROM_EMAIL)"
    )
    shown = run_manage("shell", "--no-imports", "-c", script, **environment)
    assert shown.stdout.splitlines() == ["[Pyeong Academy] ", "Pyeong Academy <noreply@learn.example.org>"]
