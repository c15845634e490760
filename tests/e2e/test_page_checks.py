"""Every page type, in English and Korean, passes axe-core (light and dark) and the Nu HTML Checker.

Each page is opened once per language in headless Chromium; axe-core checks the live page in both
colour schemes, and the server's HTML of all pages goes to one run of the Nu HTML Checker (vnu.jar,
from `scripts/find-vnu`). A new page type is one more line in PAGES.
"""

import json
import os
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from allauth.account.models import EmailAddress
from axe_playwright_python.base import AXE_SCRIPT
from django.conf import settings
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from accounts import privacy
from accounts.models import User
from certificates import services as certificate_services
from certificates.models import Certificate
from comments import services as comment_services
from comments.models import Comment
from comments.notification_mail import unsubscribe_token
from courses.models import LessonLink, Status
from progress import services
from tests.factories import CourseFactory, LessonFactory, StaffFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "ko"]
SCHEMES = ["light", "dark"]
# The axe-core rules whose outcome a colour scheme can change.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
FAILING_IMPACTS = {"serious", "critical"}
FAILING_NU_TYPES = {"error", "non-document-error"}
# One short run: the JVM's quick compiler alone halves its CPU time, and then needs a deeper stack.
NU_JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-Xss4m"]
ROOT = Path(__file__).resolve().parents[2]


# The id of a learner who gets e-mail about comments, for the unsubscribe page.
SUBSCRIBED_LEARNER = 900_001
# The id of the learner's comment, for its edit page.
LEARNERS_COMMENT = 900_002
# The id of the signed-in learner, for their e-mailed link to delete their account.
LEARNER = 900_003
# The id of the lesson with the exercise, for its reference solution's page.
TASKS_LESSON = 900_004
# The certificate numbers of the learner's certificate and of someone else's, revoked.
LEARNERS_CERTIFICATE = "LearnersCertificate000"
REVOKED_CERTIFICATE = "RevokedCertificate0000"


@dataclass(frozen=True)
class PageType:
    """A kind of page the site serves, and how a visitor reaches it."""

    name: str
    path: str
    visitor: str = "anonymous"  # or "learner", "staff": signed in before the visit
    form: dict[str, str] | None = None  # fields filled in, by name, then submitted; {language} is replaced
    status: int = 200
    lands_on: str | None = None  # the path after the visit (and the form's redirects), if not `path`
    submit: str | None = None  # a form of the page submitted as it is (its buttons' forms without the script)

    @property
    def landing(self) -> str:
        return self.lands_on or self.path


