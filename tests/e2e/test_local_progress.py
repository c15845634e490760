"""A visitor's progress kept in the browser, shown on the catalogue and the course page as a learner's is."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from progress.models import Achievement, Completion
from tests.e2e.axe import serious_axe_violations
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


@pytest.fixture
def course():
    """Three lessons of one course, then two of another (created later: higher ids)."""
    Achievement.objects.all().delete()
    first = LessonFactory(course__slug="asyncio", course__title="Async Python", slug="one", title="One", xp=60)
    second = LessonFactory(course=first.course, slug="two", title="Two", xp=60)
    third = LessonFactory(course=first.course, slug="three", title="Three", xp=60)
    return [first, second, third]


@pytest.fixture
def other():
    """A second course, in Korean: its titles are marked as such wherever they are shown."""
    course = CourseFactory(slug="sql", title="SQL 기초", language="ko", position=5)
    return [
        LessonFactory(course=course, slug="select", title="SELECT 문"),
        LessonFactory(course=course, slug="join", title="JOIN 문"),
    ]


def complete(page, lesson) -> None:
    page.goto(lesson.get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()


def lesson_row(page, lesson):
    return page.locator(".lesson-list li").filter(has=page.get_by_role("link", name=lesson.title, exact=True))


def continue_link(page):
    return page.get_by_role("link", name=re.compile("^Continue:"))


def course_card(page, title: str):
    return page.locator(".card").filter(has=page.get_by_role("heading", name=title))


def test_a_visitors_completed_lesson_shows_on_the_course_page_and_the_catalogue(page, course, other):
    first, second, third = course
    page.goto("/")
    # Nothing kept yet: no bars, no "Continue".
    expect(page.get_by_role("heading", name="Async Python")).to_be_visible()
    expect(continue_link(page)).to_have_count(0)
    expect(page.get_by_text(re.compile("lessons? complete"))).to_have_count(0)

    complete(page, first)
    page.goto(first.course.get_absolute_url())
    expect(lesson_row(page, first).get_by_text("✓")).to_be_visible()
    expect(lesson_row(page, first).locator(".lesson-done")).to_have_text("✓Completed")  # what a screen reader says
    expect(lesson_row(page, second).get_by_text("✓")).to_have_count(0)
    expect(lesson_row(page, third).get_by_text("✓")).to_have_count(0)
    expect(page.get_by_text("1 of 3 lessons complete (33%)", exact=True)).to_be_visible()
    bar = page.get_by_role("progressbar", name="1 of 3 lessons complete (33%)")
    expect(bar).to_have_js_property("value", 1)
    expect(bar).to_have_js_property("max", 3)

    page.goto("/")
    link = continue_link(page)
    expect(link).to_have_text("Continue: Two")
    expect(link).to_have_attribute("href", second.get_absolute_url())
    expect(page.locator(".continue-lesson .meta")).to_have_text("Async Python")
    expect(course_card(page, "Async Python").get_by_text("1 of 3 lessons complete (33%)", exact=True)).to_be_visible()
    expect(course_card(page, "SQL 기초").get_by_text("0 of 2 lessons complete (0%)", exact=True)).to_be_visible()

    # The latest course worked on leads: another course's lesson, then back to the first course.
    complete(page, other[0])
    page.goto("/")
    expect(continue_link(page)).to_have_text("Continue: JOIN 문")
    expect(continue_link(page)).to_have_attribute("href", other[1].get_absolute_url())
    expect(continue_link(page).locator("span")).to_have_attribute("lang", "ko")
    expect(course_card(page, "SQL 기초").get_by_text("1 of 2 lessons complete (50%)", exact=True)).to_be_visible()
    complete(page, third)  # an earlier lesson id than the other course's: the latest is what counts
    page.goto("/")
    expect(continue_link(page)).to_have_text("Continue: Two")
    expect(course_card(page, "Async Python").get_by_text("2 of 3 lessons complete (66%)", exact=True)).to_be_visible()

    # That course done: nothing to continue, as for a learner whose latest course is complete.
    complete(page, second)
    page.goto("/")
    expect(course_card(page, "Async Python").get_by_text("3 of 3 lessons complete (100%)", exact=True)).to_be_visible()
    expect(continue_link(page)).to_have_count(0)
    expect(page.locator(".continue-lesson")).to_be_hidden()


def test_a_visitor_finds_the_continue_link_by_keyboard_on_a_phone_and_the_pages_pass_axe(page, course, other):
    page.set_viewport_size({"width": 320, "height": 640})
    complete(page, course[0])
    for path in ["/", course[0].course.get_absolute_url()]:
        page.goto(path)
        expect(page.get_by_text("1 of 3 lessons complete (33%)", exact=True)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert serious_axe_violations(page) == [], path
    page.goto("/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Continue: Two":
            break
    expect(continue_link(page)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(course[1].get_absolute_url()) + "$"))


@pytest.mark.parametrize(
    "stored",
    [
        '{"lessons": {"%(first)s": null, "%(second)s": {"xp": 60, "course": %(course)s, "at": "soon"}}}',
        '{"lessons": {"%(first)s": {"xp": -5, "course": %(course)s}, "%(second)s": {"xp": 60, "course": %(course)s}}}',
        '{"lessons": {"abc": {"xp": 60, "course": %(course)s}, "%(second)s": {"xp": 60, "course": %(course)s}}}',
    ],
    ids=["null-entry-and-bad-time", "negative-xp", "not-a-lesson-number"],
)
def test_a_tampered_local_copy_counts_only_what_the_lesson_page_counts(page, course, stored):
    first, second, _ = course
    page.goto("/")
    values = {"first": first.pk, "second": second.pk, "course": first.course_id}
    page.evaluate("value => localStorage.setItem('stream.progress', value)", stored % values)
    page.goto(first.course.get_absolute_url())
    expect(page.get_by_text("1 of 3 lessons complete (33%)", exact=True)).to_be_visible()
    expect(lesson_row(page, second).get_by_text("✓")).to_be_visible()
    expect(lesson_row(page, first).get_by_text("✓")).to_have_count(0)
    page.goto("/")
    expect(continue_link(page)).to_have_text("Continue: One")  # the first lesson not completed, as the server's


def test_without_javascript_a_visitor_sees_no_empty_progress(browser, live_server, course):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    for path in ["/", course[0].course.get_absolute_url()]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shown = page.locator(".continue-lesson:visible, .course-progress:visible, .lesson-done:visible")
        expect(shown).to_have_count(0)
    context.close()


def test_a_signed_in_learner_sees_the_servers_progress_once(page, course):
    first, second, _ = course
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(learner.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(first.get_absolute_url())
    page.get_by_role("button", name="Mark complete", exact=True).click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    assert Completion.objects.filter(learner=learner, lesson=first).exists()

    page.goto("/")
    expect(continue_link(page)).to_have_count(1)
    expect(continue_link(page)).to_have_text("Continue: Two")
    expect(continue_link(page)).to_have_attribute("href", second.get_absolute_url())
    expect(page.get_by_text(re.compile("lessons? complete"))).to_have_count(1)
    expect(page.get_by_text("1 of 3 lessons complete (33%)", exact=True)).to_be_visible()
    expect(page.locator("#local-progress-outline, script[src*='local-progress']")).to_have_count(0)
    page.goto(first.course.get_absolute_url())
    expect(page.get_by_text(re.compile("lessons? complete"))).to_have_count(1)
    expect(page.locator(".lesson-list .lesson-done")).to_have_count(1)
    expect(lesson_row(page, first).get_by_text("✓")).to_be_visible()
    expect(page.locator("script[src*='local-progress']")).to_have_count(0)


def test_a_visitor_reading_in_korean_sees_their_progress_in_korean(browser, live_server, course):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR")
    page = context.new_page()
    page.goto(course[0].get_absolute_url())
    page.get_by_role("button", name="완료로 표시", exact=True).click()
    page.goto(course[0].course.get_absolute_url())
    expect(page.get_by_text("레슨 3개 중 1개 완료(33%)", exact=True)).to_be_visible()
    expect(lesson_row(page, course[0]).locator(".lesson-done")).to_have_text("✓완료")
    page.goto("/")
    expect(page.get_by_role("link", name="이어서 학습: Two")).to_have_attribute("href", course[1].get_absolute_url())
    context.close()
