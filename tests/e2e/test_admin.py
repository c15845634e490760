import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from courses.models import Lesson, Status
from tests.factories import CourseFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_writes_a_lesson_in_admin_previews_and_publishes_it(page):
    """The admin works under the site's Content-Security-Policy (no console errors)."""
    editor = StaffFactory(email="editor@example.com")
    EmailAddress.objects.create(user=editor, email=editor.email, primary=True, verified=True)
    CourseFactory(title="Async Python", slug="asyncio")

    # Staff sign in through the site's own (rate-limited) sign-in page, then land in the admin.
    page.goto("/admin/login/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email").fill("editor@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto("/admin/courses/lesson/add/")
    page.get_by_label("Course").select_option(label="Async Python")
    page.get_by_label("Title").press_sequentially("Timeouts")
    expect(page.get_by_label("Slug")).to_have_value("timeouts")
    page.get_by_label("Position").fill("1")
    page.get_by_label("Body").fill('## Why\n\n```python title="A timeout"\nimport asyncio\n```\n')
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Lesson.objects.get(slug="timeouts").status == Status.DRAFT

    page.get_by_role("link", name="Preview the lesson").click()
    expect(page.locator(".code-title")).to_have_text("A timeout")

    page.goto("/admin/courses/lesson/")
    page.get_by_role("checkbox", name="Select this object for an action - Timeouts").check()
    page.locator("select[name=action]").select_option("publish")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("1 lesson published.")

    page.goto("/courses/asyncio/timeouts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeouts")
    expect(page.locator(".lesson-state")).to_contain_text("published")