PAGES = [
    PageType("catalogue", "/"),
    PageType("course", "/courses/asyncio/"),
    PageType("lesson", "/courses/asyncio/tasks/"),
    PageType("tag", "/tags/asyncio/"),
    PageType("not-found", "/no-such-page/", status=404),
    PageType("bad-request", "/?page=%00", status=400, lands_on="/"),
    PageType("expired-confirmation", "/accounts/confirm-email/no-such-key/"),
    PageType("sign-in", "/accounts/login/"),
    PageType("sign-up", "/accounts/signup/"),
    PageType(
        "sign-up-errors", "/accounts/signup/", form={"email": "x@example.com", "password1": "a", "password2": "b"}
    ),
    PageType("password-reset", "/accounts/password/reset/"),
    PageType(
        "verification-sent",
        "/accounts/signup/",
        form={
            "email": "new-{language}@example.com",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
        },
        lands_on="/accounts/confirm-email/",
    ),
    PageType("password-reset-sent", "/accounts/password/reset/done/"),
    PageType("lesson-learner", "/courses/asyncio/tasks/", visitor="learner"),
    PageType("account-settings", "/accounts/settings/", visitor="learner"),
    PageType("password-change", "/accounts/password/change/", visitor="learner"),
    PageType("email-addresses", "/accounts/email/", visitor="learner"),
    PageType("admin-refused", "/admin/", visitor="learner", status=403, lands_on="/admin/login/"),
    PageType("draft-lesson-staff", "/courses/asyncio/draft/", visitor="staff"),
    # The exercise's reference solution, as a form post without the script shows it; a course just completed.
    PageType(
        "exercise-solution",
        "/courses/asyncio/tasks/",
        visitor="learner",
        submit="#exercise-solution form",
        lands_on=f"/progress/exercises/{TASKS_LESSON}/solution/",
    ),
    PageType("lesson-course-complete", "/courses/python-one/everything/", visitor="learner"),
    # Page types that issue 5 added, found missing here by the review.
    PageType("bad-request", "/?q=%00", status=400, lands_on="/"),
    PageType("admin-refused", "/admin/", visitor="learner", status=403, lands_on="/admin/login/"),
    PageType("password-reset-done", "/accounts/password/reset/done/"),
    PageType("reset-link-invalid", "/accounts/password/reset/key/1-set-password/"),
    PageType("confirmation-link-invalid", "/accounts/confirm-email/not-a-key/"),
    PageType("resend-confirmation", "/accounts/resend-confirmation/"),
    PageType("account-settings", "/accounts/settings/", visitor="learner"),
    PageType("email-addresses", "/accounts/email/", visitor="learner"),
    PageType("password-change", "/accounts/password/change/", visitor="learner"),
    PageType("sign-out", "/accounts/logout/", visitor="learner"),
    # The progress pages, and progress on the course pages for a learner who has some.
    PageType("my-progress", "/me/", visitor="learner"),
    PageType("leaderboard", "/leaderboard/"),
    PageType("leaderboard-learner", "/leaderboard/", visitor="learner"),
    PageType("how-xp-works", "/xp/"),
    PageType("catalogue-learner", "/", visitor="learner"),
    PageType("course-learner", "/courses/asyncio/", visitor="learner"),
    # The unsubscribe link of the e-mail about comments, opened signed out; and one cut short.
    PageType("unsubscribe", f"/notifications/unsubscribe/{unsubscribe_token(user_id=SUBSCRIBED_LEARNER)}/"),
    PageType("comment-edit", f"/comments/{LEARNERS_COMMENT}/edit/", visitor="learner"),
    PageType("flag-comment", f"/comments/{LEARNERS_COMMENT}/flag/", visitor="staff"),
    PageType("notifications", "/notifications/", visitor="learner"),
    PageType("unsubscribe-link-invalid", "/notifications/unsubscribe/not-a-token/", status=400),
    # Deleting an account: the password page (and a wrong password), the e-mailed link's page, the page after.
    PageType("delete-account", "/accounts/delete/", visitor="learner"),
    PageType(
        "delete-account-wrong-password", "/accounts/delete/", visitor="learner", form={"password": "no"}, status=400
    ),
    PageType(
        "delete-account-link",
        f"/accounts/delete/confirm/{privacy.deletion_token(user=User(pk=LEARNER))}/",
        visitor="learner",
    ),
    PageType("delete-account-link-invalid", "/accounts/delete/confirm/not-a-token/", visitor="learner", status=400),
    PageType("account-deleted", "/accounts/deleted/"),
    # A course certificate, to anyone with its link and to its learner; and one revoked by staff.
    PageType("certificate", f"/certificates/{LEARNERS_CERTIFICATE}/"),
    PageType("certificate-own", f"/certificates/{LEARNERS_CERTIFICATE}/", visitor="learner"),
    PageType("certificate-revoked", f"/certificates/{REVOKED_CERTIFICATE}/"),
    # Search: results (a lesson found by its Korean tag), none, the empty form, a refused query, drafts for staff.
    PageType("search", "/search/?q=tasks", lands_on="/search/"),
    PageType("search-korean", "/search/?q=비동기", lands_on="/search/"),
    PageType("search-nothing-found", "/search/?q=xylophone", lands_on="/search/"),
    PageType("search-form", "/search/"),
    PageType("search-refused", "/search/?q=!!!", lands_on="/search/"),
    PageType("search-from-its-form", "/search/", form={"q": "gather"}),
    PageType("search-staff", "/search/?q=cancellation", visitor="staff", lands_on="/search/"),
]

# Wider than any screen: its code block scrolls sideways.
LONG_LINE = (
    "results = await asyncio.gather("
    + ", ".join(f'fetch("https://example.com/{n}/a/long/path/to/a/resource?with=query")' for n in range(4))
    + ", return_exceptions=True)"
)

LESSON_BODY = f"""\
Tasks let one program wait for many things at once.
Read [the asyncio documentation](https://docs.python.org/3/library/asyncio.html) or go back to
[the first lesson](/courses/asyncio/first/).

## Tasks run side by side

`asyncio.create_task()` schedules a coroutine right away.

```python title="Two tasks at once"
import asyncio


async def main():
    first = asyncio.create_task(asyncio.sleep(1, result="first"))
    second = asyncio.create_task(asyncio.sleep(1, result="second"))
    print(await first, await second)


asyncio.run(main())
```

### A line wider than any screen

```python title="Gather with a long call"
{LONG_LINE}
```

## Comparing the ways

| way | runs | returns |
| --- | --- | --- |
| `await coroutine` | one at a time | its result |
| `asyncio.gather()` | side by side | a list of results |

> A task is scheduled as soon as it is created, even before anything awaits it.

```console title="Running it"
$ python tasks.py
first second
```
"""

