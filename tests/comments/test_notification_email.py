"""E-mail about replies and new comments: sent by the worker, to learners who asked for it, never with the comment."""

import email.policy

import pytest
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tasks import MAX_ATTEMPTS
from comments import services
from comments.models import Comment, Notification
from courses.models import Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

SECRET_PHRASE = "Purple elephants juggle seventeen teacups"


def everything_in(message) -> str:
    """Subject, text and HTML of a sent message, and its headers, as one text to search."""
    html = "".join(content for content, _mimetype in message.alternatives)
    return "\n".join([message.subject, message.body, html, message.message().as_string()])


def delete_as_its_author(comment: Comment) -> None:
    client = Client()
    client.force_login(comment.author)
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 302


@pytest.fixture
def ada(make_learner):
    return make_learner(display_name="Ada", email_notifications=True)


@pytest.fixture
def grace(make_learner):
    return make_learner(display_name="Grace")


def test_a_reply_emails_the_parents_author_a_link_and_never_the_replys_text(
    ada, grace, lesson, post_comment, deliver_mail
):
    question = post_comment(ada, lesson, "How does the event loop pick the next task?")
    reply = post_comment(grace, lesson, f"{SECRET_PHRASE}. See https://spam.example/", parent=question)
    assert mail.outbox == [], "the request itself sends nothing"

    deliver_mail()

    [message] = mail.outbox
    assert message.to == [ada.email]
    assert message.subject == "[Stream] Grace replied to your comment on Async basics"
    link = f"http://testserver/comments/{reply.pk}/"  # a link that follows the comment wherever it is shown
    assert link in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'<a href="{link}">' in html
    assert "Grace replied to your comment on the lesson “Async basics”." in message.body
    for secret in [SECRET_PHRASE, "spam.example", question.body, grace.email]:
        assert secret not in message.subject
        assert secret not in message.body
        assert secret not in html
    assert Notification.objects.get(recipient=ada).comment == reply


def test_the_email_is_written_in_the_recipients_language(make_learner, lesson, post_comment, deliver_mail):
    """The worker has no request: the language is the one the learner last used on the site."""
    ada = make_learner(display_name="Ada", email_notifications=True, language="ko")
    nameless = make_learner()
    post_comment(ada, lesson, "질문이 있어요.")
    post_comment(nameless, lesson, SECRET_PHRASE, parent=Comment.objects.get(author=ada))

    deliver_mail()

    [message] = mail.outbox
    [(html, _mimetype)] = message.alternatives
    assert f"학습자 #{nameless.pk}" in message.subject, "the author's fallback name, in Korean"
    assert '<html lang="ko">' in html
    assert "계정 설정" in message.body
    assert "계정 설정" in html
    assert SECRET_PHRASE not in everything_in(message)
    assert nameless.email not in everything_in(message)


def test_a_new_comment_emails_the_learners_who_follow_the_lesson(
    make_learner, ada, grace, lesson, post_comment, deliver_mail
):
    follower = make_learner(email_notifications=True)
    client = Client()
    client.force_login(follower)
    client.post(f"/comments/lessons/{lesson.pk}/follow/", {"follow": "1"})

    comment = post_comment(grace, lesson, SECRET_PHRASE)
    deliver_mail()

    [message] = mail.outbox
    assert message.to == [follower.email]
    assert message.subject == "[Stream] Grace commented on Async basics"
    assert f"http://testserver/comments/{comment.pk}/" in message.body
    assert SECRET_PHRASE not in everything_in(message)


def test_no_email_when_the_learner_has_not_asked_for_it(make_learner, grace, lesson, post_comment, deliver_mail):
    ada = make_learner(display_name="Ada")
    post_comment(ada, lesson, "A question.")
    post_comment(grace, lesson, "An answer.", parent=Comment.objects.get(author=ada))
    assert not DBTaskResult.objects.exists(), "nothing queued for learners who want no e-mail"

    deliver_mail()

    assert mail.outbox == []
    assert Notification.objects.filter(recipient=ada, read_at__isnull=True).count() == 1, "the bell still tells"


def test_nobody_is_emailed_about_their_own_comment(ada, lesson, post_comment, deliver_mail):
    question = post_comment(ada, lesson, "A question.")
    post_comment(ada, lesson, "Answering myself.", parent=question)
    post_comment(ada, lesson, "And a new thread on a lesson I follow.")

    deliver_mail()

    assert mail.outbox == []
    assert not Notification.objects.filter(recipient=ada).exists()


@pytest.mark.parametrize(
    "take_back",
    [
        pytest.param(lambda reply: Comment.objects.filter(pk=reply.pk).update(hidden_at=timezone.now()), id="hidden"),
        pytest.param(
            lambda reply: Comment.objects.filter(pk=reply.pk).update(deleted_at=timezone.now()), id="deleted"
        ),
        pytest.param(lambda reply: delete_as_its_author(reply), id="deleted-by-its-author"),
    ],
)
def test_a_comment_hidden_or_deleted_before_the_worker_runs_mails_nobody(
    ada, grace, lesson, post_comment, deliver_mail, take_back
):
    question = post_comment(ada, lesson, "A question.")
    reply = post_comment(grace, lesson, SECRET_PHRASE, parent=question)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1

    take_back(reply)
    deliver_mail()

    assert mail.outbox == []
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL, "checked, and nothing to send"


