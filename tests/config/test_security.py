import pytest

pytestmark = pytest.mark.django_db


def test_every_page_has_a_csp_that_allows_no_inline_script(client):
    for url in ["/", "/accounts/login/", "/healthz"]:
        policy = client.get(url).headers["Content-Security-Policy"]
        script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
        assert script_src == "script-src 'self'"
        assert "unsafe-inline" not in policy


def test_pages_have_no_inline_scripts_or_styles(client):
    text = client.get("/").text
    assert "<script>" not in text
    assert "style=" not in text
