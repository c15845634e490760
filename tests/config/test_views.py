import pytest


@pytest.mark.django_db
def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


@pytest.mark.django_db
def test_healthz_is_never_answered_from_a_cache(client):
    """A proxy that cached "ok" would report a dead database as healthy."""
    assert "no-store" in client.get("/healthz").headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_does_not_answer(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.text != "ok"


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("favicon.svg")


def test_liveness_answers_without_the_database(client, database_down):
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-store" in response.headers["Cache-Control"]


def test_the_health_details_are_for_this_machine_and_staff_only(client, staff):
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    plain = client.get("/healthz?format=json", **remote)
    assert (plain.status_code, plain.text, plain["Content-Type"]) == (200, "ok", "text/plain")
    assert "queue" in client.get("/healthz?format=json").json()  # from this machine (the test client's 127.0.0.1)
    client.force_login(staff)
    assert "worker" in client.get("/healthz?format=json", **remote).json()
