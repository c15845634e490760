"""One clock: a signed-in reader's times are in their own time zone, and a moment ago is "just now"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comments import services
from comments.models import Comment, Notification

pytestmark = pytest.mark.django_db


def test_a_comment_posted_under_a_minute_ago_was_posted_just_now(lesson, make_learner):
    services.post_comment(author=make_learner(), lesson=lesson, body="Fresh.")
    page = Client().get(lesson.get_absolute_url()).content.decode()
    assert "data-relative>just now</time>" in page
    assert "0 minutes ago" not in page


def test_an_older_comment_says_how_long_ago_and_its_exact_time_for_the_script(lesson, make_learner):
    comment = services.post_comment(author=make_learner(), lesson=lesson, body="Older.")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=2, seconds=30))
    comment.refresh_from_db()
    page = Client().get(lesson.get_absolute_url()).content.decode()
    assert f'<time datetime="{comment.created_at:%Y-%m-%dT%H:%M:%S+0000}"' in page
    assert "data-relative>2\xa0hours ago</time>" in page


def test_a_signed_in_readers_times_are_in_the_zone_of_their_settings(lesson, make_learner):
    author, reader = make_learner(), make_learner(time_zone="Asia/Seoul")
    question = services.post_comment(author=reader, lesson=lesson, body="A question.")
    services.post_comment(author=author, lesson=lesson, body="An answer.", parent=question)
    notification = Notification.objects.get(recipient=reader)
    at = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    Notification.objects.filter(pk=notification.pk).update(created_at=at)
    client = Client()
    client.force_login(reader)
    page = client.get("/notifications/").content.decode()
    assert 'datetime="2026-12-08T08:30:00+0900"' in page  # 23:30 UTC is 08:30 the next day in Seoul
    assert "Dec. 8, 2026, 8:30 a.m." in page
    assert 'data-time-zone="Asia/Seoul"' in page
