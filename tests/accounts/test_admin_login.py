import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from tests.factories import StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


@pytest.fixture
def editor():
    staff = StaffFactory(email="editor@example.com")
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    return staff


def test_admin_sign_in_is_the_sites_rate_limited_sign_in(client, editor):
    """Regression: /admin/login/ took 60 wrong passwords, then the right one worked."""
    response = client.get("/admin/")
    assert response["Location"] == "/admin/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    posted = client.post("/admin/login/", {"username": editor.email, "password": "correct horse battery"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/"), "no password check here"

    for _ in range(5):
        wrong = client.post(
            "/accounts/login/?next=/admin/", {"login": editor.email, "password": "wrong", "next": "/admin/"}
        )
        assert "The email address and/or password you specified are not correct." in wrong.text
    locked = client.post(
        "/accounts/login/", {"login": editor.email, "password": "correct horse battery", "next": "/admin/"}
    )
    assert "Too many failed login attempts. Try again later." in locked.text
    assert client.get("/admin/").status_code == 302


def test_staff_reach_the_admin_after_signing_in(client, editor):
    response = client.post(
        "/accounts/login/",
        {"login": editor.email, "password": "correct horse battery", "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1] == ("/admin/", 302)
    assert response.status_code == 200
    assert "Site administration" in response.text


def test_a_signed_in_learner_is_told_the_admin_is_for_staff(client, learner):
    client.force_login(learner)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "Admin is for staff" in response.text
    assert f"You are signed in as {learner.email}, which is not a staff account." in response.text


def test_a_superuser_made_on_the_command_line_signs_in_to_the_admin(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator passphrase 7")
    call_command("createsuperuser", "--no-input", email="Operator@Example.com", verbosity=0)

    response = client.post(
        "/accounts/login/",
        {"login": "operator@example.com", "password": "an operator passphrase 7", "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1] == ("/admin/", 302)
    assert "Site administration" in response.text


def test_a_learner_who_signs_out_from_the_refusal_is_taken_to_the_staff_sign_in(client, learner):
    client.force_login(learner)
    refusal = client.get("/admin/login/").text
    assert '<input type="hidden" name="next" value="/admin/">' in refusal
    response = client.post("/accounts/logout/", {"next": "/admin/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


def test_only_staff_see_the_link_to_the_admin(client, learner, staff):
    client.force_login(learner)
    assert 'href="/admin/"' not in client.get("/").text
    client.force_login(staff)
    assert '<a href="/admin/">Admin</a>' in client.get("/").text
