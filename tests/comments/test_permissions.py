"""Who may do what with comments and notifications, and what a refused learner sees: the reason, and their text."""

import html
import re

import pytest
from django.test import Client
from django.utils import timezone

from comments import services
from comments.models import Comment, CommentBan, Notification
from courses.models import Status
from tests.comments.conftest import post_url, verified
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "My *carefully* typed thought about `asyncio.gather` & <friends>."


def comment_by(author, lesson, body="A comment.", **fields) -> Comment:
    return services.post_comment(author=author, lesson=lesson, body=body, **fields)


def typed_text(page: str) -> str:
    """What the page's comment box holds."""
    (content,) = re.findall(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(content)


def comments_section(client, lesson) -> str:
    page = client.get(lesson.get_absolute_url()).text
    return page[page.index('<section class="comments"') :]


# Changing someone else's comment


def test_editing_or_deleting_someone_elses_comment_is_forbidden(client, lesson, commenter, other_commenter):
    comment = comment_by(commenter, lesson, "Mine.")
    client.force_login(other_commenter)

    assert client.get(f"/comments/{comment.pk}/edit/").status_code == 403
    assert client.post(f"/comments/{comment.pk}/edit/", {"body": "Yours now."}).status_code == 403
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 403

    comment.refresh_from_db()
    assert (comment.body, comment.edited_at, comment.deleted_at) == ("Mine.", None, None)
    assert f'href="/comments/{comment.pk}/edit/"' not in client.get(lesson.get_absolute_url()).text


def test_staff_edit_and_delete_anyones_comment(staff_client, lesson, commenter):
    comment = comment_by(commenter, lesson, "Spam.")

    assert staff_client.get(f"/comments/{comment.pk}/edit/").status_code == 200
    assert staff_client.post(f"/comments/{comment.pk}/edit/", {"body": "Removed link."}).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Removed link." and comment.edited_at is not None

    assert staff_client.post(f"/comments/{comment.pk}/delete/").status_code == 302
    assert not Comment.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in_to_edit_or_delete(client, lesson, commenter):
    comment = comment_by(commenter, lesson)

    for response in (client.get(f"/comments/{comment.pk}/edit/"), client.post(f"/comments/{comment.pk}/delete/")):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).exists()


# Refusals that keep the typed text


def test_learners_cannot_even_find_a_draft_lesson_to_comment_on(commenter_client):
    draft = LessonFactory(status=Status.DRAFT)

    assert commenter_client.post(post_url(draft), {"body": TEXT}).status_code == 404
    assert not Comment.objects.exists()


def test_staff_who_see_a_draft_are_told_comments_open_on_publication(staff_client, staff):
    verified(staff)
    draft = LessonFactory(status=Status.DRAFT)
    assert staff_client.get(draft.get_absolute_url()).status_code == 200

    response = staff_client.post(post_url(draft), {"body": TEXT})

    assert response.status_code == 403
    assert "Comments are open on published lessons only." in response.text
    assert typed_text(response.text) == TEXT
    assert not Comment.objects.exists()


def test_a_barred_learner_is_told_why_and_keeps_the_text(commenter_client, commenter, lesson, staff):
    CommentBan.objects.create(learner=commenter, reason="Advertising in every thread", created_by=staff)

    response = commenter_client.post(post_url(lesson), {"body": TEXT})

    assert response.status_code == 403
    assert "You can no longer comment: Advertising in every thread" in response.text
    assert typed_text(response.text) == TEXT
    assert not Comment.objects.exists()


def test_a_barred_learner_cannot_edit_their_comments_either(commenter_client, commenter, lesson, staff):
    """Regression: a ban stopped new comments, but an edit could still fill old ones with spam."""
    comment = comment_by(commenter, lesson, "Before the ban.")
    CommentBan.objects.create(learner=commenter, reason="Advertising in every thread", created_by=staff)

    response = commenter_client.post(f"/comments/{comment.pk}/edit/", {"body": TEXT})

    assert response.status_code == 403
    assert "You can no longer comment: Advertising in every thread" in response.text
    assert typed_text(response.text) == TEXT
    comment.refresh_from_db()
    assert comment.body == "Before the ban." and comment.edited_at is None


def test_a_learner_with_an_unconfirmed_address_is_asked_to_confirm_it_and_keeps_the_text(client, lesson):
    unconfirmed = UserFactory()
    client.force_login(unconfirmed)

    response = client.post(post_url(lesson), {"body": TEXT})

    assert response.status_code == 403
    assert "Confirm your e-mail address before you comment." in response.text
    assert typed_text(response.text) == TEXT
    assert not Comment.objects.exists()


