"""Simulated visitors and learners for `make loadtest` (run.py starts Locust with this file).

Visitors read the catalogue, a course and its lessons. Learners sign in through allauth's form, read, mark
lessons complete and not complete (posting the form the page's script posts), comment and reply, and read
their notifications. Each simulated person has a loopback address of its own (127.77.x.y), so the site's
per-IP limits see separate clients, and paces its writes below the site's per-learner limits
(ACCOUNT_RATE_LIMITS): a 429 is a failure like any other. Each comment carries a unique marker, written to
``$LOADTEST_MARKERS`` (with `` ?`` when the site's answer never came or refused it) for
``manage.py check_integrity --markers``. Requests are named by URL pattern, so the statistics group.

Environment (set by run.py): ``LOADTEST_DATA`` (prepare.py's JSON), ``LOADTEST_MARKERS``, ``LOADTEST_EVENTS``
(the status of every answer and each failure with its time, written when the test stops), ``LOADTEST_RUN``.
"""

import html
import ipaddress
import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.clients import LocustHttpAdapter
from urllib3 import PoolManager

DATA = json.loads(Path(os.environ["LOADTEST_DATA"]).read_text(encoding="utf-8"))
MARKERS = Path(os.environ["LOADTEST_MARKERS"])
EVENTS = Path(os.environ["LOADTEST_EVENTS"])
RUN = os.environ.get("LOADTEST_RUN", "run")

FIRST_ADDRESS = ipaddress.IPv4Address("127.77.0.1")
# Below the site's limits (config/settings.py): complete_lesson 30/m/user, comment 5/m/user and 50/d/user.
COMPLETE_EVERY = 3.0
COMMENT_EVERY = 15.0
COMMENTS_PER_LEARNER = 40

_addresses = itertools.count()
_learners = itertools.count()
# When each request ended, its status (0: no answer), whether it failed, its name, and when it began.
_answers: list[tuple[float, int, bool, str, float]] = []
_failures: list[dict] = []

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REPLY_FORM = re.compile(r'id="reply-(\d+)"')


