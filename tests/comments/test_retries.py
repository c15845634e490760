"""Posts that are safe to retry: each comment and report form carries a key of its own, and the same form posted
again (its answer lost, a double press, even at the same moment) stores once and answers like the first."""

import re
import uuid

import pytest
from django.core import mail
from django.test import Client

from comments.models import Comment, ProblemReport
from tests.factories import StaffFactory
from tests.progress.test_concurrency import post_at_once, signed_in_opener

KEY = re.compile(r'name="submission" value="([0-9a-f]{32})"')


def keys(page: str) -> list[str]:
    return KEY.findall(page)


@pytest.mark.django_db
def test_every_form_of_every_page_sent_has_a_key_of_its_own(commenter_client, commenter, lesson, post_comment):
    post_comment(commenter, lesson, "A question.")  # a reply form too
    first = keys(commenter_client.get(lesson.get_absolute_url()).text)
    second = keys(commenter_client.get(lesson.get_absolute_url()).text)  # from the page cache
    assert len(first) == len(second) == 3  # the new comment, the reply, the problem report
    assert len(set(first) | set(second)) == 6
    visitor = keys(Client().get(lesson.get_absolute_url()).text)
    assert len(visitor) == 1 and visitor[0] not in first + second  # the report form


@pytest.mark.django_db
def test_the_same_comment_form_posted_twice_stores_once_and_answers_alike(commenter_client, commenter, lesson):
    form = {"body": "Why does gather keep the order?", "submission": uuid.uuid4().hex}
    url = f"/comments/lessons/{lesson.pk}/"
    first, again = commenter_client.post(url, form), commenter_client.post(url, form)
    comment = Comment.objects.get()
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == f"{lesson.get_absolute_url()}#comment-{comment.pk}"
    # The same key with other words: a form shown again from the browser's cache, so a comment of its own.
    commenter_client.post(url, form | {"body": "And why a list?"})
    assert list(Comment.objects.values_list("body", flat=True)) == [form["body"], "And why a list?"]
    # Without a key (an old page), every post is a comment.
    commenter_client.post(url, {"body": "No key."})
    commenter_client.post(url, {"body": "No key."})
    assert Comment.objects.filter(body="No key.").count() == 2


@pytest.mark.django_db
def test_a_retried_comment_is_answered_even_past_the_rate_limit(commenter_client, lesson, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "comment": "1/m/user"}
    form = {"body": "Once.", "submission": uuid.uuid4().hex}
    url = f"/comments/lessons/{lesson.pk}/"
    assert commenter_client.post(url, form).status_code == 302
    assert commenter_client.post(url, form).status_code == 302, "a retry is not a new comment"
    assert commenter_client.post(url, {"body": "Twice."}).status_code == 429
    assert Comment.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the worker sends the e-mail after the report's commit
@pytest.mark.usefixtures("clean_cache")
def test_the_same_report_sent_twice_is_one_report_and_one_email(client, lesson, deliver_mail):
    StaffFactory(email="editor@example.com")
    form = {"kind": "typo", "message": "A typo in the first line.", "submission": uuid.uuid4().hex}
    url = f"/comments/lessons/{lesson.pk}/report/"
    assert client.post(url, form).status_code == client.post(url, form).status_code == 302
    deliver_mail()
    assert ProblemReport.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_copies_of_one_comment_form_posted_at_once_store_one_comment(live_server, make_learner, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "comment": ""}
    from tests.factories import LessonFactory

    lesson = LessonFactory()
    learner = make_learner()
    opener, token = signed_in_opener(live_server, learner, lesson.get_absolute_url())
    url = f"{live_server.url}/comments/lessons/{lesson.pk}/"
    fields = {"body": "Posted ten times at once.", "submission": uuid.uuid4().hex}
    statuses = post_at_once(opener, [url] * 10, token, fields=fields)
    assert statuses == [302] * 10
    assert Comment.objects.filter(author=learner).count() == 1
