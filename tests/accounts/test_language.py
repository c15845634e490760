"""The account keeps the learner's interface language, for what is written to them outside a request (e-mail)."""

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 42"


def language(user: User) -> str:
    return User.objects.values_list("language", flat=True).get(pk=user.pk)


def test_an_account_starts_in_the_sites_default_language(learner):
    assert learner.language == "en"
    assert learner.email_notifications is False


def test_the_language_switch_is_kept_on_the_account_of_a_signed_in_learner(client, learner):
    client.force_login(learner)

    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ko"
    assert language(learner) == "ko"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert language(learner) == "en"


def test_switching_to_the_language_the_account_has_writes_nothing(client, learner):
    client.force_login(learner)
    with CaptureQueriesContext(connection) as queries:
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert not [query for query in queries if query["sql"].startswith('UPDATE "accounts_user"')]


@pytest.mark.parametrize("choice", ["xx", "", "ko'; --"])
def test_a_language_the_site_does_not_have_changes_nothing(client, learner, choice):
    client.force_login(learner)
    response = client.post("/i18n/setlang/", {"language": choice, "next": "/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    assert language(learner) == "en"


def test_the_switch_still_works_signed_out(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert response.cookies["django_language"].value == "ko"


def test_the_switch_is_protected_against_cross_site_posts(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.post("/i18n/setlang/", {"language": "ko", "next": "/"}).status_code == 403
    assert language(learner) == "en"


@pytest.mark.parametrize(
    "browser",
    [
        pytest.param({"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9"}, id="browser-language"),
        pytest.param({"HTTP_COOKIE": "django_language=ko", "HTTP_ACCEPT_LANGUAGE": "en"}, id="switch-cookie"),
    ],
)
def test_signing_in_keeps_the_language_the_learner_reads_in(client, browser):
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)

    response = client.post(
        "/accounts/login/", {"login": learner.email, "password": "correct horse battery"}, **browser
    )

    assert response.status_code == 302
    assert language(learner) == "ko"


def test_signing_in_from_an_english_browser_sets_english_again(client):
    learner = UserFactory(language="ko")
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    client.post(
        "/accounts/login/",
        {"login": learner.email, "password": "correct horse battery"},
        HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9",
    )
    assert language(learner) == "en"


def test_a_new_account_takes_the_language_of_the_sign_up(client):
    client.post(
        "/accounts/signup/",
        {"email": "minji@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert User.objects.get(email="minji@example.com").language == "ko"
