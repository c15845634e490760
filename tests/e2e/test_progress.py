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
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.get_by_text("Completed ✓")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_hidden()
    expect(panel_field(page, "xp")).to_have_text("60")
    page.goto(second.get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
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
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.locator("#completion-result").get_by_text("Lesson complete: +60 XP.")).to_be_visible()
    expect(panel_field(page, "level-number")).to_have_text("0")
    page.goto(course[1].get_absolute_url())
    url = page.url
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.locator("#completion-result").get_by_text("You reached level 1: First Steps!")).to_be_visible()
    expect(panel_field(page, "level-number")).to_have_text("1")
    expect(panel_field(page, "level-title")).to_have_text("First Steps")
    expect(panel_field(page, "xp")).to_have_text("120")
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    assert page.url == url  # no reload, no redirect
    page.get_by_role("button", name="Mark as not complete").click()
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_visible()
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
    # The learner's edited code and exercise draft go too (static/js/python.js keeps them under these keys).
    page.evaluate("localStorage.setItem('stream.code', '{\"x\": \"print(1)\"}')")
    page.evaluate("localStorage.setItem('stream.exercise', '{\"1\": \"def add(): ...\"}')")
    page.evaluate("localStorage.setItem('another.site.key', 'kept')")
    with page.expect_response(
        lambda answer: answer.request.method == "POST" and "/logout/" in answer.url
    ) as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.all_headers()["clear-site-data"] == '"storage"'
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).filter(key => key.startsWith('stream.'))") == []
    page.goto(course[1].get_absolute_url())
    expect(panel_field(page, "xp")).to_have_text("0")
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_visible()


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
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    expect(panel_field(page, "xp")).to_have_text("60")
    assert page.url.endswith(third.get_absolute_url())


def test_completion_works_with_javascript_disabled(browser, live_server, course):
    learner = verified_learner()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.locator("#completion-result").get_by_text("Lesson complete: +60 XP.")).to_be_visible()
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


def set_local_progress(page, lessons: dict) -> None:
    """What this browser keeps of a signed-out visitor's completions: lesson id → its XP and course."""
    page.evaluate("lessons => localStorage.setItem('stream.progress', JSON.stringify({lessons}))", lessons)


def test_a_visitors_local_progress_places_them_on_the_ladder_and_in_the_course(page, course):
    first, second, _ = course
    elsewhere = LessonFactory(xp=40)  # another course
    page.goto(second.get_absolute_url())
    set_local_progress(
        page,
        {first.pk: {"xp": 60, "course": first.course_id}, elsewhere.pk: {"xp": 40, "course": elsewhere.course_id}},
    )
    page.reload()
    expect(panel_field(page, "xp")).to_have_text("100")  # exactly level 1's threshold
    expect(panel_field(page, "level-number")).to_have_text("1")
    expect(panel_field(page, "lessons-completed")).to_have_text("2")
    expect(panel_field(page, "course-percent")).to_have_text("33")  # 1 of this course's 3
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_visible()

    stale = {n: {"xp": 0, "course": 0} for n in range(900001, 900006)}  # lessons since deleted
    set_local_progress(page, {second.pk: {"xp": 130, "course": second.course_id}, **stale})
    page.reload()
    expect(page.get_by_text("Completed ✓")).to_be_visible()
    expect(panel_field(page, "lessons-completed")).to_have_text("4")  # no more than the site has
    expect(panel_field(page, "xp-into-level")).to_have_text("30")
    expect(panel_field(page, "xp-to-go")).to_have_text("120")
    assert page.evaluate("[...document.querySelectorAll('#learner-panel progress')].map(p => [p.value, p.max])") == [
        [30, 150],
        [1, 3],
    ]

    set_local_progress(page, {second.pk: {"xp": 100_000, "course": second.course_id}})
    page.reload()
    expect(page.get_by_text("Top level reached: there is no higher level.")).to_be_visible()
    expect(page.locator('#learner-panel [data-field="next-level"]')).to_be_hidden()


def test_a_visitor_unmarks_a_lesson_and_the_browser_forgets_it(page, course):
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(panel_field(page, "xp")).to_have_text("60")
    page.get_by_role("button", name="Mark as not complete").click()
    expect(panel_field(page, "xp")).to_have_text("0")
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_focused()
    page.reload()
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_visible()
    assert page.evaluate("JSON.parse(localStorage.getItem('stream.progress')).lessons") == {}


def test_signed_in_the_browsers_progress_joins_the_account_and_shows_without_a_reload(page, course):
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    # A key that names no lesson (an older script's, or typed by hand) is left out, not sent to spoil the rest.
    set_local_progress(page, {course[0].pk: {"xp": 60, "course": course[0].course_id}, "intro": {"xp": 5}})
    page.reload()
    expect(page.get_by_text("1 lesson from this browser was added to your account.")).to_be_visible()
    expect(panel_field(page, "xp")).to_have_text("60")
    expect(page.get_by_text("Completed ✓")).to_be_visible()


