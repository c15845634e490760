"""Moderation: learners flag comments; staff hide, restore and delete them and bar learners in the admin."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments import services
from comments.models import Comment, CommentBan, Flag, Notification, ProblemReport
from comments.sanitize import render_comment
from tests.comments.conftest import hide, restore
from tests.factories import LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

HIDDEN_NOTE = "A moderator hid this comment: only you and the moderators can see it."


def verified(user=None):
    user = user or UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def comment_on(lesson, author, body: str = "A comment.", parent: Comment | None = None) -> Comment:
    return Comment.objects.create(
        lesson=lesson,
        author=author,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=render_comment(body),
    )


def flag_url(comment: Comment) -> str:
    return f"/comments/{comment.pk}/flag/"


def last_message(response) -> str:
    """The message the request added (earlier ones wait in the session until a page shows them)."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


def page(client, lesson) -> str:
    response = client.get(lesson.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def lesson():
    return LessonFactory()


@pytest.fixture
def author():
    return verified(UserFactory(display_name="Ada"))


@pytest.fixture
def reader_client(client):
    client.force_login(verified(UserFactory(display_name="Grace")))
    return client


# Flags


def test_a_learner_flags_a_comment_once_with_a_reason(reader_client, lesson, author):
    comment = comment_on(lesson, author, "Buy cheap watches")

    first = reader_client.post(flag_url(comment), {"reason": "Spam"})
    assert first.status_code == 302 and first["Location"] == f"{lesson.get_absolute_url()}#comment-{comment.pk}"
    assert last_message(first) == "Thank you. A moderator will look at this comment."

    again = reader_client.post(flag_url(comment), {"reason": "Still spam"})
    assert last_message(again) == "You have already flagged this comment."
    assert list(Flag.objects.values_list("reason", flat=True)) == ["Spam"]


def test_the_unique_constraint_answers_a_second_flag_from_the_service(lesson, author):
    comment = comment_on(lesson, author)
    reader = UserFactory()
    services.flag_comment(learner=reader, comment=comment, reason="Rude")
    with pytest.raises(services.ValidationError, match="already flagged"):
        services.flag_comment(learner=reader, comment=comment, reason="Rude")
    assert Flag.objects.count() == 1


def test_a_learner_cannot_flag_their_own_comment(client, lesson, author):
    comment = comment_on(lesson, author)
    client.force_login(author)
    assert 'class="comment-flag"' not in page(client, lesson)
    response = client.post(flag_url(comment), {"reason": "Oops"})
    assert last_message(response) == "You cannot flag your own comment."
    assert not Flag.objects.exists()


def test_others_see_a_flag_link_under_each_comment_to_a_page_with_the_form(reader_client, lesson, author):
    comment = comment_on(lesson, author)
    html = page(reader_client, lesson)
    assert f'<a class="comment-flag" href="/comments/{comment.pk}/flag/">Flag</a>' in html
    form = reader_client.get(flag_url(comment))
    assert form.status_code == 200
    html = form.content.decode()
    assert f'action="/comments/{comment.pk}/flag/"' in html and 'name="reason"' in html and "required" in html


def test_a_visitor_sees_no_flag_form_and_must_sign_in_to_flag(client, lesson, author):
    comment = comment_on(lesson, author)
    assert 'class="comment-flag"' not in page(client, lesson)
    response = client.post(flag_url(comment), {"reason": "Spam"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Flag.objects.exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Say why the comment should be looked at."), ("x" * 501, "at most 500 characters long (it has 501)")],
)
def test_a_flag_needs_a_reason_of_at_most_500_characters(reader_client, lesson, author, reason, message):
    comment = comment_on(lesson, author)
    response = reader_client.post(flag_url(comment), {"reason": reason})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f">{reason}</textarea>" in html
    assert not Flag.objects.exists()


def test_a_hidden_or_deleted_comment_cannot_be_flagged(reader_client, lesson, author):
    hidden = comment_on(lesson, author)
    hide(hidden, by=StaffFactory())
    deleted = comment_on(lesson, author)
    Comment.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    assert reader_client.post(flag_url(hidden), {"reason": "Spam"}).status_code == 404
    assert reader_client.post(flag_url(deleted), {"reason": "Spam"}).status_code == 404
    assert not Flag.objects.exists()


def test_flagging_needs_the_csrf_token(lesson, author):
    comment = comment_on(lesson, author)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(verified())
    assert strict.post(flag_url(comment), {"reason": "Spam"}).status_code == 403
    assert not Flag.objects.exists()


# Hiding and restoring


def hide_in_admin(staff_client, *comments: Comment):
    return staff_client.post(
        "/admin/comments/comment/",
        {"action": "hide", "_selected_action": [comment.pk for comment in comments]},
    )


def test_hiding_a_comment_removes_its_notifications_and_hides_it_from_others(staff_client, staff, lesson, author):
    replier = verified(UserFactory(display_name="Replier"))
    parent = comment_on(lesson, author, "The question")
    reply = services.post_comment(author=replier, lesson=lesson, body="Visit spam.example", parent=parent)
    assert Notification.objects.filter(recipient=author, comment=reply).exists()

    response = hide_in_admin(staff_client, reply)
    assert response.status_code == 302
    assert last_message(response) == "1 comment hidden."
    reply.refresh_from_db()
    assert reply.hidden_by == staff and reply.hidden_at is not None
    assert not Notification.objects.filter(comment=reply).exists()

    anonymous = Client()
    html = page(anonymous, lesson)
    assert "Visit spam.example" not in html and "The question" in html
    assert "1 comment" in html
    anonymous.force_login(author)
    assert "Visit spam.example" not in page(anonymous, lesson)
    assert not author.notifications.exists()

    anonymous.force_login(replier)
    own = page(anonymous, lesson)
    assert "Visit spam.example" in own and HIDDEN_NOTE in own


def test_a_hidden_comment_with_replies_leaves_a_placeholder_for_others(lesson, author, client):
    hidden = comment_on(lesson, author, "Rude words")
    comment_on(lesson, verified(), "A kind reply", parent=hidden)
    hide(hidden, by=StaffFactory())
    html = page(client, lesson)
    assert "Rude words" not in html
    assert "This comment was hidden by a moderator." in html and "A kind reply" in html


def test_restoring_a_hidden_comment_shows_it_to_everyone_again(staff_client, lesson, author):
    comment = comment_on(lesson, author, "Fair point after all")
    hide(comment, by=StaffFactory())
    visitor = Client()
    assert "Fair point after all" not in page(visitor, lesson)

    response = staff_client.post("/admin/comments/comment/", {"action": "restore", "_selected_action": [comment.pk]})
    assert last_message(response) == "1 comment restored."
    comment.refresh_from_db()
    assert comment.hidden_at is None and comment.hidden_by is None
    html = page(visitor, lesson)
    assert "Fair point after all" in html and HIDDEN_NOTE not in html


def test_hide_and_restore_change_only_what_they_must(lesson, author):
    staff = StaffFactory()
    shown, hidden = comment_on(lesson, author), comment_on(lesson, author)
    hide(hidden, by=staff)
    first_hidden_at = Comment.objects.get(pk=hidden.pk).hidden_at
    assert services.hide_comments(comments=Comment.objects.all(), by=StaffFactory()) == 1
    assert Comment.objects.get(pk=hidden.pk).hidden_at == first_hidden_at
    assert Comment.objects.get(pk=hidden.pk).hidden_by == staff
    assert services.restore_comments(comments=Comment.objects.all()) == 2
    restore(shown)
    assert not Comment.objects.filter(hidden_at__isnull=False).exists()


# Bars and unconfirmed addresses


def test_staff_bar_a_learner_with_a_reason_the_learner_then_sees(staff_client, staff, lesson, client):
    learner = verified()
    response = staff_client.post(
        "/admin/comments/commentban/add/", {"learner": learner.pk, "reason": "Repeated spam links"}
    )
    assert response.status_code == 302
    ban = CommentBan.objects.get()
    assert ban.learner == learner and ban.created_by == staff

    client.force_login(learner)
    html = page(client, lesson)
    assert "You can no longer comment: Repeated spam links" in html
    assert 'id="new-comment"' not in html and "comment-reply" not in html

    refused = client.post(f"/comments/lessons/{lesson.pk}/", {"body": "Let me back in"})
    assert refused.status_code == 403
    assert "You can no longer comment: Repeated spam links" in refused.content.decode()
    assert ">Let me back in</textarea>" in refused.content.decode()
    assert not Comment.objects.exists()


def test_a_bar_needs_a_reason(staff_client):
    learner = verified()
    response = staff_client.post("/admin/comments/commentban/add/", {"learner": learner.pk, "reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not CommentBan.objects.exists()


def test_the_bar_form_finds_learners_by_autocomplete(staff_client):
    html = staff_client.get("/admin/comments/commentban/add/").content.decode()
    assert "admin-autocomplete" in html


def test_an_unverified_learner_is_asked_to_confirm_their_address(client, lesson):
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=False)
    client.force_login(learner)
    html = page(client, lesson)
    assert "Confirm your e-mail address before you comment." in html
    assert 'href="/accounts/resend-confirmation/"' in html
    assert 'id="new-comment"' not in html

    refused = client.post(f"/comments/lessons/{lesson.pk}/", {"body": "Hello"})
    assert refused.status_code == 403
    assert "Confirm your e-mail address before you comment." in refused.content.decode()
    assert not Comment.objects.exists()


def test_a_learner_in_good_standing_gets_the_form(reader_client, lesson):
    html = page(reader_client, lesson)
    assert 'id="new-comment"' in html
    assert "You can no longer comment" not in html and "Confirm your e-mail address" not in html


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lesson_page_costs_the_same_for_barred_unverified_and_other_learners(lesson):
    comment_on(lesson, verified())
    costs = []
    barred = verified()
    CommentBan.objects.create(learner=barred, reason="Spam")
    for learner in (verified(), barred, UserFactory()):
        client = Client()
        client.force_login(learner)
        client.get(lesson.get_absolute_url())  # the session's first request writes to it
        costs.append(queries_of(client, lesson.get_absolute_url()))
    assert len(set(costs)) == 1, costs


# The admin's lists and pages


def test_the_comment_list_puts_flagged_comments_first(staff_client, lesson, author):
    quiet_old, once, twice, quiet_new = (comment_on(lesson, author, f"Comment {n}") for n in range(4))
    flaggers = [UserFactory() for _ in range(2)]
    for flagger in flaggers:
        services.flag_comment(learner=flagger, comment=twice, reason="Spam")
    services.flag_comment(learner=flaggers[0], comment=once, reason="Off topic")

    response = staff_client.get("/admin/comments/comment/")
    assert list(response.context["cl"].result_list) == [twice, once, quiet_new, quiet_old]
    html = response.content.decode()
    for heading in ("Author", "Lesson", "Comment", "Flags", "Hidden", "Written"):
        assert f">{heading}</a>" in html or f">{heading}</span>" in html, heading


def test_the_comment_list_is_filtered_by_flags_and_hidden_and_searched_by_author(staff_client, lesson, author):
    flagged = comment_on(lesson, author, "Flagged one")
    hidden = comment_on(lesson, verified(UserFactory(email="other@example.com")), "Hidden one")
    services.flag_comment(learner=UserFactory(), comment=flagged, reason="Spam")
    hide(hidden, by=StaffFactory())

    def listed(query: str) -> list[Comment]:
        return list(staff_client.get(f"/admin/comments/comment/?{query}").context["cl"].result_list)

    assert listed("flagged=yes") == [flagged]
    assert listed("flagged=no") == [hidden]
    assert listed("hidden=yes") == [hidden]
    assert listed("hidden=no") == [flagged]
    assert listed("q=other@example.com") == [hidden]
    assert listed("q=Flagged") == [flagged]


def test_a_comments_admin_page_shows_it_and_its_flags_without_a_save_button(staff_client, lesson, author):
    comment = comment_on(lesson, author, "<script>alert(1)</script> words")
    services.flag_comment(learner=UserFactory(), comment=comment, reason="Looks like an attack")
    response = staff_client.get(f"/admin/comments/comment/{comment.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Looks like an attack" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; words" in html and "<script>alert(1)" not in html
    assert 'name="_save"' not in html
    assert f'href="/admin/comments/comment/{comment.pk}/delete/"' in html
    assert staff_client.get("/admin/comments/comment/add/").status_code == 403


def test_only_staff_delete_comments_in_the_admin(staff_client, lesson, author):
    comment = comment_on(lesson, author)
    delete = f"/admin/comments/comment/{comment.pk}/delete/"

    client = Client()
    client.force_login(author)
    for response in (client.get(delete), client.post(delete, {"post": "yes"})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Comment.objects.filter(pk=comment.pk).exists()

    assert staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_a_learner_cannot_delete_someone_elses_comment_on_the_site(reader_client, lesson, author):
    comment = comment_on(lesson, author)
    assert reader_client.post(f"/comments/{comment.pk}/delete/").status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def make_comments(count: int) -> None:
    lesson = LessonFactory()
    for _ in range(count):
        comment = comment_on(lesson, verified())
        services.flag_comment(learner=UserFactory(), comment=comment, reason="Spam")


def make_bans(count: int) -> None:
    staff = StaffFactory()
    for _ in range(count):
        CommentBan.objects.create(learner=UserFactory(), reason="Spam", created_by=staff)


def make_reports(count: int) -> None:
    lesson = LessonFactory()
    for number in range(count):
        ProblemReport.objects.create(
            lesson=LessonFactory() if number % 2 else lesson,
            kind=ProblemReport.Kind.TYPO,
            message="A typo",
            reporter=UserFactory() if number % 3 else None,
        )


@pytest.mark.parametrize(
    ("url", "model", "make_rows"),
    [
        ("/admin/comments/comment/", Comment, make_comments),
        ("/admin/comments/commentban/", CommentBan, make_bans),
        ("/admin/comments/problemreport/", ProblemReport, make_reports),
    ],
)
def test_the_moderation_lists_cost_the_same_queries_for_1_and_30_rows(staff_client, url, model, make_rows):
    make_rows(1)
    one = queries_of(staff_client, url)
    make_rows(29)
    assert model.objects.count() == 30
    assert queries_of(staff_client, url) == one