EXERCISE = """\
Start three tasks that sleep for 1, 2 and 3 seconds and print how long `gather()` took:

1. Create the tasks.
2. Await them together.
"""


def make_site() -> dict[str, dict[str, str]]:
    """The content every page in PAGES needs; returns each visitor's cookies."""
    course = CourseFactory(title="Python asyncio", slug="asyncio", summary="Coroutines, tasks and timeouts.")
    tags = [TagFactory(name="asyncio"), TagFactory(name="tasks"), TagFactory(name="비동기", slug="비동기")]
    first = LessonFactory(course=course, slug="first", title="Coroutines", position=1)
    lesson = LessonFactory(
        pk=TASKS_LESSON,
        course=course,
        slug="tasks",
        title="Tasks and gather",
        position=2,
        summary="Run coroutines side by side.",
        body=LESSON_BODY,
        exercise=EXERCISE,
        exercise_starter="def add(a, b):\n    ...\n",
        exercise_checks='assert add(2, 3) == 5, "add adds two numbers"\n',
        exercise_hints="Which operator adds?\n\n---\n\nReturn `a + b`.",
        exercise_solution="def add(a, b):\n    return a + b\n",
    )
    lesson.tags.set(tags)
    LessonLink.objects.create(
        lesson=lesson, title="Coroutines and Tasks", url="https://docs.python.org/3/", position=1
    )
    LessonLink.objects.create(lesson=lesson, title="PEP 492", url="https://peps.python.org/pep-0492/", position=2)
    timeouts = LessonFactory(course=course, slug="timeouts", title="Timeouts", position=3)
    LessonFactory(
        course=course,
        slug="draft",
        title="Cancellation",
        position=4,
        status=Status.DRAFT,
        body=LESSON_BODY,
    )
    learner, staff = UserFactory(pk=LEARNER), StaffFactory()
    # Progress for the progress pages: completions, an achievement, a staff adjustment, others on the leaderboard.
    for done in (first, timeouts):
        services.complete_lesson(learner=learner, lesson=done)
    services.adjust_xp(learner=learner, amount=-3, note="Counted a lesson twice", by=staff)
    for name in ("Ada", "서연"):
        services.complete_lesson(learner=UserFactory(display_name=name), lesson=lesson)
    UserFactory(pk=SUBSCRIBED_LEARNER, email_notifications=True)
    # Comments for the comment pages: a thread on a code block with a reply, which notifies the learner.
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    ada = User.objects.get(display_name="Ada")
    EmailAddress.objects.create(user=ada, email=ada.email, primary=True, verified=True)
    question = comment_services.post_comment(
        author=learner, lesson=lesson, body="Why does `gather` return a *list*?", code_block=1,
    )  # fmt: skip
    Comment.objects.filter(pk=question.pk).update(id=LEARNERS_COMMENT)
    question = Comment.objects.get(pk=LEARNERS_COMMENT)
    comment_services.post_comment(
        author=ada, lesson=lesson, body="It keeps the order of its arguments.", parent=question
    )
    # Certificates: the learner and Ada completed a short course; Ada's was revoked.
    short = CourseFactory(title="Python in one lesson", slug="python-one", summary="Everything at once.")
    only = LessonFactory(course=short, slug="everything", title="Everything", position=1)
    for someone, number in ((learner, LEARNERS_CERTIFICATE), (ada, REVOKED_CERTIFICATE)):
        services.complete_lesson(learner=someone, lesson=only)
        Certificate.objects.filter(learner=someone).update(public_id=number)
    certificate_services.revoke(Certificate.objects.filter(learner=ada), by=staff, reason="A test")
    return {"anonymous": {}, "learner": session_cookie(learner), "staff": session_cookie(staff)}


def session_cookie(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)  # serious or critical, Nu errors, visits gone wrong
    notes: list[str] = field(default_factory=list)  # the rest: reported as warnings, not failed


def visit(context, page_type: PageType, language: str, findings: Findings):
    """Open the page as a visitor would (filling in its form); returns the browser page and the server's response."""
    page = context.new_page()
    response = page.goto(page_type.path)
    if page_type.form:
        for name, value in page_type.form.items():
            page.locator(f"main [name={name}]").fill(value.format(language=language))
        with page.expect_navigation() as navigation:
            page.locator(f"main [name={name}]").press("Enter")
        response = navigation.value
    if page_type.submit:
        with page.expect_navigation() as navigation:
            page.locator(page_type.submit).evaluate("form => form.submit()")
        response = navigation.value
    where = f"{page_type.name} {page_type.landing} [{language}]"
    if response.status != page_type.status:
        findings.failures.append(f"{where}: HTTP {response.status}, expected {page_type.status}")
    if (path := unquote(urlsplit(page.url).path)) != page_type.landing:
        findings.failures.append(f"{where}: landed on {path}")
    if (lang := page.locator("html").get_attribute("lang")) != language:
        findings.failures.append(f'{where}: <html lang="{lang}">, not in the visitor\'s language')
    return page, response


