import pytest
from playwright.sync_api import expect

from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_copying_code_is_announced_to_screen_readers(page, live_server):
    """Pins the copy button changing only its own label, which screen readers do not announce."""
    LessonFactory(
        course__slug="asyncio",
        course__language="ko",
        slug="hello",
        body='```python title="첫째"\nprint(1)\n```\n\n```python title="둘째"\nprint(2)\n```\n',
    )
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    page.goto("/courses/asyncio/hello/")
    announcer = page.get_by_role("status").and_(page.locator(".visually-hidden"))  # not the messages region
    expect(announcer).to_have_text("")

    second = page.locator("figure.code-block").nth(1)
    second.get_by_role("button", name="복사").click()
    expect(announcer).to_have_text("복사됨")
    expect(second.get_by_role("button", name="복사됨")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "print(2)"

    # The label and the announcement clear, so the next copy is announced afresh.
    expect(announcer).to_have_text("", timeout=5000)
    expect(second.get_by_role("button", name="복사", exact=True)).to_be_visible()