def test_a_notification_read_before_the_worker_runs_mails_nobody(ada, grace, lesson, post_comment, deliver_mail):
    question = post_comment(ada, lesson, "A question.")
    post_comment(grace, lesson, "An answer.", parent=question)
    client = Client()
    client.force_login(ada)
    client.get(f"/notifications/{Notification.objects.get(recipient=ada).pk}/")

    deliver_mail()

    assert mail.outbox == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda ada: EmailAddress.objects.filter(user=ada).update(verified=False), id="unverified"),
        pytest.param(lambda ada: EmailAddress.objects.filter(user=ada).update(primary=False), id="no-primary"),
        pytest.param(lambda ada: type(ada).objects.filter(pk=ada.pk).update(is_active=False), id="inactive"),
        pytest.param(
            lambda ada: type(ada).objects.filter(pk=ada.pk).update(email_notifications=False), id="turned-off"
        ),
    ],
)
def test_no_email_to_a_learner_who_cannot_or_will_not_receive_it(
    ada, grace, lesson, post_comment, deliver_mail, change
):
    question = post_comment(ada, lesson, "A question.")
    post_comment(grace, lesson, "An answer.", parent=question)

    change(ada)
    deliver_mail()

    assert mail.outbox == []


def test_no_email_about_a_lesson_taken_back_to_draft(ada, grace, lesson, post_comment, deliver_mail):
    question = post_comment(ada, lesson, "A question.")
    post_comment(grace, lesson, "An answer.", parent=question)
    type(lesson).objects.filter(pk=lesson.pk).update(status=Status.DRAFT)

    deliver_mail()

    assert mail.outbox == []


def test_the_email_goes_to_the_confirmed_primary_address(ada, grace, lesson, post_comment, deliver_mail):
    EmailAddress.objects.filter(user=ada).update(primary=False)
    EmailAddress.objects.create(user=ada, email="ada.new@example.com", primary=True, verified=True)
    post_comment(grace, lesson, "An answer.", parent=post_comment(ada, lesson, "A question."))

    deliver_mail()

    assert [message.to for message in mail.outbox] == [["ada.new@example.com"]]


def test_every_email_has_one_click_unsubscribe_headers(ada, grace, lesson, post_comment, deliver_mail):
    post_comment(grace, lesson, "An answer.", parent=post_comment(ada, lesson, "A question."))

    deliver_mail()

    [message] = mail.outbox
    sent = message.message()
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = sent["List-Unsubscribe"]
    assert header.startswith("<http://testserver/notifications/unsubscribe/") and header.endswith("/>")
    url = header[1:-1]
    token = url.removeprefix("http://testserver/notifications/unsubscribe/").removesuffix("/")
    assert signing.Signer(salt="comments.unsubscribe").unsign_object(token) == ada.pk
    assert url in message.body
    assert f'<a href="{url}">' in message.alternatives[0][0]
    # On the wire, as the mail client reads it: the URL itself, not an encoded word.
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in message.message(policy=email.policy.SMTP).as_bytes()


def test_a_comment_posts_while_the_mail_server_is_down_and_the_email_is_retried(
    ada, grace, lesson, post_comment, deliver_mail, unreachable_smtp, settings
):
    question = post_comment(ada, lesson, "A question.")
    post_comment(grace, lesson, "An answer.", parent=question)  # asserts the post answered 302

    deliver_mail()

    assert mail.outbox == []
    sending = DBTaskResult.objects.get(task_path="accounts.tasks.send_email")
    assert sending.status == TaskResultStatus.READY, "failed once, queued again for later"
    assert len(sending.worker_ids) == 1 < MAX_ATTEMPTS
    assert sending.args_kwargs["kwargs"]["kind"] == "comment_notification"

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())
    deliver_mail()

    assert [message.to for message in mail.outbox] == [[ada.email]]
    assert DBTaskResult.objects.get(task_path="accounts.tasks.send_email").status == TaskResultStatus.SUCCESSFUL


def test_a_comment_posted_outside_a_request_links_to_the_sites_domain(
    ada, grace, lesson, post_comment, deliver_mail, settings
):
    """The shell or a script posts without a request, so without its host: the links use SITE_DOMAIN."""
    settings.SITE_DOMAIN = "stream.example"
    question = post_comment(ada, lesson, "A question.")
    reply = services.post_comment(author=grace, lesson=lesson, body="An answer.", parent=question)

    deliver_mail()

    [message] = mail.outbox
    assert f"https://stream.example/comments/{reply.pk}/" in message.body
    assert message.message()["List-Unsubscribe"].startswith("<https://stream.example/notifications/unsubscribe/")


def test_a_notification_task_that_runs_twice_sends_one_email(ada, grace, lesson, post_comment, deliver_mail):
    """A worker that died after queueing the e-mail, before its task was marked done, leaves it to run again."""
    question = post_comment(ada, lesson, "How does the event loop pick the next task?")
    post_comment(grace, lesson, "It takes the next ready callback.", parent=question)
    deliver_mail()
    notification_task = DBTaskResult.objects.get(task_path="comments.tasks.send_notification_email")
    DBTaskResult.objects.filter(id=notification_task.id).update(status=TaskResultStatus.READY)

    deliver_mail()

    assert [message.to for message in mail.outbox] == [[ada.email]]
