from django.utils.functional import SimpleLazyObject


def notifications(request) -> dict:
    """The header's unread count, counted only when a page shows it (one query)."""

    def unread() -> int:
        from comments.models import Notification

        return Notification.objects.filter(recipient_id=request.user.pk, read_at__isnull=True).count()

    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(unread)}
