"""Staff manage learners in the admin, where an account is known by its e-mail address."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 42"


def add_learner(client, email: str):
    return client.post(
        "/admin/accounts/user/add/",
        {"email": email, "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )


def test_staff_add_a_learner_whose_address_is_kept_in_lower_case(staff_client):
    """Regression: a taken address in other capitals passed the form's unique check, then failed to save (500)."""
    response = add_learner(staff_client, "Grace.Hopper@Example.com")
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(email="grace.hopper@example.com").check_password(PASSWORD)

    again = add_learner(staff_client, "GRACE.HOPPER@example.com")
    assert again.status_code == 200
    assert "Learner with this E-mail address already exists." in again.text
    assert User.objects.filter(email__iexact="grace.hopper@example.com").count() == 1


def test_staff_find_learners_by_address(staff_client):
    UserFactory(email="grace@example.com", display_name="Amazing Grace")
    UserFactory(email="ada@example.com")
    text = staff_client.get("/admin/accounts/user/", {"q": "grace@"}).text
    assert "grace@example.com" in text and "ada@example.com" not in text


def test_a_second_superuser_with_a_taken_address_in_other_capitals_is_refused():
    call_command("createsuperuser", "--no-input", email="operator@example.com", verbosity=0)
    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--no-input", email="Operator@Example.com", verbosity=0)
    assert User.objects.count() == 1


def test_staff_changing_an_address_to_a_taken_one_in_other_capitals_get_a_form_error(staff_client):
    """Regression: the unique check compared the address as typed, and saving it in lower case failed (500)."""
    UserFactory(email="grace@example.com")
    learner = UserFactory(email="ada@example.com")
    response = staff_client.post(
        f"/admin/accounts/user/{learner.pk}/change/",
        {
            "email": "Grace@Example.com",
            "display_name": "",
            "is_active": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 200
    assert "Learner with this E-mail address already exists." in response.text
    learner.refresh_from_db()
    assert learner.email == "ada@example.com"
