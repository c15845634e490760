import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC

pytestmark = pytest.mark.django_db


def test_every_page_has_a_csp_that_allows_no_inline_script(client):
    for url in ["/", "/accounts/login/", "/healthz"]:
        policy = client.get(url).headers["Content-Security-Policy"]
        script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
        assert script_src == "script-src 'self' 'wasm-unsafe-eval'"
        assert "unsafe-inline" not in policy


@pytest.mark.parametrize("url", ["/%00", "/?page=%00", "/no-such-page/"])
def test_error_pages_carry_the_csp_and_cannot_be_framed(client, url):
    response = client.get(url)
    assert response.status_code in {400, 404}
    assert "script-src 'self' 'wasm-unsafe-eval'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts_or_styles(client):
    text = client.get("/").text
    assert "<script>" not in text
    assert "style=" not in text


def test_a_request_for_another_host_name_is_refused(client):
    """In development too: a name that points at the server (DNS rebinding) must not reach the site."""
    assert client.get("/", HTTP_HOST="rebinding.example").status_code == 400
    assert client.get("/", HTTP_HOST="localhost").status_code == 200


def test_pages_load_only_the_sites_own_resources_and_cannot_be_framed_or_leak_their_address(client):
    """The whole policy: no plugins, no foreign <base> or form targets, no framing, no Referer to other sites.

    WebAssembly may be compiled and workers started from the site's own scripts (Pyodide runs learners' Python in
    one), and nothing else was opened for it."""
    response = client.get("/")
    policy = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; "))
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self' 'wasm-unsafe-eval'",
        "worker-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


class _Forms(HTMLParser):
    """The forms that post, in page order: each one's action and whether it carries the CSRF token."""

    def __init__(self):
        super().__init__()
        self.forms: list[list] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self.forms.append([attrs.get("action"), False])
            self.inside = True
        elif tag == "input" and self.inside and attrs.get("name") == "csrfmiddlewaretoken" and attrs.get("value"):
            self.forms[-1][1] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def posted_forms(page: str) -> list[list]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def test_every_form_that_posts_carries_the_csrf_token(client, learner):
    """A form without it is refused with "The form has expired", however fresh the page."""
    unconfirmed = EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=False)
    confirm = f"/accounts/confirm-email/{EmailConfirmationHMAC(unconfirmed).key}/"
    switch, resend, sign_out = "/i18n/setlang/", "/accounts/resend-confirmation/", "/accounts/logout/"
    pages = {
        "/": [switch],
        "/accounts/confirm-email/": [switch, resend],
        "/accounts/confirm-email/an-expired-key/": [switch, resend],
        confirm: [switch, confirm],
        resend: [switch, resend],
    }

    # The confirmation page signs its key afresh (with the time, to the second): compare keys as one.
    def same_key(action: str) -> str:
        return re.sub(r"^/accounts/confirm-email/[^/]+:[^/]+/$", "/accounts/confirm-email/<signed key>/", action)

    for url, actions in pages.items():
        found = [[same_key(action), carried] for action, carried in posted_forms(client.get(url).text)]
        assert found == [[same_key(action), True] for action in actions], url

    client.force_login(learner)
    pages = {
        "/": [switch, sign_out],
        "/accounts/settings/": [switch, sign_out, "/accounts/settings/", "/accounts/settings/export/"],
        "/accounts/delete/": [switch, sign_out, "/accounts/delete/"],
        "/admin/login/": [switch, sign_out, sign_out],
    }
    for url, actions in pages.items():
        assert posted_forms(client.get(url).text) == [[action, True] for action in actions], url


def test_collectstatics_manifest_is_not_served(client, settings, tmp_path):
    """It maps every static file to its hashed name: of no use to a browser, a list of the site's files to others."""
    from django.http import HttpResponse

    from config.middleware import StaticFilesMiddleware

    (tmp_path / "staticfiles.json").write_text('{"paths": {"site.css": "site.0123456789ab.css"}}')
    (tmp_path / "site.0123456789ab.css").write_text("body {}")
    settings.STATIC_ROOT, settings.WHITENOISE_AUTOREFRESH = str(tmp_path), False
    middleware = StaticFilesMiddleware(lambda request: HttpResponse("the site", status=404))
    assert "/static/site.0123456789ab.css" in middleware.files
    assert "/static/staticfiles.json" not in middleware.files
    nginx = [
        Path(__file__).parents[2] / "deploy/nginx/stream.conf",
        Path(__file__).parents[2] / "ops/cluster.nginx.conf",
    ]
    for conf in nginx:
        assert "location = /static/staticfiles.json {" in conf.read_text(), conf
