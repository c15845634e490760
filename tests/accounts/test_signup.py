import re

import pytest
from django.core import mail

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
