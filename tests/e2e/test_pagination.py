import pytest
from playwright.sync_api import expect

from courses.views import COURSE_PAGE_SIZE
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reader_pages_through_a_long_course_by_keyboard_on_a_320px_screen(page):
    course = CourseFactory(slug="big", title="Big course")
    for position in range(1, COURSE_PAGE_SIZE + 2):
        LessonFactory(course=course, position=position, title=f"Lesson {position:03d}", body="")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/courses/big/")

    pages = page.get_by_role("navigation", name="Pages")
    current = pages.get_by_role("link", name="Page 1")
    expect(current).to_have_attribute("aria-current", "page")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "the page scrolls sideways at 320 px"
    box = pages.get_by_role("link", name="Next page").bounding_box()
    assert box["x"] + box["width"] <= 320 and box["height"] >= 44

    current.focus()
    page.keyboard.press("Tab")
    expect(pages.get_by_role("link", name="Page 2")).to_be_focused()
    page.keyboard.press("Tab")
    expect(pages.get_by_role("link", name="Next page")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url("/courses/big/?page=2")
    expect(page.locator(".lesson-list li")).to_have_text(
        [f"{COURSE_PAGE_SIZE + 1:03d} Lesson {COURSE_PAGE_SIZE + 1:03d} ~1 min"]
    )
    expect(pages.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
