import pytest
from playwright.sync_api import expect

from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_reader_opens_a_lesson_copies_code_and_switches_to_korean(page):
    LessonFactory(
        course__slug="asyncio",
        course__title="Async Python",
        slug="hello",
        title="Hello asyncio",
        body='## Start\n\n```python title="Hello async world"\nimport asyncio\nprint("hi")\n```\n',
    )
    page.goto("/")
    page.get_by_role("link", name="Async Python").click()
    page.get_by_role("link", name="Hello asyncio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello asyncio")
    block = page.locator("figure.code-block")
    expect(block.locator(".code-title")).to_have_text("Hello async world")
    expect(block.locator(".code-language")).to_have_text("python")

    block.get_by_role("button", name="Copy").click()
    expect(block.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == 'import asyncio\nprint("hi")'

    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="이 페이지의 내용")).to_be_visible()
    expect(block.get_by_role("button", name="복사")).to_be_visible()
    assert page.url.endswith("/courses/asyncio/hello/")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_keyboard_users_can_skip_to_the_content(page):
    LessonFactory(course__slug="asyncio", slug="hello")
    page.goto("/courses/asyncio/hello/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_keyboard_reaches_the_exercise_and_mark_complete_from_the_top_in_five_presses(page, width):
    lesson = LessonFactory(
        course__slug="asyncio",
        slug="hello",
        body="## Start\n\n" + "A paragraph with [a link](https://docs.python.org/3/).\n\n" * 30,
        exercise="Write add.",
        exercise_starter="def add(a, b):\n    ...\n",
        exercise_checks='assert add(2, 3) == 5, "add adds"\n',
    )
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(lesson.get_absolute_url())
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to “Mark complete”")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Mark complete", exact=True)).to_be_focused()

    page.goto(lesson.get_absolute_url())
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the exercise")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_be_visible()
    assert page.evaluate("document.activeElement.closest('#exercise') !== null")
