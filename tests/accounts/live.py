"""Helpers for tests that start the site's own processes against the test database."""

import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from subprocess import Popen
from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    """A DATABASE_URL for the database the tests run on."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "")
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or settings["OPTIONS"].get("host", "")
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    if host.startswith("/"):  # a unix socket folder, as with the embedded server
        return f"postgresql://{user}{password}@/{settings['NAME']}?host={host}"
    return f"postgresql://{user}{password}@{host}{port}/{settings['NAME']}"


def site_environment(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test database."""
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return environment | {"DATABASE_URL": database_url()} | extra


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Fills in the site's forms as a browser would (cookies, CSRF token), without following redirects."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects)

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        with self.opener.open(f"{self.server}{path}", timeout=30) as page:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())[1]
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        try:
            with self.opener.open(f"{self.server}{path}", data=form, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as answer:  # 3xx (not followed) and errors
            return answer.code, answer.read().decode()
