import re

import pytest
from allauth.account.models import EmailAddress

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified_learner(learner):
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def settings_form(learner, **changes) -> dict:
    """The settings form as the page posts it: the learner's current settings, with ``changes``."""
    data = {"display_name": learner.display_name, "time_zone": learner.time_zone}
    if learner.on_leaderboard:
        data["on_leaderboard"] = "on"
    return data | changes


def test_the_learner_is_named_by_e_mail_until_they_choose_a_display_name(client, verified_learner):
    """Regression: a username nobody chose was shown ("Successfully signed in as learner2.en.")."""
    response = client.post(
        "/accounts/login/", {"login": verified_learner.email, "password": "correct horse battery"}, follow=True
    )
    assert f"Successfully signed in as {verified_learner.email}." in response.text
    assert 'href="/accounts/settings/"' in response.text, "the user menu links to the settings"

    saved = client.post(
        "/accounts/settings/", settings_form(verified_learner, display_name="  Ada   Lovelace "), follow=True
    )
    assert "Your settings are saved." in saved.text
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == "Ada Lovelace"
    assert '<span class="visually-hidden">Account settings: </span>Ada Lovelace</a>' in saved.text

    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/", {"login": verified_learner.email, "password": "correct horse battery"}, follow=True
    )
    assert "Successfully signed in as Ada Lovelace." in response.text


def test_a_display_name_has_a_length_limit(client, verified_learner):
    client.force_login(verified_learner)
    response = client.post("/accounts/settings/", settings_form(verified_learner, display_name="x" * 51))
    assert response.status_code == 200
    assert "errorlist" in response.text
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == ""


def test_the_settings_page_needs_sign_in(client):
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/settings/"


@pytest.mark.parametrize(
    "name",
    [
        "\u200b",  # zero-width space
        "\u3164",  # Hangul filler: looks like nothing
        "\u00ad\u00ad",  # soft hyphens
        "\u202eecilA",  # right-to-left override: shows as "Alice"
        "Ada\u2066Lovelace",  # a left-to-right isolate that never ends
    ],
)
def test_a_display_name_is_visible_text_without_direction_controls(client, verified_learner, name):
    """Review finding: a learner could take a name that shows as nothing, or one reversed by a bidi control.

    The display name is shown beside comments and on the leaderboard, where an invisible or
    reordered name hides who wrote what.
    """
    client.force_login(verified_learner)
    response = client.post("/accounts/settings/", settings_form(verified_learner, display_name=name))
    assert response.status_code == 200
    assert "errorlist" in response.text
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == ""


@pytest.mark.parametrize("name", ["a" + "\u0301" * 4, "ada@example.com"])
def test_a_display_name_cannot_hide_letters_under_accents_or_be_an_email_address(client, verified_learner, name):
    client.force_login(verified_learner)
    response = client.post("/accounts/settings/", settings_form(verified_learner, display_name=name))
    assert "errorlist" in response.text
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == ""


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Admin", "could pass for the site or its staff"),
        ("Moderator ✔ (Staff)", "could pass for the site or its staff"),
        ("\u0410dmin", "could pass for the site or its staff"),  # a Cyrillic A
        ("\uff33\uff54\uff52\uff45\uff41\uff4d", "could pass for the site or its staff"),  # full-width "Stream"
        ("스트림 관리자님", "could pass for the site or its staff"),
        ("alice\uff20example.com", "cannot be an e-mail address"),  # a full-width at sign
        ("Ada\u034fLovelace", "invisible"),  # the combining grapheme joiner: invisible
        ("Ada\u2028Lovelace", "invisible"),  # a line separator
        ("Gr\u0430ce H\u043epper", "looks like a staff member"),  # Cyrillic a and o
    ],
)
def test_a_display_name_cannot_pass_for_the_site_or_its_staff(client, verified_learner, name, said):
    StaffFactory(display_name="Grace Hopper")
    client.force_login(verified_learner)
    response = client.post("/accounts/settings/", settings_form(verified_learner, display_name=name))
    assert response.status_code == 200 and said in response.text
    assert f'value="{name}"' in response.text, "what was typed is kept"
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == ""


def test_a_display_name_is_kept_in_its_plain_form_and_staff_may_use_the_words(client, verified_learner):
    client.force_login(verified_learner)
    client.post("/accounts/settings/", settings_form(verified_learner, display_name="\uff2b\uff49\uff4d  Streamer"))
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == "Kim Streamer"  # NFKC: full-width letters as plain ones
    staff = StaffFactory(display_name="")
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    client.force_login(staff)
    client.post("/accounts/settings/", settings_form(staff, display_name="Stream staff"))
    staff.refresh_from_db()
    assert staff.display_name == "Stream staff"


@pytest.mark.parametrize("name", ["Ada Lovelace", "김 코딩", "👩\u200d💻 Grace", "Zoë", "@ada_dev", "李小龍"])
def test_ordinary_display_names_are_kept(client, verified_learner, name):
    client.force_login(verified_learner)
    client.post("/accounts/settings/", settings_form(verified_learner, display_name=name))
    verified_learner.refresh_from_db()
    assert verified_learner.display_name == name


def test_only_the_main_action_of_the_email_page_is_styled_as_one(client, verified_learner):
    """Review finding: Make primary, Re-send and Remove were three equal, touching primary buttons."""
    client.force_login(verified_learner)
    text = client.get("/accounts/email/").text
    assert 'class="button-secondary"' in text
    assert 'class="button-danger button-delete"' in text
    assert '<span class="badge badge-success badge-email badge-verified">' in text