def check_with_axe(page, page_type: PageType, language: str, findings: Findings) -> None:
    """axe-core on the live page in each colour scheme, injected through DevTools: the site's CSP stays on."""
    page.evaluate(AXE_SCRIPT)
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        # The first scheme gets every rule; the others change colours alone, so only the rules of colour run again.
        rules = "" if scheme == SCHEMES[0] else f", runOnly: {{type: 'rule', values: {json.dumps(COLOUR_RULES)}}}"
        for violation in page.evaluate(f"axe.run({{resultTypes: ['violations']{rules}}})")["violations"]:
            where = f"{page_type.name} {page_type.landing} [{language}, {scheme}] axe {violation['id']}"
            for node in violation["nodes"]:
                target = " ".join(map(str, node["target"]))
                if violation["impact"] in FAILING_IMPACTS:
                    findings.failures.append(
                        f"{where} ({violation['impact']}): {violation['help']}\n    at {target}: {node['html'][:200]}"
                        "\n    " + node["failureSummary"].replace("\n", "\n    ")
                    )
                else:
                    findings.notes.append(f"{where} ({violation['impact']}): {violation['help']} at {target}")


def check_with_nu(vnu_jar: str, sources: dict[Path, tuple[PageType, str]], findings: dict) -> None:
    """The server's HTML of every page in one run of the Nu HTML Checker (its JVM takes seconds to start)."""
    options = ["--format", "json", "--stdout", "--exit-zero-always"]
    result = subprocess.run(
        ["java", *NU_JAVA_OPTIONS, "-jar", vnu_jar, *options, *map(str, sources)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        pytest.fail(f"The Nu HTML Checker did not run:\n{result.stderr}", pytrace=False)
    for message in json.loads(result.stdout)["messages"]:
        page_type, language = sources[Path(urlsplit(message["url"]).path)]
        text = (
            f"{page_type.name} {page_type.landing} [{language}] Nu line {message.get('lastLine', '?')}, "
            f"column {message.get('firstColumn', message.get('lastColumn', '?'))}: {message['message']}"
            + (f"\n    {message['extract']!r}" if message.get("extract") else "")
        )
        page_findings = findings[page_type.name, language]
        (page_findings.failures if message["type"] in FAILING_NU_TYPES else page_findings.notes).append(text)


@pytest.fixture
def vnu_jar() -> str:
    if jar := os.environ.get("VNU_JAR"):
        return jar
    # Outside `make test`, which exports VNU_JAR: the same script, which fetches the jar on first use.
    found = subprocess.run([str(ROOT / "scripts" / "find-vnu")], capture_output=True, text=True)
    if found.returncode:
        pytest.fail(f"The HTML checks need the Nu HTML Checker:\n{found.stderr}", pytrace=False)
    return found.stdout.strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_and_the_nu_html_checker(browser, live_server, vnu_jar, tmp_path, language):
    """Each page of PAGES in the language: axe-core on the live page, light and dark, and Nu on its HTML."""
    cookies = make_site()
    findings = {(page_type.name, language): Findings() for page_type in PAGES}
    sources: dict[Path, tuple[PageType, str]] = {}
    for page_type in PAGES:
        context = browser.new_context(base_url=live_server.url, locale=language)
        context.set_default_timeout(10_000)
        context.add_cookies(
            [{"name": k, "value": v, "url": live_server.url} for k, v in cookies[page_type.visitor].items()]
        )
        try:
            page, response = visit(context, page_type, language, findings[page_type.name, language])
        except PlaywrightError as error:  # the next pages are still checked
            findings[page_type.name, language].failures.append(
                f"{page_type.name} {page_type.path} [{language}]: the visit failed: {error.message}"
            )
        else:
            source = tmp_path / f"{page_type.name}-{language}.html"
            source.write_bytes(response.body())
            sources[source] = (page_type, language)
            check_with_axe(page, page_type, language, findings[page_type.name, language])
        context.close()
    check_with_nu(vnu_jar, sources, findings)

    if notes := [note for found in findings.values() for note in found.notes]:
        warnings.warn("moderate or minor axe-core violations and Nu warnings:\n" + "\n".join(notes), stacklevel=1)
    if failures := [failure for found in findings.values() for failure in found.failures]:
        pytest.fail(
            f"{len(failures)} serious or critical axe-core violations, Nu HTML Checker errors or failed visits:\n"
            + "\n".join(failures),
            pytrace=False,
        )
