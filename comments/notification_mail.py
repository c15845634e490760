"""The e-mail about a notification: checked and rendered by the worker, sent through the account e-mail queue.

It says who wrote on which lesson and links to the comment; it never carries the comment's text,
so nothing a learner writes travels through our mail. Each message has a one-click unsubscribe
link (RFC 8058): a signed token naming the learner, which works without signing in.
"""

from urllib.parse import urljoin

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from accounts import mail
from accounts.mail import unsubscribable_email
from accounts.tasks import queue_email
from comments.models import Notification
from comments.selectors import author_name
from courses.models import Lesson

UNSUBSCRIBE_SALT = "comments.unsubscribe"


def unsubscribe_token(*, user_id: int) -> str:
    return mail.unsubscribe_token(user_id=user_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_user_id(token: str) -> int | None:
    return mail.unsubscribe_user_id(token, salt=UNSUBSCRIBE_SALT)


def default_base_url() -> str:
    """Where links point when the comment came without a request (the shell, a script)."""
    return f"{'http' if settings.DEBUG else 'https'}://{settings.SITE_DOMAIN}/"


def send_notification(*, notification_id: int, base_url: str) -> None:
    """Queue the e-mail about a notification of a comment, if it still stands and its recipient wants e-mail.

    Sends nothing when the notification was read or deleted, its comment was hidden or deleted, the
    recipient wrote the comment, is inactive, has turned e-mail off or has no verified primary address,
    or can no longer see the lesson.
    """
    notification = (
        Notification.objects.select_related("recipient", "comment__author", "comment__lesson__course")
        .filter(
            pk=notification_id,
            read_at__isnull=True,
            comment__isnull=False,
            comment__hidden_at__isnull=True,
            comment__deleted_at__isnull=True,
            recipient__is_active=True,
            recipient__email_notifications=True,
        )
        .first()
    )
    if notification is None or notification.comment.author_id == notification.recipient_id:
        return
    recipient = notification.recipient
    if not Lesson.objects.visible_to(recipient).filter(pk=notification.comment.lesson_id).exists():
        return
    address = (
        EmailAddress.objects.filter(user=recipient, primary=True, verified=True)
        .values_list("email", flat=True)
        .first()
    )
    if address is None:
        return
    message = notification_email(notification=notification, to=address, base_url=base_url or default_base_url())
    # One e-mail per notification, should this task run twice (its worker died before it was marked done).
    queue_email(message=message, kind="comment_notification", key=f"comment-notification-{notification.pk}")


def notification_email(*, notification: Notification, to: str, base_url: str) -> EmailMultiAlternatives:
    """The message, in the recipient's language: who wrote, on which lesson, a link; never what they wrote."""
    comment = notification.comment
    recipient = notification.recipient
    unsubscribe_url = urljoin(
        base_url, reverse("comments:unsubscribe", kwargs={"token": unsubscribe_token(user_id=recipient.pk)})
    )
    with translation.override(recipient.language):
        return unsubscribable_email(
            templates="comments/email/notification",
            context={
                "kind": notification.kind,
                "author": author_name(comment),
                "lesson": comment.lesson.title,
                "comment_url": urljoin(base_url, comment.get_absolute_url()),
                "settings_url": urljoin(base_url, reverse("account_settings")),
            },
            to=to,
            unsubscribe_url=unsubscribe_url,
        )
