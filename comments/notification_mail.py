"""The e-mail about a notification: checked and rendered by the worker, sent through the account e-mail queue."""

from comments.models import Notification


def send_notification(*, notification_id: int, base_url: str) -> None:
    notification = (
        Notification.objects.select_related("recipient", "comment__author", "comment__lesson__course")
        .filter(pk=notification_id, read_at__isnull=True)
        .first()
    )
    if notification is None:
        return