def test_the_account_pages_say_who_is_signed_in_and_mark_the_current_page(client, verified_learner):
    client.force_login(verified_learner)
    settings_page = client.get("/accounts/settings/").text
    assert f"You sign in as <strong>{verified_learner.email}</strong>." in settings_page
    assert '<a href="/accounts/settings/" aria-current="page">Account settings</a>' in settings_page
    addresses = client.get("/accounts/email/").text
    assert '<a href="/accounts/email/" aria-current="page">E-mail addresses</a>' in addresses
    assert '<a href="/accounts/settings/">Account settings</a>' in addresses


def test_the_e_mail_page_has_the_primary_address_chosen(client, verified_learner):
    """Its buttons act on the chosen address: nothing chosen, "Re-send" or "Remove" did nothing."""
    EmailAddress.objects.create(user=verified_learner, email="second@example.com", verified=False)
    client.force_login(verified_learner)
    radios = re.findall(r"<input [^>]*type=\"radio\"[^>]*>", client.get("/accounts/email/").text)
    checked = [re.search(r'value="([^"]+)"', radio)[1] for radio in radios if " checked" in radio]
    assert len(radios) == 2
    assert checked == [verified_learner.email]


def test_a_learner_chooses_their_time_zone_from_a_list(client, verified_learner):
    client.force_login(verified_learner)
    page = client.get("/accounts/settings/").text
    assert '<label for="id_time_zone">Time zone:</label>' in page
    assert '<select name="time_zone" aria-describedby="id_time_zone_helptext" id="id_time_zone">' in page
    assert "Your days and streaks are counted in this time zone." in page
    assert '<option value="UTC" selected>UTC</option>' in page
    assert '<option value="America/Argentina/Buenos_Aires">America/Argentina/Buenos Aires</option>' in page

    saved = client.post("/accounts/settings/", settings_form(verified_learner, time_zone="Asia/Seoul"), follow=True)
    assert "Your settings are saved." in saved.text
    assert '<option value="Asia/Seoul" selected>Asia/Seoul</option>' in saved.text
    verified_learner.refresh_from_db()
    assert verified_learner.time_zone == "Asia/Seoul"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "localtime", "Factory", "../../etc/passwd"])
def test_a_time_zone_not_on_the_list_is_refused(client, verified_learner, zone):
    client.force_login(verified_learner)
    response = client.post("/accounts/settings/", settings_form(verified_learner, time_zone=zone))
    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_time_zone_error">' in response.text
    verified_learner.refresh_from_db()
    assert verified_learner.time_zone == "UTC"


def test_a_learner_leaves_the_leaderboard_and_comes_back(client, verified_learner):
    client.force_login(verified_learner)
    page = client.get("/accounts/settings/").text
    assert '<input type="checkbox" name="on_leaderboard" aria-describedby="id_on_leaderboard_helptext"' in page
    assert 'id="id_on_leaderboard" checked>' in page
    assert '<label for="id_on_leaderboard">Show me on the leaderboard</label>' in page
    assert "this week&#x27;s XP appear on the weekly leaderboard." in page

    data = settings_form(verified_learner)
    del data["on_leaderboard"]  # an unticked box is not posted
    client.post("/accounts/settings/", data)
    verified_learner.refresh_from_db()
    assert verified_learner.on_leaderboard is False
    assert 'id="id_on_leaderboard">' in client.get("/accounts/settings/").text

    client.post("/accounts/settings/", settings_form(verified_learner, on_leaderboard="on"))
    verified_learner.refresh_from_db()
    assert verified_learner.on_leaderboard is True


def test_a_settings_form_with_an_error_keeps_every_choice(client, verified_learner):
    client.force_login(verified_learner)
    data = {"display_name": "x" * 51, "time_zone": "Europe/Paris"}  # the leaderboard box unticked
    response = client.post("/accounts/settings/", data)
    assert response.status_code == 200
    assert "Ensure this value has at most 50 characters (it has 51)." in response.text
    assert f'value="{"x" * 51}"' in response.text
    assert '<option value="Europe/Paris" selected>Europe/Paris</option>' in response.text
    assert 'id="id_on_leaderboard">' in response.text, "the box stays unticked"
    verified_learner.refresh_from_db()
    assert (verified_learner.display_name, verified_learner.time_zone, verified_learner.on_leaderboard) == (
        "",
        "UTC",
        True,
    )


def test_a_learner_asks_for_e_mail_about_comments_and_stops_it(client, verified_learner):
    client.force_login(verified_learner)
    page = client.get("/accounts/settings/").text
    assert (
        '<input type="checkbox" name="email_notifications" aria-describedby="id_email_notifications_helptext" '
        'id="id_email_notifications">' in page
    ), "off until the learner asks for it"
    assert (
        '<label for="id_email_notifications">E-mail me about replies and new comments on lessons I follow</label>'
        in page
    )
    assert "never what they wrote." in page

    saved = client.post("/accounts/settings/", settings_form(verified_learner, email_notifications="on"), follow=True)
    assert "Your settings are saved." in saved.text
    assert 'id="id_email_notifications" checked>' in saved.text
    verified_learner.refresh_from_db()
    assert verified_learner.email_notifications is True

    client.post("/accounts/settings/", settings_form(verified_learner))  # the box unticked: not posted
    verified_learner.refresh_from_db()
    assert verified_learner.email_notifications is False
