"""With the script, what a report, a flag or a follow did is said beside the control that caused it, in a live
region, without leaving the page (issue 17); the focus stays on (or goes back to) that control."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from comments.models import Comment, Flag, Follow, ProblemReport
from comments.sanitize import render_comment
from tests.e2e.axe import serious_axe_violations
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "correct horse battery"
THANKS = "Thank you! Your report was sent."
FLAGGED = "Thank you. A moderator will look at this comment."
FOLLOWING = "You follow this lesson's comments: new comments and replies will be in your notifications."
NOT_FOLLOWING = "You no longer follow this lesson's comments."


def verified_learner(**fields):
    learner = UserFactory(**fields)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def announced(page, text: str):
    """The page's announcer: the live region the script writes to when the result's own region was just drawn."""
    return page.locator('body > [role="status"].visually-hidden').filter(has_text=text)


def fits(page, selector: str) -> bool:
    """The element lies inside the viewport's width (nothing pushed off the side at 320 px)."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


@pytest.fixture
def lesson(db):
    return LessonFactory(course__slug="asyncio", slug="one", title="Async basics")


def test_a_report_is_thanked_beside_its_form(page, lesson):
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(lesson.get_absolute_url())
    control = page.locator("#report-problem summary")
    result = page.locator("#report-problem #report-result")
    expect(result).to_have_attribute("role", "status")  # a live region on the page before anything is said
    expect(result).to_be_empty()
    control.click()
    page.get_by_label("Typo").check()
    page.get_by_label("What is wrong?").fill("The second example misspells asyncio.")
    page.get_by_role("button", name="Send report").click()

    expect(result).to_have_text(THANKS)
    expect(page.get_by_text(THANKS)).to_have_count(1)  # said once: the region is live already
    expect(control).to_be_focused()  # the form closed; the focus is back on its control, the thanks beside it
    expect(page.locator("#messages")).not_to_contain_text(THANKS)
    assert page.url.endswith(lesson.get_absolute_url())  # the page was not left
    assert ProblemReport.objects.get().message == "The second example misspells asyncio."
    assert fits(page, "#report-result")
    assert serious_axe_violations(page, include=["#report-problem", "#comments"]) == []


def test_a_refused_report_is_answered_beside_its_form_which_keeps_the_text(browser, live_server, lesson):
    # A context of its own: the refusal's 429 is in the console, which the page fixture counts as an error.
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and "status of 429" not in message.text and errors.append(message.text)
        ),
    )
    page.goto(lesson.get_absolute_url())
    page.locator("#report-problem summary").click()
    page.get_by_label("Typo").check()
    page.get_by_label("What is wrong?").fill("One of five")
    form = page.locator("form[data-report-form]")
    for _ in range(5):  # the address's reports for the minute, each from a form of its own (its own key)
        status = form.evaluate(
            "form => { const data = new FormData(form);"
            " data.set('submission', crypto.randomUUID().replaceAll('-', ''));"
            " return fetch(form.action, {method: 'POST', body: data,"
            " headers: {Accept: 'application/json'}}).then(response => response.status); }"
        )
        assert status == 200
    page.get_by_label("What is wrong?").fill("The sixth report, kept")
    page.get_by_role("button", name="Send report").click()

    result = page.locator("#report-problem #report-result")
    expect(result).to_contain_text("Too many reports from your address.")
    expect(result.locator(".message-error")).to_have_count(1)
    expect(page.get_by_label("What is wrong?")).to_have_value("The sixth report, kept")
    expect(page.get_by_role("button", name="Send report")).to_be_focused()
    assert ProblemReport.objects.count() == 5
    context.close()
    assert errors == []


def test_a_flag_is_sent_from_under_the_comment_and_answered_beside_it(page, lesson):
    ada = verified_learner(display_name="Ada")
    grace = verified_learner(display_name="Grace")
    body = "Buy cheap watches"
    comment = Comment.objects.create(lesson=lesson, author=ada, body=body, body_html=render_comment(body))

    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, grace.email)
    page.goto(lesson.get_absolute_url())
    card = page.locator(f"#comment-{comment.pk}")
    flag = card.get_by_role("link", name="Flag")
    flag.click()
    reason = card.get_by_label("Why should a moderator look at this comment?")
    expect(reason).to_be_focused()  # the form opened under the comment, not on a page of its own
    result = card.locator(f"#comment-{comment.pk}-result")
    expect(result).to_have_attribute("role", "status")  # a live region before anything is said in it
    expect(result).to_be_empty()
    reason.fill("Spam")
    card.get_by_role("button", name="Send to the moderators").click()

    expect(result).to_have_text(FLAGGED)
    expect(page.get_by_text(FLAGGED)).to_have_count(1)
    expect(card.locator("form[data-flag-form]")).to_have_count(0)
    expect(flag).to_be_focused()
    assert "/flag/" not in page.url
    assert Flag.objects.get().reason == "Spam"
    assert fits(page, f"#comment-{comment.pk}-result")

    # Again: the answer replaces the first, in the same place.
    flag.click()
    reason.fill("Still spam")
    reason.press("Tab")
    page.keyboard.press("Enter")  # by keyboard: the send button is next
    expect(result).to_have_text("You have already flagged this comment.")
    assert serious_axe_violations(page, include=["#report-problem", "#comments"]) == []


def test_following_is_said_beside_the_button_which_keeps_the_focus(page, lesson):
    grace = verified_learner(display_name="Grace")

    sign_in(page, grace.email)
    page.goto(lesson.get_absolute_url())
    page.get_by_role("button", name="🔔 Reply notifications: off").click()

    result = page.locator("#comments #follow-result")
    expect(result).to_have_text(FOLLOWING)
    expect(result).to_have_attribute("role", "status")
    expect(announced(page, FOLLOWING)).to_have_count(1)
    button = page.locator("#follow-button")
    expect(button).to_have_accessible_name("🔔 Reply notifications: on")
    expect(button).to_be_focused()
    assert Follow.objects.filter(learner=grace, lesson=lesson).exists()

    page.keyboard.press("Enter")
    expect(result).to_have_text(NOT_FOLLOWING)
    expect(page.locator("#follow-button")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#messages")).not_to_contain_text(NOT_FOLLOWING)
    assert not Follow.objects.filter(learner=grace, lesson=lesson).exists()
    assert serious_axe_violations(page, include=["#report-problem", "#comments"]) == []
