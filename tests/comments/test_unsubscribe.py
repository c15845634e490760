"""The unsubscribe link of every notification e-mail: signed, works signed out, and only ever turns e-mail off."""

import re

import pytest
from django.core import signing
from django.test import Client

from accounts.models import User
from comments.models import Follow
from comments.notification_mail import unsubscribe_token
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return UserFactory(display_name="Ada", email_notifications=True, language="ko", on_leaderboard=False)


def link(user_id: int) -> str:
    return f"/notifications/unsubscribe/{unsubscribe_token(user_id=user_id)}/"


def csrf_client() -> Client:
    """A browser as it is: the CSRF check on, as it is outside tests."""
    return Client(enforce_csrf_checks=True)


def email_notifications(user: User) -> bool:
    return User.objects.values_list("email_notifications", flat=True).get(pk=user.pk)


def test_opening_the_link_asks_first_and_the_button_stops_the_emails(ada):
    """Opening the link changes nothing: mail scanners open links too. The page's button is a CSRF-protected form."""
    client = csrf_client()
    page = client.get(link(ada.pk))

    assert page.status_code == 200
    assert "Stop the e-mails about replies to your comments and new comments on lessons you follow?" in page.text
    assert email_notifications(ada) is True
    form = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrfmiddlewaretoken" '
                     r'value="([^"]+)">', page.text)  # fmt: skip
    assert form[1] == link(ada.pk)
    assert "Ada" not in page.text and ada.email not in page.text, "the page does not say whose link it is"

    done = client.post(form[1], {"csrfmiddlewaretoken": form[2]}, follow=True)

    assert done.redirect_chain == [(link(ada.pk), 302)]
    assert "You no longer get e-mails about replies and comments." in done.text
    assert "Stop these e-mails" not in done.text
    assert email_notifications(ada) is False


def test_the_pages_form_is_refused_without_its_csrf_token(ada):
    response = csrf_client().post(link(ada.pk))
    assert response.status_code == 403
    assert email_notifications(ada) is True


@pytest.mark.parametrize(
    "post",
    [
        pytest.param(lambda client, url: client.post(url, {"List-Unsubscribe": "One-Click"}), id="multipart"),
        pytest.param(
            lambda client, url: client.post(
                url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
            ),
            id="urlencoded",
        ),
    ],
)
def test_a_mail_clients_one_click_post_unsubscribes_without_a_csrf_token(ada, post):
    """RFC 8058: the mail client posts ``List-Unsubscribe=One-Click`` to the header's URL, with no cookie or token."""
    response = post(csrf_client(), link(ada.pk))
    assert response.status_code == 200
    assert email_notifications(ada) is False


def test_unsubscribing_changes_nothing_else(ada):
    """The one-click post needs no CSRF token, so it must not be able to do more than turn e-mail off."""
    Follow.objects.create(learner=ada, lesson=LessonFactory())
    before = User.objects.filter(pk=ada.pk).values().get()
    csrf_client().post(link(ada.pk), {"List-Unsubscribe": "One-Click", "email_notifications": "on", "language": "en"})

    after = User.objects.filter(pk=ada.pk).values().get()
    assert {key: value for key, value in after.items() if before[key] != value} == {"email_notifications": False}
    assert Follow.objects.filter(learner=ada).count() == 1, "the learner still follows the lesson, in the app"

    csrf_client().post(link(ada.pk), {"List-Unsubscribe": "One-Click"})
    assert email_notifications(ada) is False, "a second post does not turn it back on"


def test_the_link_works_for_its_learner_whoever_is_signed_in(ada):
    grace = UserFactory(email_notifications=True)
    client = csrf_client()
    client.force_login(grace)

    client.post(link(ada.pk), {"List-Unsubscribe": "One-Click"})

    assert email_notifications(ada) is False
    assert email_notifications(grace) is True


def test_a_link_changed_to_name_another_learner_is_refused(ada):
    """Ada's link with Grace's id put in its place: the signature no longer matches."""
    grace = UserFactory(email_notifications=True)
    _payload, signature = unsubscribe_token(user_id=ada.pk).split(":", 1)
    forged = f"{signing.b64_encode(str(grace.pk).encode()).decode()}:{signature}"

    response = csrf_client().post(f"/notifications/unsubscribe/{forged}/", {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 400
    assert email_notifications(grace) is True
    assert email_notifications(ada) is True


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda ada: unsubscribe_token(user_id=ada.pk)[:-1], id="cut-short"),
        pytest.param(lambda ada: unsubscribe_token(user_id=ada.pk)[:-1] + "x", id="last-character-changed"),
        pytest.param(lambda ada: signing.Signer().sign_object(ada.pk), id="signed-for-something-else"),
        pytest.param(lambda ada: signing.Signer(salt="comments.unsubscribe").sign_object("1"), id="not-an-id"),
        pytest.param(lambda ada: signing.Signer(salt="comments.unsubscribe").sign("1"), id="not-json"),
        pytest.param(lambda ada: "nonsense", id="nonsense"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_broken_link_is_a_400_page_that_says_so(ada, token, method):
    url = f"/notifications/unsubscribe/{token(ada)}/"
    response = getattr(csrf_client(), method)(url, {"List-Unsubscribe": "One-Click"} if method == "post" else {})

    assert response.status_code == 400
    assert "This unsubscribe link does not work" in response.text
    assert 'href="/accounts/settings/"' in response.text
    assert email_notifications(ada) is True


def test_the_link_of_a_deleted_account_is_a_400_page(ada):
    url = link(ada.pk)
    ada.delete()
    assert csrf_client().get(url).status_code == 400


def test_the_pages_are_not_cached_or_indexed(ada):
    response = Client().get(link(ada.pk))
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in response.text
