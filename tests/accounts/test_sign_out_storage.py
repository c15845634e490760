"""Signing out tells the browser to empty this site's storage (the learner's progress, code and drafts)."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_sign_out_clears_the_sites_storage_and_nothing_else_does(client, learner):
    client.force_login(learner)
    assert "Clear-Site-Data" not in client.get("/accounts/logout/")  # the confirmation page
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Clear-Site-Data"] == '"storage"'
    assert "Clear-Site-Data" not in client.post("/accounts/login/", {"login": "x", "password": "y"})
