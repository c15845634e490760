"""Hostile comments on a lesson page in Chromium: no dialog opens, no injected element exists, no script runs.

The page fixture also fails the test on any console error, and a Content-Security-Policy violation
(an inline handler or script the policy blocked) is one: so a payload that reached the DOM as
active HTML fails the test even where the policy stopped it.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from comments import services
from tests.comments.payloads import JS, PAYLOADS
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
ACTIVE_ELEMENTS = (
    "script, iframe, frame, object, embed, svg, math, style, link, meta, base, img, video, audio, source, "
    "template, noscript, marquee, form, input, details"
)
# What each comment's body holds that the sanitizer did not allow, read in the browser.
FIND_ACTIVE_HTML = f"""() => {{
  const found = [];
  for (const body of document.querySelectorAll(".comment-body")) {{
    for (const element of body.querySelectorAll("{ACTIVE_ELEMENTS}")) found.push(element.outerHTML);
    for (const element of body.querySelectorAll("*")) {{
      for (const attribute of element.attributes) {{
        if (attribute.name.startsWith("on") || attribute.name === "style") found.push(element.outerHTML);
      }}
    }}
    for (const link of body.querySelectorAll("a[href]")) {{
      if (!["http:", "https:", "mailto:"].includes(link.protocol)) found.push(link.outerHTML);
      if (link.rel !== "nofollow ugc noopener") found.push(link.outerHTML);
    }}
  }}
  return found;
}}"""


def verified_learner(**fields):
    learner = UserFactory(**fields)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


@pytest.fixture
def hostile_lesson():
    """A lesson with every payload as a comment, some as replies, by a learner whose name is hostile too."""
    lesson = LessonFactory(
        course__slug="asyncio",
        slug="hostile",
        title="Hostile comments",
        body=f'```python title="<img id=pwned-lesson-title src=x onerror={JS}>"\nprint(1)\n```\n',
    )
    author = verified_learner(display_name="<img id=pwned-name src=x onerror=alert(1)>")
    previous = None
    for number, payload in enumerate(PAYLOADS.values()):
        previous = services.post_comment(
            author=author,
            lesson=lesson,
            body=payload,
            parent=previous if number % 4 else None,  # threads of four, each reply under the one before
            code_block=1 if number % 4 == 0 else None,
        )
    return lesson


def watch(page) -> list[str]:
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def assert_nothing_ran(page, dialogs: list[str]) -> None:
    expect(page.get_by_role("heading", name=f"{len(PAYLOADS)} comments")).to_be_visible()
    for body in page.locator(".comment-body").all():
        body.hover()
    page.wait_for_timeout(300)  # an onerror or onload would have fired by now
    assert dialogs == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator('[id^="pwned"]').count() == 0
    assert page.evaluate(FIND_ACTIVE_HTML) == []


def test_a_visitor_reads_hostile_comments_and_nothing_runs(page, hostile_lesson):
    dialogs = watch(page)

    page.goto(hostile_lesson.get_absolute_url())

    assert_nothing_ran(page, dialogs)
    # Typed HTML shows as the text it was.
    expect(page.locator(".comment-body").filter(has_text="<script>window.__pwned=1</script>").first).to_be_visible()
    expect(page.locator(".comment-author").first).to_have_text("<img id=pwned-name src=x onerror=alert(1)>")


def test_a_signed_in_learner_reads_hostile_comments_and_nothing_runs(page, hostile_lesson):
    reader = verified_learner(display_name="Reader")
    dialogs = watch(page)
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(reader.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My progress")).to_be_visible()

    page.goto(hostile_lesson.get_absolute_url())

    assert_nothing_ran(page, dialogs)
    expect(page.get_by_label("Your comment")).to_be_visible()
