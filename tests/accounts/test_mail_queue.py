"""Account e-mail goes through the database queue and the worker, never through the request."""

import email.policy
import logging
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.tasks import MAX_ATTEMPTS, queue_email

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "a long passphrase 42"


def let_the_retry_delay_pass() -> None:
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())


def test_sign_up_answers_and_the_account_is_whole_when_the_mail_server_is_down(client, unreachable_smtp):
    """Regression: with no reachable mail server, sign-up answered 500 and left a half-made account."""
    response = client.post(
        "/accounts/signup/", {"email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="ada@example.com")
    assert user.check_password(PASSWORD)
    assert EmailAddress.objects.filter(user=user, email="ada@example.com", primary=True, verified=False).exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


def test_a_failed_send_is_retried_with_backoff_then_marked_failed_and_logged(
    client, unreachable_smtp, deliver_mail, caplog
):
    client.post("/accounts/signup/", {"email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD})

    caplog.set_level(logging.INFO, logger="accounts")
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = timezone.now()
        deliver_mail()
        result = DBTaskResult.objects.get()
        assert len(result.worker_ids) == attempt
        if attempt < MAX_ATTEMPTS:
            assert result.status == TaskResultStatus.READY
            delays.append(result.run_after - started)
            let_the_retry_delay_pass()

    assert result.status == TaskResultStatus.FAILED
    assert result.exception_class_path == "builtins.ConnectionRefusedError"
    # 1 minute, 5 minutes, 30 minutes, 2 hours: the schedule docs/operators/production.md promises.
    assert [round(delay / timedelta(seconds=1), -1) for delay in delays] == [60, 300, 1800, 7200]
    deliver_mail()
    assert len(DBTaskResult.objects.get().worker_ids) == MAX_ATTEMPTS, "no attempt after the last"

    lines = [record.getMessage() for record in caplog.records if record.name == "accounts.tasks"]
    assert lines[0] == (
        "Could not send the email_confirmation_signup e-mail to a recipient at example.com "
        "(attempt 1 of 5, retrying in 60 s): ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert "(attempt 5 of 5, giving up)" in lines[-1]
    assert len(lines) == MAX_ATTEMPTS
    assert "/accounts/confirm-email/" not in caplog.text, "the link and its key stay out of the logs"
    assert "ada@" not in "\n".join(lines)


def test_password_reset_answers_when_the_mail_server_is_down(client, learner, unreachable_smtp, deliver_mail, caplog):
    response = client.post("/accounts/password/reset/", {"email": learner.email}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/accounts/password/reset/done/", 302)]
    deliver_mail()
    assert "Could not send the password_reset_key e-mail to a recipient at example.com" in caplog.text
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


def test_the_worker_sends_the_queued_email(client, deliver_mail):
    client.post("/accounts/signup/", {"email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert mail.outbox == [], "the request itself sends nothing"

    deliver_mail()

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_email_is_queued_when_the_transaction_commits_and_not_if_it_rolls_back():
    message = EmailMessage("Subject", "Body", "from@example.com", ["to@example.com"])
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email(message=message, kind="test")
        raise RuntimeError("the sign-up failed")
    assert not DBTaskResult.objects.exists()

    with transaction.atomic():
        queue_email(message=message, kind="test")
        assert not DBTaskResult.objects.exists()
    assert DBTaskResult.objects.count() == 1


def test_an_email_claimed_by_a_worker_that_died_is_sent_later(client, deliver_mail):
    """Review finding: a worker killed (kill -9, out of memory) while sending left its task RUNNING for good.

    No worker takes a RUNNING task again, so the confirmation or reset e-mail was never sent, retried,
    marked failed or logged. Here a worker claimed the e-mail an hour ago and was never heard of again.
    """
    client.post("/accounts/signup/", {"email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD})
    DBTaskResult.objects.update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=1),
        worker_ids=["a-worker-that-was-killed"],
    )

    deliver_mail()

    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_an_e_mail_keeps_its_html_version_and_headers_through_the_queue(deliver_mail):
    """allauth sends an HTML version when a template has one (account/email/*_message.html)."""
    message = EmailMultiAlternatives(
        "Subject", "Plain text", "from@example.com", ["to@example.com"], headers={"Reply-To": "help@example.com"}
    )
    message.attach_alternative("<p>Rich text</p>", "text/html")
    with transaction.atomic():
        queue_email(message=message, kind="test")
    deliver_mail()
    [sent] = mail.outbox
    assert (sent.body, sent.alternatives) == ("Plain text", [("<p>Rich text</p>", "text/html")])
    assert sent.message()["Reply-To"] == "help@example.com"


def test_a_long_list_unsubscribe_url_goes_out_as_it_is(deliver_mail):
    """Regression: a List-Unsubscribe URL longer than a line went out as an encoded word ("=?utf-8?q?=3Chttp...").

    Mail clients do not decode encoded words in that header, so one-click unsubscribe did not work.
    """
    url = "https://stream.example/notifications/unsubscribe/" + "x" * 120 + "/"
    message = EmailMessage(
        "Subject", "Body", "from@example.com", ["to@example.com"], headers={"List-Unsubscribe": f"<{url}>"}
    )
    with transaction.atomic():
        queue_email(message=message, kind="test")
    deliver_mail()
    [sent] = mail.outbox
    wire = sent.message(policy=email.policy.SMTP).as_bytes()
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in wire
    assert sent.message()["List-Unsubscribe"] == f"<{url}>"
