"""An author schedules a lesson's draft of changes in the browser; the worker publishes it at that time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from courses.revisions import save_revision
from tests.e2e.axe import serious_axe_violations
from tests.e2e.test_admin import staff_cookie
from tests.factories import LessonFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


def test_an_author_schedules_the_draft_of_changes_and_learners_read_it_from_that_time(
    page, browser, live_server, deliver_mail, clock
):
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body="## Start\n\nOld words.\n")
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    save_revision(lesson=lesson, content=lesson.content() | {"body": "## Start\n\nNew words.\n"}, publish=False)
    page.context.add_cookies([staff_cookie(live_server)])
    learner = browser.new_context(base_url=live_server.url).new_page()

    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    at = timezone.localtime() + timedelta(days=1)  # the staff member's zone is UTC
    when = page.get_by_role("group", name="Publish the draft of changes at")
    when.get_by_label("Date:").fill(f"{at:%Y-%m-%d}")
    when.get_by_label("Time:").fill(f"{at:%H:%M}")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Schedule changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Revision 2, the draft of changes, is scheduled for ")
    expect(page.get_by_role("button", name="Cancel the schedule")).to_be_visible()
    expect(when.get_by_label("Time:")).to_have_value(f"{at:%H:%M}:00")

    deliver_mail()  # the worker, now: not yet
    learner.goto("/courses/asyncio/timeouts/")
    expect(learner.locator(".lesson-body")).to_contain_text("Old words.")

    clock.advance(days=1, minutes=1)
    deliver_mail()
    learner.reload()
    expect(learner.locator(".lesson-body")).to_contain_text("New words.")
    page.goto("/admin/courses/lesson/")
    expect(page.locator("#result_list")).not_to_contain_text("changes scheduled")
    learner.context.close()