def test_progress_the_server_could_not_take_now_is_kept_for_the_next_page(browser, live_server, course):
    # Its own context: the page fixture counts the refusals the browser logs as errors.
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    set_local_progress(page, {course[0].pk: {"xp": 60, "course": course[0].course_id}})
    refusals = []

    def busy(route):
        refusals.append(route.request.url)
        route.fulfill(status=429, json={"error": "Too many requests. Wait a minute, then try again."})

    page.route("**/progress/sync/", busy)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert len(refusals) == 1
    assert page.evaluate("Object.keys(JSON.parse(localStorage.getItem('stream.progress')).lessons)") == [
        str(course[0].pk)
    ]
    page.unroute("**/progress/sync/")
    page.route("**/progress/sync/", lambda route: route.fulfill(status=400, json={"error": 'Send {"lessons": [...]}'}))
    page.reload()
    expect(page.get_by_text('Send {"lessons": [...]}')).to_be_visible()
    assert page.evaluate("localStorage.getItem('stream.progress')") is None
    assert not Completion.objects.exists()
    context.close()


def test_a_completion_the_server_refuses_says_why_and_can_be_tried_again(browser, live_server, course):
    # Its own context: the page fixture counts the refusals the browser logs as errors.
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.route(
        "**/complete/",
        lambda route: route.fulfill(
            status=429, json={"error": "Too many completions at once. Wait a minute, then try again."}
        ),
    )
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.locator(".message-error")).to_have_text("Too many completions at once. Wait a minute, then try again.")
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_enabled()
    page.unroute("**/complete/")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Mark complete", exact=True).dblclick()
    expect(page.locator("#completion-result").get_by_text("Lesson complete: +60 XP.")).to_be_visible()
    assert len(posts) == 1, "a double click posts once"
    context.close()


@pytest.mark.parametrize("stored", ['{"lessons": null}', '"an older format"', "[1, 2]", "not json"])
def test_a_visitor_whose_browser_holds_unreadable_progress_starts_afresh(page, course, stored):
    page.goto(course[0].get_absolute_url())
    page.evaluate("stored => localStorage.setItem('stream.progress', stored)", stored)
    page.reload()
    expect(panel_field(page, "xp")).to_have_text("0")
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(panel_field(page, "xp")).to_have_text("60")
    expect(page.get_by_text("Completed ✓")).to_be_visible()


def test_what_a_completion_earned_is_said_beside_its_button_and_to_screen_readers(page, course):
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(course[0].get_absolute_url())
    button = page.get_by_role("button", name="Mark complete", exact=True)
    button.scroll_into_view_if_needed()
    button.click()
    result = page.locator("#completion-result")
    expect(result).to_have_text("Lesson complete: +60 XP.")
    expect(result).to_be_in_viewport()  # where the learner is looking, not at the top of the page
    expect(page.locator("#messages")).to_have_text("")
    announced = page.locator("body > div.visually-hidden[role=status]")
    expect(announced.filter(has_text="Lesson complete: +60 XP.")).to_have_count(1)
    expect(page.get_by_role("link", name="Next lesson: Two")).to_be_visible()


def test_mark_complete_and_continue_opens_the_next_lesson_and_says_what_was_earned(page, course):
    learner = verified_learner()
    sign_in(page, learner.email, "correct horse battery")
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="Mark complete and continue").click()
    expect(page).to_have_url(re.compile(course[1].get_absolute_url() + "$"))
    expect(page.locator("#messages")).to_contain_text("Lesson complete: +60 XP.")
    assert Completion.objects.filter(learner=learner, lesson=course[0]).exists()


def test_a_visitor_who_completes_every_lesson_sees_the_course_end_and_is_offered_a_certificate(page, course):
    for lesson in course[:2]:
        page.goto(lesson.get_absolute_url())
        page.get_by_role("button", name="Mark complete", exact=True).click()
        expect(page.locator("#completion-result")).to_have_text("Lesson complete: +60 XP.")
        expect(page.locator("#course-end")).to_be_hidden()
    page.goto(course[2].get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
    end = page.locator("#course-end")
    expect(end).to_be_visible()
    expect(end).to_contain_text("Course complete: Async Python")
    expect(end).to_contain_text("3 lessons, 180 XP in all.")
    expect(end.get_by_role("link", name="Sign up to keep your progress and get a certificate")).to_be_visible()
    expect(end.get_by_role("link", name="All courses")).to_be_visible()
