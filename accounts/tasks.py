"""Account e-mail through the worker: queued once the request's transaction commits, sent, and retried with
backoff when the mail server fails."""

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import TaskContext, TaskResult, TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.mail import build_message
from accounts.models import SentEmail

logger = logging.getLogger(__name__)

# Seconds to wait before each further attempt: five attempts over about two and a half hours,
# well inside the three days that verification and password-reset links stay valid.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 60 * 60)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A task runs again within hours (its retries, a dead worker's release): the keys of sent e-mail are kept
# far longer than that, then deleted.
FORGET_SENT_AFTER = timedelta(days=7)


@task(takes_context=True)
def send_email(
    context: TaskContext,
    *,
    kind: str,
    subject: str,
    body: str,
    html: str | None,
    from_email: str,
    to: list[str],
    headers: dict[str, str],
    key: str | None = None,
) -> None:
    """Send a message rendered by the request; a failure is logged and raised (see retry_failed_email).

    ``key`` (given by queue_email; tasks queued before it existed have none) makes the send idempotent: a
    message whose key is recorded as sent is not sent again, and the key is recorded right after the mail
    server accepted the message. What remains is the moment between the two: a worker that dies after the
    server accepted the message and before the record is committed leaves it to be sent again.
    """
    if key and SentEmail.objects.filter(key=key).exists():
        logger.info("The %s e-mail %s was sent already (its task ran again): not sending it twice.", kind, key)
        return
    message = build_message(
        subject=subject, body=body, html=html, from_email=from_email, to=to, headers=headers, key=key
    )
    try:
        message.send()
    except Exception as error:
        attempt = context.attempt
        domains = ", ".join(sorted({address.rpartition("@")[2] for address in to}))
        outcome = f"retrying in {RETRY_DELAYS[attempt - 1]} s" if attempt < MAX_ATTEMPTS else "giving up"
        # The recipient's domain and the error, never the body: it holds the links and their tokens.
        logger.error(
            "Could not send the %s e-mail to a recipient at %s (attempt %d of %d, %s): %s: %s",
            kind,
            domains,
            attempt,
            MAX_ATTEMPTS,
            outcome,
            type(error).__name__,
            error,
        )
        raise
    if key:
        # get_or_create: should two runs of the task race past the check, the second one's record is no error.
        SentEmail.objects.get_or_create(key=key, defaults={"kind": kind[:100]})
        SentEmail.objects.filter(sent_at__lt=timezone.now() - FORGET_SENT_AFTER).delete()


def retry_failed_email(sender, task_result: TaskResult, **kwargs) -> None:
    """Puts a failed send_email back in the queue for a later attempt, until MAX_ATTEMPTS.

    Connected to ``task_finished``, which the worker sends after it marked the task failed.
    The task stays one row whose ``worker_ids`` count its attempts, so the admin shows one
    e-mail that was tried N times, and it ends FAILED when the attempts are used up.
    """
    if task_result.task.func is not send_email.func or task_result.status != TaskResultStatus.FAILED:
        return
    if task_result.attempts >= MAX_ATTEMPTS:
        return
    DBTaskResult.objects.filter(id=task_result.id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY,
        run_after=timezone.now() + timedelta(seconds=RETRY_DELAYS[task_result.attempts - 1]),
        finished_at=None,
    )


def queue_email(*, message: EmailMessage, kind: str, key: str | None = None) -> None:
    """Send ``message`` from the worker once the current transaction commits.

    ``kind`` names the e-mail in logs (e.g. ``account/email/password_reset_key``): logs never
    show the body, which holds the links and their tokens. The message gets an idempotency key
    here, so a task that runs twice (its worker died after sending) sends it once; a caller
    that may itself run twice for one e-mail (a task) passes a ``key`` of its own (up to 64
    characters, unique to that e-mail).
    """
    key = key or uuid.uuid4().hex

    html = next(
        (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None
    )
    transaction.on_commit(
        partial(
            send_email.enqueue,
            kind=kind,
            subject=message.subject,
            body=message.body,
            html=html,
            from_email=message.from_email,
            to=list(message.to),
            headers=dict(message.extra_headers),
            key=key,
        )
    )
