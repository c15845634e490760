"""A learner's progress in the browser: kept locally when signed out, carried to the account, shown on the panel."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import expect

from progress.models import Achievement, Completion
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "a long passphrase 42"


@pytest.fixture
def course():
    """Three lessons of one course, worth 60 XP each; no achievements, so the XP is the lessons' own."""
    Achievement.objects.all().delete()
    first = LessonFactory(course__slug="asyncio", course__title="Async Python", slug="one", title="One", xp=60)
    second = LessonFactory(course=first.course, slug="two", title="Two", xp=60)
    third = LessonFactory(course=first.course, slug="three", title="Three", xp=60)
    return [first, second, third]


def verified_learner():
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def panel_field(page, name: str):
    return page.locator(f'#learner-panel [data-field="{name}"]')


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_visitor_keeps_progress_in_the_browser_and_brings_it_to_a_new_account(
    page, browser, live_server, course, deliver_mail
):
    first, second, _ = course
    page.goto(first.get_absolute_url())
    expect(page.get_by_text("Progress is local-only — sign in to sync across devices.")).to_be_visible()
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Completed ✓")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    expect(page.get_by_role("button", name="Mark complete")).to_be_hidden()
    expect(panel_field(page, "xp")).to_have_text("60")
    page.goto(second.get_absolute_url())
    page.get_by_role("button", name="Mark complete").click()
    expect(panel_field(page, "xp")).to_have_text("120")
    expect(panel_field(page, "level-number")).to_have_text("1")
    expect(panel_field(page, "level-title")).to_have_text("First Steps")
    expect(panel_field(page, "lessons-completed")).to_have_text("2")
    expect(panel_field(page, "course-percent")).to_have_text("66")
    page.reload()  # still there: the browser kept it
    expect(panel_field(page, "xp")).to_have_text("120")
    assert not Completion.objects.exists()

    page.get_by_role("link", name="Sign up").click()
    page.get_by_label(re.compile("e-?mail", re.I)).fill("ada@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("Password \\(again\\)")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    deliver_mail()
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_text("2 lessons from this browser were added to your account.")).to_be_visible()
    assert page.evaluate("localStorage.getItem('stream.progress')") is None
    learner = UserFactory._meta.model.objects.get(email="ada@example.com")
    assert set(Completion.objects.filter(learner=learner).values_list("lesson_id", flat=True)) == {first.pk, second.pk}
    page.goto(first.get_absolute_url())
    expect(panel_field(page, "xp")).to_have_text("120")
    expect(page.get_by_text("Completed ✓")).to_be_visible()

    # Another device: the same progress after signing in.
    other = browser.new_context(base_url=live_server.url).new_page()
    sign_in(other, "ada@example.com")
    other.goto(second.get_absolute_url())
    expect(panel_field(other, "xp")).to_have_text("120")
    expect(other.get_by_text("Completed ✓")).to_be_visible()
    expect(other.get_by_text("Progress is local-only")).to_have_count(0)
    other.context.close()


def test_a_learner_crossing_100_xp_sees_level_1_without_a_reload(page, course):
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Lesson complete: +60 XP.")).to_be_visible()
    expect(panel_field(page, "level-number")).to_have_text("0")
    page.goto(course[1].get_absolute_url())
    url = page.url
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("You reached level 1: First Steps!")).to_be_visible()
    expect(panel_field(page, "level-number")).to_have_text("1")
    expect(panel_field(page, "level-title")).to_have_text("First Steps")
    expect(panel_field(page, "xp")).to_have_text("120")
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    assert page.url == url  # no reload, no redirect
    page.get_by_role("button", name="Mark as not complete").click()
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()
    expect(panel_field(page, "xp")).to_have_text("120")


def test_signing_out_empties_the_browsers_progress(page, course):
    learner = verified_learner()
    page.goto(course[0].get_absolute_url())
    page.evaluate("localStorage.setItem('stream.progress', JSON.stringify({lessons: {}}))")
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.evaluate(
        f"localStorage.setItem('stream.progress', JSON.stringify({{lessons: {{'{course[1].pk}': {{xp: 60}}}}}}))"
    )
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('stream.progress')") is None
    page.goto(course[1].get_absolute_url())
    expect(panel_field(page, "xp")).to_have_text("0")
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()


@pytest.mark.parametrize(
    "stored",
    [
        '{"lessons": {"%(first)s": null}}',
        '{"lessons": [null, 1]}',
        '{"lessons": {"%(first)s": {"xp": -500, "course": %(course)s}}}',
        '{"lessons": {"%(first)s": {"xp": 1e308, "course": %(course)s}, "%(second)s": {"xp": 1e308}}}',
        '{"lessons": {"abc": {"xp": 60, "course": %(course)s}, "__proto__": {"xp": 60}}}',
    ],
    ids=["null-lesson", "array", "negative-xp", "huge-xp", "not-lesson-numbers"],
)
def test_a_tampered_local_copy_leaves_the_panel_and_the_button_working(page, course, stored):
    """Regression: a null entry stopped the page's script, so "Mark complete" sent a visitor to sign in."""
    first, second, third = course
    page.goto(third.get_absolute_url())
    values = {"first": first.pk, "second": second.pk, "course": first.course_id}
    page.evaluate("value => localStorage.setItem('stream.progress', value)", stored % values)
    page.reload()
    expect(panel_field(page, "xp")).to_have_text("0")
    expect(panel_field(page, "level-number")).to_have_text("0")
    expect(panel_field(page, "xp-to-go")).to_have_text("100")
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    expect(panel_field(page, "xp")).to_have_text("60")
    assert page.url.endswith(third.get_absolute_url())


def test_completion_works_with_javascript_disabled(browser, live_server, course):
    learner = verified_learner()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Lesson complete: +60 XP.")).to_be_visible()
    expect(page.get_by_text("Completed ✓")).to_be_visible()
    expect(panel_field(page, "xp")).to_have_text("60")
    assert page.url.endswith(f"{course[0].get_absolute_url()}#lesson-completion")
    context.close()


def test_sign_up_takes_the_browsers_time_zone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Seoul")
    page = context.new_page()
    page.goto("/accounts/signup/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill("seoul@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("Password \\(again\\)")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert UserFactory._meta.model.objects.get(email="seoul@example.com").time_zone == "Asia/Seoul"
    context.close()
