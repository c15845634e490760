import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 42"


def sign_up(client, email: str, **extra):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra}, follow=True
    )


@pytest.mark.django_db(transaction=True)
def test_sign_up_verify_email_sign_out_and_sign_in(client, deliver_mail, clean_cache):
    response = sign_up(client, "ada@example.com")
    assert response.status_code == 200
    deliver_mail()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    confirm_url = re.search(r"http://testserver(/accounts/confirm-email/\S+)", mail.outbox[0].body)[1]

    client.post(confirm_url, follow=True)
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD}, follow=True)
    assert response.context["user"].is_authenticated
    assert "ada@example.com" in response.text
    assert "Sign out" in response.text


def test_unverified_email_cannot_sign_in(client):
    sign_up(client, "bob@example.com")
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "bob@example.com", "password": PASSWORD}, follow=True)
    assert not response.context["user"].is_authenticated


def test_a_signup_form_with_errors_keeps_the_email(client):
    response = client.post(
        "/accounts/signup/", {"email": "carol@example.com", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 200
    assert 'value="carol@example.com"' in response.text
    assert "errorlist" in response.text or "error" in response.text


@pytest.mark.django_db(transaction=True)
def test_password_reset_sends_an_email(client, learner, deliver_mail, clean_cache):
    client.post("/accounts/password/reset/", {"email": learner.email})
    deliver_mail()
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_account_pages_use_the_site_layout(client):
    for url in ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        text = client.get(url).text
        assert 'class="site-header"' in text
        assert 'class="account-card"' in text
        assert "csrfmiddlewaretoken" in text


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kq8#zt", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("ada.lovelace", "The password is too similar to the e-mail address."),
        ("4815162342", "This password is entirely numeric."),
    ],
)
def test_sign_up_refuses_a_weak_password_and_says_why(client, password, reason):
    response = client.post(
        "/accounts/signup/", {"email": "ada.lovelace@example.com", "password1": password, "password2": password}
    )
    assert response.status_code == 200
    assert reason in response.text
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_signing_up_with_a_taken_address_tells_only_its_owner(client, deliver_mail, clean_cache):
    """The page answers as for a new address, so nobody learns who has an account; the owner gets a mail."""
    owner = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    response = sign_up(client, "Ada@Example.com")
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.com"]
    deliver_mail()
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["ada@example.com"], "[Stream] Account Already Exists")
    ]
