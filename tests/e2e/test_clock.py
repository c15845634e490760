"""One clock in the browser: a visitor's times in the browser's zone, recomputed from the (cached) page."""

from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from comments import services
from comments.models import Comment
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


def test_a_visitor_reads_comment_times_in_the_browsers_zone_and_language(browser, live_server):
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    author = UserFactory()
    EmailAddress.objects.create(user=author, email=author.email, primary=True, verified=True)
    old = services.post_comment(author=author, lesson=lesson, body="From this morning.")
    Comment.objects.filter(pk=old.pk).update(created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    services.post_comment(author=author, lesson=lesson, body="Just posted.")
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Seoul", locale="ko-KR")
    context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    page = context.new_page()
    page.goto(lesson.get_absolute_url())
    times = page.locator(".comment-time time")
    expect(times.first).to_have_attribute("title", "2026. 3. 2. 오전 8:30")  # 23:30 UTC is 08:30 next day in Seoul
    expect(times.last).to_have_text("방금")  # "just now" in Korean
    context.close()


def test_a_relative_time_is_worked_out_again_on_a_cached_page(page, live_server):
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    author = UserFactory()
    EmailAddress.objects.create(user=author, email=author.email, primary=True, verified=True)
    comment = services.post_comment(author=author, lesson=lesson, body="Earlier.")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=3, seconds=10))
    page.goto(lesson.get_absolute_url())
    expect(page.locator(".comment-time time")).to_have_text("3 minutes ago")