def test_the_sixth_comment_in_a_minute_is_refused_and_keeps_the_text(commenter_client, lesson):
    for number in range(5):
        assert commenter_client.post(post_url(lesson), {"body": f"Comment {number}"}).status_code == 302

    response = commenter_client.post(post_url(lesson), {"body": TEXT})

    assert response.status_code == 429
    assert "You are commenting faster than we allow. Wait a little, then post again: your text is kept." in (
        response.text
    )
    assert typed_text(response.text) == TEXT
    assert Comment.objects.count() == 5
    answer = commenter_client.post(post_url(lesson), {"body": TEXT}, headers={"Accept": "application/json"})
    assert answer.status_code == 429 and "faster than we allow" in answer.json()["error"]


def test_a_comment_over_5000_characters_is_refused_with_the_limit_and_keeps_the_text(commenter_client, lesson):
    long = "x" * 5001

    response = commenter_client.post(post_url(lesson), {"body": long})

    assert response.status_code == 400
    assert "A comment can be at most 5000 characters long (it has 5001)." in response.text
    assert typed_text(response.text) == long
    assert not Comment.objects.exists()
    assert commenter_client.post(post_url(lesson), {"body": "x" * 5000}).status_code == 302


def test_a_post_after_the_session_ended_asks_to_sign_in_and_keeps_the_text(client, lesson):
    response = client.post(post_url(lesson), {"body": TEXT})

    assert response.status_code == 403
    assert "Your session has ended. Sign in, then post your comment again: your text is kept below." in response.text
    assert typed_text(response.text) == TEXT
    next_url = f"/accounts/login/?next={lesson.get_absolute_url()}%23comments"
    assert f'href="{next_url}"' in response.text
    assert not Comment.objects.exists()


def test_signing_in_from_the_comment_page_returns_to_the_lessons_comments(client, lesson):
    """Regression: the header's sign-in link returned to the comment address, which only took POST (405)."""
    response = client.get(post_url(lesson))

    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#comments"


def test_the_preview_needs_a_signed_in_learner(client):
    response = client.post("/comments/preview/", {"body": "*hi*"})

    assert response.status_code == 403
    assert "Sign in" in response.json()["error"]


def test_previews_are_limited_per_learner(commenter_client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "comment_preview": "2/m/user"}
    for _ in range(2):
        assert commenter_client.post("/comments/preview/", {"body": "*hi*"}).status_code == 200
    refused = commenter_client.post("/comments/preview/", {"body": "*hi*"})
    assert refused.status_code == 429
    assert refused.json()["error"] == "Too many previews at once. Wait a minute, then try again."


def test_a_reply_to_a_comment_on_another_lesson_is_refused(commenter_client, commenter, lesson):
    elsewhere = comment_by(commenter, LessonFactory(), "On another lesson.")

    response = commenter_client.post(post_url(lesson), {"body": TEXT, "parent": elsewhere.pk})

    assert response.status_code == 400
    assert "The comment you replied to is no longer there." in response.text
    assert typed_text(response.text) == TEXT
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("gone", ["deleted_at", "hidden_at"])
def test_a_reply_to_a_deleted_or_hidden_comment_is_refused(commenter_client, other_commenter, lesson, gone):
    parent = comment_by(other_commenter, lesson)
    comment_by(other_commenter, lesson, parent=parent)  # so deleting leaves a placeholder
    Comment.objects.filter(pk=parent.pk).update(**{gone: timezone.now()})

    response = commenter_client.post(post_url(lesson), {"body": TEXT, "parent": parent.pk})

    assert response.status_code == 403
    assert "The comment you replied to is no longer there." in response.text
    assert typed_text(response.text) == TEXT


# Deleting and editing one's own


def test_deleting_a_comment_with_replies_leaves_a_placeholder_and_the_replies(
    commenter_client, commenter, other_commenter, lesson
):
    comment = comment_by(commenter, lesson, "The question.")
    reply = comment_by(other_commenter, lesson, "The answer.", parent=comment)

    assert commenter_client.post(f"/comments/{comment.pk}/delete/").status_code == 302

    section = comments_section(commenter_client, lesson)
    assert "Comment deleted." in section
    assert "The question." not in section
    assert "The answer." in section
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk


def test_deleting_a_comment_without_replies_removes_it(commenter_client, commenter, lesson):
    comment = comment_by(commenter, lesson, "Never mind.")

    assert commenter_client.post(f"/comments/{comment.pk}/delete/").status_code == 302

    assert not Comment.objects.filter(pk=comment.pk).exists()
    section = comments_section(commenter_client, lesson)
    assert "Never mind." not in section and "Comment deleted." not in section
    assert "No comments yet — be the first." in section


def test_an_edited_comment_is_marked_edited(commenter_client, commenter, lesson):
    comment = comment_by(commenter, lesson, "Frist.")
    assert '<span class="comment-edited"' not in comments_section(commenter_client, lesson)

    response = commenter_client.post(f"/comments/{comment.pk}/edit/", {"body": "First."})

    assert response.status_code == 302
    section = comments_section(Client(), lesson)
    assert "First." in section
    assert re.search(r'<span class="comment-edited" title="[^"]+">edited</span>', section)


# Hidden comments