def answer(response) -> dict:
    """The JSON the page's script would get; {} for anything else."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, start_time=None, **_):
    status = getattr(response, "status_code", 0) or 0
    began = start_time or time.time() - response_time / 1000
    ended = began + response_time / 1000
    _answers.append((round(ended, 3), status, exception is not None, f"{request_type} {name}", round(began, 3)))
    if exception is not None:
        _failures.append({"time": ended, "name": f"{request_type} {name}", "status": status, "error": str(exception)})


@events.test_stop.add_listener
def _write_events(**_) -> None:
    EVENTS.write_text(json.dumps({"answers": _answers, "failures": _failures}), encoding="utf-8")


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def on_start(self) -> None:
        address = str(FIRST_ADDRESS + next(_addresses))
        adapter = LocustHttpAdapter(pool_manager=PoolManager(source_address=(address, 0)))
        self.client.mount("http://", adapter)
        self.client.mount("https://", adapter)
        self.origin = "https://" + urlsplit(self.host).netloc
        self.client.headers.update({"X-Forwarded-Proto": "https", "Accept-Language": random.choice(["en", "ko"])})

    def send_secure_cookies(self) -> None:
        """The site runs as in production (DEBUG off), so its cookies are Secure: sent over HTTPS only. It is told
        the request came over HTTPS (X-Forwarded-Proto), as the TLS proxy in front of it would say; on loopback
        there is no TLS, so the cookies are marked sendable over HTTP too."""
        for cookie in self.client.cookies:
            cookie.secure = False

    def get(self, path: str, name: str, **kwargs):
        self.send_secure_cookies()
        return self.client.get(path, name=name, **kwargs)

    def read_catalogue(self) -> None:
        self.get("/", name="/")

    def read_course(self) -> None:
        self.get(random.choice(DATA["courses"]), name="/courses/[course]/")

    def read_lesson(self):
        lesson = random.choice(DATA["lessons"])
        response = self.get(lesson["url"], name="/courses/[course]/[lesson]/")
        return lesson, response


class Visitor(Person):
    """Someone not signed in: the catalogue, a course, its lessons, how XP works."""

    weight = 1

    @task(2)
    def catalogue(self) -> None:
        self.read_catalogue()

    @task(2)
    def course(self) -> None:
        self.read_course()

    @task(6)
    def lesson(self) -> None:
        self.read_lesson()

    @task(1)
    def how_xp_works(self) -> None:
        self.get("/xp/", name="/xp/")


class Learner(Person):
    """A learner with an account: signs in, reads, completes lessons, comments, reads notifications."""

    weight = 4

    def on_start(self) -> None:
        super().on_start()
        self.number = next(_learners)
        self.email = DATA["learners"][self.number % len(DATA["learners"])]
        self.signed_in = False
        self.lesson = None
        self.page = ""
        self.last_completion = self.last_comment = 0.0
        self.comments = 0
        self.sign_in()

    def post(self, path: str, name: str, data: dict, **kwargs):
        # Django checks the Referer of a POST made over HTTPS: the page the form is on.
        headers = {"Referer": self.origin + self.lesson["url"]} | kwargs.pop("headers", {})
        self.send_secure_cookies()
        return self.client.post(path, name=name, data=data, headers=headers, **kwargs)

    def sign_in(self) -> None:
        page = self.get("/accounts/login/", name="/accounts/login/")
        token = CSRF.search(page.text or "")
        if token is None:
            return
        data = {"login": self.email, "password": DATA["password"], "csrfmiddlewaretoken": html.unescape(token[1])}
        self.lesson, self.page = {"url": "/accounts/login/"}, ""  # signing in changes the CSRF token
        with self.post(
            "/accounts/login/", name="/accounts/login/", data=data, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 302 and "/accounts/login/" not in response.headers.get("Location", ""):
                self.signed_in = True
            elif response.ok or response.status_code == 302:
                response.failure(f"signing in as {self.email} did not sign in")

    def open_lesson(self) -> bool:
        """Read a lesson: the page a learner's clicks start from. When it does not come, the learner still has
        the last one open (and clicks there); False if there is none."""
        if not self.signed_in:
            self.sign_in()
            if not self.signed_in:
                return False
        lesson, response = self.read_lesson()
        if response.ok:
            self.lesson, self.page = lesson, response.text
        return bool(self.page)

    def token(self) -> str:
        found = CSRF.search(self.page)
        return html.unescape(found[1]) if found else ""

    @task(3)
    def catalogue_and_course(self) -> None:
        self.read_catalogue()
        self.read_course()

    @task(6)
    def lesson(self) -> None:
        self.open_lesson()

    @task(4)
    def complete(self) -> None:
        if time.monotonic() - self.last_completion < COMPLETE_EVERY or not self.open_lesson():
            return
        self.last_completion = time.monotonic()
        undo = random.random() < 0.2
        action = "uncomplete" if undo else "complete"
        with self.post(
            f"/progress/lessons/{self.lesson['id']}/{action}/", name=f"/progress/lessons/[id]/{action}/",
            data={"csrfmiddlewaretoken": self.token()}, headers={"Accept": "application/json"}, catch_response=True,
        ) as response:  # fmt: skip
            if response.ok and answer(response).get("completed") is undo:
                response.failure(f"{action} answered {response.text[:100]!r}")

    @task(2)
    def comment(self) -> None:
        if self.comments >= COMMENTS_PER_LEARNER or time.monotonic() - self.last_comment < COMMENT_EVERY:
            return
        if not self.open_lesson():
            return
        self.last_comment = time.monotonic()
        self.comments += 1
        marker = f"lt-{RUN}-{self.number:03d}-{self.comments:03d}"
        data = {"csrfmiddlewaretoken": self.token(), "body": f"Load test comment `{marker}`: does *this* await?"}
        replies = REPLY_FORM.findall(self.page)
        name = "/comments/lessons/[id]/"
        if replies and random.random() < 0.5:
            data["parent"] = random.choice(replies)
            name += " (reply)"
        answered = False
        try:
            with self.post(
                f"/comments/lessons/{self.lesson['id']}/", name=name, data=data,
                headers={"Accept": "application/json"}, catch_response=True,
            ) as response:  # fmt: skip
                answered = response.status_code == 200
                if answered and marker not in answer(response).get("comment", ""):  # the new comment's own HTML
                    response.failure("the comment is not in the answer")
        finally:
            with MARKERS.open("a", encoding="utf-8") as markers:
                markers.write(marker + ("\n" if answered else " ?\n"))

    @task(2)
    def notifications(self) -> None:
        if self.signed_in:
            self.get("/notifications/", name="/notifications/")

    @task(1)
    def my_progress(self) -> None:
        if self.signed_in:
            self.get("/me/", name="/me/")
