"""The lesson page on phones and keyboards first (issue 17): the title and the first lines of the lesson on a
phone's first screen, the skip links a few presses from the top, and one right edge on a desktop."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from progress import services
from tests.e2e.axe import serious_axe_violations
from tests.factories import LessonFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SECTIONS = ["Why wait at all", "Coroutines", "Tasks", "Gathering results", "Errors on the way", "Timeouts", "Summary"]
INTRODUCTION = "A web server spends most of its time waiting for a database, and so does a crawler for other servers."


@pytest.fixture
def lesson(db):
    """A lesson as an author writes one: a two-line title, a summary, tags, an introduction, a table of contents
    of seven sections, further reading and an exercise with checks, between two other lessons."""
    first = LessonFactory(course__slug="asyncio", course__title="Async Python", slug="first", position=1)
    lesson = LessonFactory(
        course=first.course,
        slug="gather",
        position=2,
        title="Waiting for many coroutines at once with gather",
        summary="How asyncio.gather runs coroutines side by side, what it returns, and what happens when one fails.",
        body=f"{INTRODUCTION} {INTRODUCTION}\n\n"
        + "".join(f"## {title}\n\n{INTRODUCTION}\n\n{INTRODUCTION}\n\n" for title in SECTIONS),
        exercise="Write add.",
        exercise_starter="def add(a, b):\n    ...\n",
        exercise_checks='assert add(2, 3) == 5, "add adds"\n',
    )
    lesson.tags.set([TagFactory(name=name, slug=name) for name in ("asyncio", "coroutines", "event-loop")])
    LessonFactory(course=first.course, slug="third", position=3)
    return lesson


@pytest.fixture
def learner_page(page, live_server, lesson):
    """The page of a signed-in learner who has completed the lesson before this one."""
    learner = UserFactory(display_name="Ada")
    services.complete_lesson(learner=learner, lesson=lesson.course.lessons.get(slug="first"))
    client = Client()
    client.force_login(learner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def top(locator) -> float:
    return locator.evaluate("element => element.getBoundingClientRect().top")


def right(locator) -> float:
    return locator.evaluate("element => element.getBoundingClientRect().right")


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
def test_the_title_and_the_first_lines_of_the_lesson_are_on_a_phones_first_screen(request, lesson, signed_in):
    """Pins the text starting at y ≈ 1040 on a 390 by 844 px phone, below the learner panel and the contents."""
    page = request.getfixturevalue("learner_page" if signed_in else "page")
    page.set_viewport_size(PHONE)
    page.goto(lesson.get_absolute_url())
    title = page.get_by_role("heading", level=1)
    first_paragraph = page.locator(".lesson-content > p").first
    expect(first_paragraph).to_contain_text(INTRODUCTION)
    line = first_paragraph.evaluate("element => parseFloat(getComputedStyle(element).lineHeight)")
    # Two rows of header at most (a signed-in learner's navigation has one more link), then the title.
    assert page.locator(".site-header").evaluate("element => element.getBoundingClientRect().height") <= 100
    assert 0 <= top(title) < PHONE["height"]
    # Its top and at least two of its lines.
    assert 0 <= top(first_paragraph) <= PHONE["height"] - 2 * line, top(first_paragraph)

    # The panel's counts are there at once, its bars and the contents one press away, in the order they show.
    panel = page.locator("#learner-panel")
    expect(panel.locator('[data-field="xp"]')).to_be_visible()
    expect(panel.locator("#level-progress")).to_be_hidden()
    expect(page.locator("nav.toc a").first).to_be_hidden()
    expect(page.get_by_role("navigation", name="On this page")).to_be_visible()
    panel.locator("summary").click()
    expect(panel.locator("#level-progress")).to_be_visible()
    page.locator("nav.toc summary").click()
    expect(page.get_by_role("link", name=SECTIONS[0], exact=True)).to_be_visible()
    if not signed_in:
        expect(page.get_by_text("Progress is local-only — sign in to sync across devices.")).to_be_visible()
    assert top(title) < top(panel) < top(page.locator("nav.toc")) < top(first_paragraph)
    assert serious_axe_violations(page) == []


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
def test_nothing_scrolls_sideways_on_a_320_px_phone_with_the_panel_and_contents_open(request, lesson, signed_in):
    page = request.getfixturevalue("learner_page" if signed_in else "page")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(lesson.get_absolute_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.locator("#learner-panel summary").click()
    page.locator("nav.toc summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
def test_one_right_edge_on_a_desktop_and_the_panel_and_contents_stay_open_where_they_were(request, lesson, signed_in):
    """Pins three right edges at 1280 px: the panel and comments at 840, the text at 1096, the report box at 1176."""
    page = request.getfixturevalue("learner_page" if signed_in else "page")
    page.set_viewport_size(DESKTOP)
    page.goto(lesson.get_absolute_url())
    boxes = [".learner-panel", ".lesson-content", ".lesson-completion", ".lesson-progress", ".report-problem"]
    edges = {box: right(page.locator(box)) for box in [*boxes, "#comments"]}
    assert max(edges.values()) - min(edges.values()) <= 1, edges

    # Open for good, with nothing to press: the panel above, the contents beside the text, as before.
    for summary in page.locator(".learner-panel summary, nav.toc summary").all():
        expect(summary).to_be_hidden()
    expect(page.locator("#level-progress")).to_be_visible()
    expect(page.get_by_role("heading", name="On this page")).to_be_visible()
    expect(page.get_by_role("link", name=SECTIONS[-1], exact=True)).to_be_visible()
    toc, text, panel = page.locator("nav.toc"), page.locator(".lesson-content"), page.locator(".learner-panel")
    assert panel.bounding_box()["y"] + panel.bounding_box()["height"] < toc.bounding_box()["y"]
    assert toc.bounding_box()["x"] + toc.bounding_box()["width"] < text.bounding_box()["x"]
    assert abs(top(toc) - top(page.locator(".lesson-body"))) <= 1
    assert serious_axe_violations(page) == []


def press_tab_until(page, text: str, most: int) -> int:
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return presses
    raise AssertionError(f"{text!r} is not reached in {most} presses of Tab")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_keyboard_reaches_the_exercise_and_mark_complete_from_the_top_in_five_presses(page, lesson, viewport):
    page.set_viewport_size(viewport)
    page.goto(lesson.get_absolute_url())
    press_tab_until(page, "Skip to “Mark complete”", most=5)
    expect(page.locator(":focus")).to_be_in_viewport()
    page.keyboard.press("Enter")
    completion = page.locator("#lesson-completion")
    expect(completion).to_be_in_viewport()
    page.keyboard.press("Tab")
    mark_complete = page.get_by_role("button", name="Mark complete", exact=True)
    expect(mark_complete).to_be_focused()
    expect(mark_complete).to_be_in_viewport()

    page.goto(lesson.get_absolute_url())
    press_tab_until(page, "Skip to the exercise", most=5)
    page.keyboard.press("Enter")
    expect(page.locator("#exercise-title")).to_be_in_viewport()
    page.keyboard.press("Tab")
    # The code editor's host has the focus (its text box is in its shadow root).
    assert page.evaluate("document.activeElement.closest('#exercise') !== null")
    focused = page.evaluate("(({top, bottom}) => [top, bottom])(document.activeElement.getBoundingClientRect())")
    assert 0 <= focused[0] < viewport["height"] and focused[1] > 0, focused