def test_a_hidden_comment_is_invisible_to_others_and_to_visitors(client, commenter, other_commenter, lesson, staff):
    comment = comment_by(commenter, lesson, "Buy cheap watches.")
    Comment.objects.filter(pk=comment.pk).update(hidden_at=timezone.now(), hidden_by=staff)

    visitor = comments_section(client, lesson)
    client.force_login(other_commenter)
    learner = comments_section(client, lesson)

    for section in (visitor, learner):
        assert "Buy cheap watches." not in section
        assert f'id="comment-{comment.pk}"' not in section
        assert "0 comments" in section


def test_a_hidden_comment_with_replies_leaves_only_a_placeholder_for_others(
    client, commenter, other_commenter, lesson, staff
):
    comment = comment_by(commenter, lesson, "Buy cheap watches.")
    comment_by(other_commenter, lesson, "Please do not.", parent=comment)
    Comment.objects.filter(pk=comment.pk).update(hidden_at=timezone.now(), hidden_by=staff)

    section = comments_section(client, lesson)

    assert "Buy cheap watches." not in section
    assert "This comment was hidden by a moderator." in section
    assert "Please do not." in section


def test_the_author_still_sees_their_hidden_comment_with_the_moderators_note(
    commenter_client, commenter, lesson, staff
):
    comment = comment_by(commenter, lesson, "Buy cheap watches.")
    Comment.objects.filter(pk=comment.pk).update(hidden_at=timezone.now(), hidden_by=staff)

    section = comments_section(commenter_client, lesson)

    assert "Buy cheap watches." in section
    assert "A moderator hid this comment: only you and the moderators can see it." in section


# Notifications of another learner


@pytest.fixture
def someone_elses_notification(commenter, other_commenter, lesson) -> Notification:
    """``other_commenter`` is told of a reply; ``commenter`` is the one who tries to use it."""
    question = comment_by(other_commenter, lesson, "The question.")
    comment_by(commenter, lesson, "The answer.", parent=question)
    return Notification.objects.get(recipient=other_commenter)


def test_opening_someone_elses_notification_is_not_found(commenter_client, someone_elses_notification):
    assert commenter_client.get(f"/notifications/{someone_elses_notification.pk}/").status_code == 404

    someone_elses_notification.refresh_from_db()
    assert someone_elses_notification.read_at is None


def test_marking_someone_elses_notification_read_changes_nothing(commenter_client, someone_elses_notification):
    response = commenter_client.post("/notifications/read/", {"id": someone_elses_notification.pk})

    assert response.status_code == 302
    someone_elses_notification.refresh_from_db()
    assert someone_elses_notification.read_at is None
    commenter_client.post("/notifications/read/")  # "all of mine"
    someone_elses_notification.refresh_from_db()
    assert someone_elses_notification.read_at is None


def test_someone_elses_notifications_are_not_listed(commenter_client, someone_elses_notification):
    page = commenter_client.get("/notifications/").text

    assert f"/notifications/{someone_elses_notification.pk}/" not in page
    assert "No notifications yet." in page


# CSRF


def test_every_comment_form_needs_the_csrf_token(commenter, other_commenter, lesson):
    comment = comment_by(commenter, lesson)
    question = comment_by(other_commenter, lesson)
    comment_by(other_commenter, lesson, parent=comment)
    notification = Notification.objects.filter(recipient=commenter).first()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(commenter)
    posts = {
        post_url(lesson): {"body": "Hello."},
        post_url(lesson) + "?reply": {"body": "Hello.", "parent": question.pk},
        f"/comments/{comment.pk}/edit/": {"body": "Changed."},
        f"/comments/{comment.pk}/delete/": {},
        f"/comments/lessons/{lesson.pk}/follow/": {"follow": "0"},
        "/comments/preview/": {"body": "Hello."},
        "/notifications/read/": {"id": notification.pk},
    }

    for url, data in posts.items():
        assert strict.post(url, data).status_code == 403, url

    assert Comment.objects.count() == 3
    comment.refresh_from_db()
    assert comment.body == "A comment." and comment.deleted_at is None
    assert commenter.follows.filter(lesson=lesson).exists()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_fifty_first_comment_in_a_day_is_refused_though_spread_over_the_day(commenter_client, lesson, monkeypatch):
    """The daily limit (50) holds when no minute's limit is reached: one comment every ten minutes."""
    from allauth.core.internal import ratelimit

    clock = [ratelimit.time.time()]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    for number in range(50):
        assert commenter_client.post(post_url(lesson), {"body": f"Comment {number}"}).status_code == 302, number
        clock[0] += 10 * 60
    refused = commenter_client.post(post_url(lesson), {"body": TEXT})
    assert refused.status_code == 429 and typed_text(refused.text) == TEXT
    clock[0] += 24 * 60 * 60 - 50 * 10 * 60  # a day after the first one
    assert commenter_client.post(post_url(lesson), {"body": TEXT}).status_code == 302
