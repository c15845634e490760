"""Confirming the e-mail address: the link, a new link, and the way back to where the visitor was."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache

from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "a long passphrase 42"


def confirmation_path(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body)[1]


def sign_up(client, email: str, next_url: str = ""):
    query = f"?next={next_url}" if next_url else ""
    return client.post(
        f"/accounts/signup/{query}",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "next": next_url},
        follow=True,
    )


def test_the_verification_page_sends_the_link_again(client, deliver_mail):
    """Regression: the "verify your e-mail" page had no way to have the link sent again."""
    page = sign_up(client, "ada@example.com")
    assert page.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert 'action="/accounts/resend-confirmation/"' in page.text
    assert '<input type="hidden" name="email" value="ada@example.com">' in page.text

    again = client.post("/accounts/resend-confirmation/", {"email": "ada@example.com"}, follow=True)
    assert "A link was sent to ada@example.com a short while ago." in again.text, "the sign-up's own e-mail counts"
    deliver_mail()
    assert len(mail.outbox) == 1

    cache.clear()  # the three minutes of allauth's confirm_email limit have passed
    again = client.post("/accounts/resend-confirmation/", {"email": "ada@example.com"}, follow=True)
    assert "a new link is on its way" in again.text
    deliver_mail()
    assert len(mail.outbox) == 2
    client.post(confirmation_path(mail.outbox[1]))
    assert EmailAddress.objects.get(email="ada@example.com").verified


def test_an_expired_link_offers_a_new_one_without_signing_in(client, deliver_mail):
    """Regression: an invalid link led to the e-mail page, which needs sign-in, which led back to "verify"."""
    sign_up(client, "ada@example.com")
    client.cookies.clear()  # the link is opened in another browser, days later
    page = client.get("/accounts/confirm-email/an-expired-key/")
    assert "This link has expired or has already been used." in page.text
    assert 'action="/accounts/resend-confirmation/"' in page.text
    assert 'href="/accounts/email/"' not in page.text

    cache.clear()
    response = client.post("/accounts/resend-confirmation/", {"email": "Ada@Example.com"}, follow=True)
    assert response.redirect_chain == [("/accounts/confirm-email/", 302)]
    deliver_mail()
    assert [message.to for message in mail.outbox] == [["ada@example.com"], ["ada@example.com"]]
    confirmed = client.post(confirmation_path(mail.outbox[1]), follow=True)
    assert "You have confirmed ada@example.com." in confirmed.text
    assert EmailAddress.objects.get(email="ada@example.com").verified


def test_asking_for_a_new_link_does_not_tell_who_has_an_account(client, deliver_mail):
    verified = UserFactory(email="known@example.com")
    EmailAddress.objects.create(user=verified, email=verified.email, primary=True, verified=True)
    answers = [
        client.post("/accounts/resend-confirmation/", {"email": email}, follow=True).text
        for email in ["known@example.com", "nobody@example.com"]
    ]
    assert "If known@example.com belongs to an account that still needs confirming" in answers[0]
    assert "If nobody@example.com belongs to an account that still needs confirming" in answers[1]
    deliver_mail()
    assert mail.outbox == []


def test_sign_up_returns_to_the_page_the_visitor_came_from(client, deliver_mail):
    LessonFactory(course__slug="asyncio", slug="tasks")
    lesson = client.get("/courses/asyncio/tasks/").text
    assert 'href="/accounts/signup/?next=/courses/asyncio/tasks/"' in lesson
    signup_page = client.get("/accounts/signup/?next=/courses/asyncio/tasks/").text
    assert 'href="/accounts/login/?next=/courses/asyncio/tasks/"' in signup_page, "the header's Sign in keeps it"

    sign_up(client, "ada@example.com", next_url="/courses/asyncio/tasks/")
    deliver_mail()
    confirmed = client.post(confirmation_path(mail.outbox[0]))

    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/courses/asyncio/tasks/"
    assert client.get("/").context["user"].is_authenticated


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_sign_up_never_returns_to_another_site(client, deliver_mail, next_url):
    sign_up(client, "ada@example.com", next_url=next_url)
    deliver_mail()
    confirmed = client.post(confirmation_path(mail.outbox[0]))
    assert confirmed["Location"] == "/"


def test_after_a_password_change_the_learner_is_led_on(client, learner):
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    client.force_login(learner)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "correct horse battery", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain == [("/accounts/settings/", 302)]
    assert "Password successfully changed." in response.text
    assert 'href="/"' in response.text and "Back to the courses" in response.text


def test_a_password_reset_ends_with_a_way_to_sign_in(client):
    text = client.get("/accounts/password/reset/key/done/").text
    assert "Your password is now changed." in text
    assert 'href="/accounts/login/"' in text


def test_one_visitor_cannot_have_links_sent_to_many_addresses(client, deliver_mail):
    """Five a minute from one address: the form must not be a way to flood strangers' inboxes."""
    for n in range(6):
        stranger = UserFactory(email=f"stranger{n}@example.com")
        EmailAddress.objects.create(user=stranger, email=stranger.email, primary=True, verified=False)
    answers = [
        client.post("/accounts/resend-confirmation/", {"email": f"stranger{n}@example.com"}, follow=True).text
        for n in range(6)
    ]
    assert all("a new link is on its way" in answer for answer in answers[:5])
    assert "A link was sent to stranger5@example.com a short while ago." in answers[5]
    deliver_mail()
    assert len(mail.outbox) == 5


def test_an_address_written_in_capitals_shares_the_limit_of_the_address(client, deliver_mail):
    """The per-address limit counts "Ada@Example.com" as "ada@example.com": case cannot multiply the mails."""
    sign_up(client, "ada@example.com")
    client.cookies.clear()
    for variant in ["ADA@example.com", "Ada@Example.com"]:
        answer = client.post("/accounts/resend-confirmation/", {"email": variant}, follow=True).text
        assert f"A link was sent to {variant} a short while ago." in answer
    deliver_mail()
    assert len(mail.outbox) == 1


def test_asking_for_a_link_for_something_that_is_not_an_address_says_so(client, deliver_mail):
    response = client.post("/accounts/resend-confirmation/", {"email": "ada at example"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    deliver_mail()
    assert mail.outbox == []


def test_the_verification_page_of_another_browser_asks_for_the_address(client):
    """Without a sign-up in this session the page cannot know the address: it asks, and offers another sign-up."""
    text = client.get("/accounts/confirm-email/").text
    assert "We sent you a link. Open it to confirm your e-mail address." in text
    assert '<input type="email" name="email"' in text
    assert '<a href="/accounts/signup/">Sign up with another address</a>' in text


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "courses/"])
def test_the_sign_in_and_sign_up_links_never_carry_another_sites_address(client, next_url):
    page = client.get("/accounts/signup/", {"next": next_url}).text
    header = page[page.index('<header class="site-header">') : page.index("</header>")]
    links = re.findall(r'<a (?:class="button" )?href="(/accounts/(?:login|signup)/[^"]*)"', header)
    assert links == ["/accounts/login/", "/accounts/signup/"]
