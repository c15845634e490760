"""E-mail about notifications, sent by the worker (``manage.py db_worker``), never in the request."""

from django.tasks import task

from comments.notification_mail import send_notification


def queue_notification_emails(*, notification_ids: list[int], base_url: str) -> None:
    """Queue one e-mail task per notification; each decides when it runs whether to send."""
    for notification_id in notification_ids:
        send_notification_email.enqueue(notification_id=notification_id, base_url=base_url)


@task()
def send_notification_email(*, notification_id: int, base_url: str) -> None:
    """E-mail a notification if it still stands and its recipient wants e-mail.

    Checked now, not when the comment was posted: a comment hidden or deleted in the meantime
    mails nobody. The message names the author, the lesson and a link, never the comment's text.
    """
    send_notification(notification_id=notification_id, base_url=base_url)
