"""A learner's own data: everything Stream keeps about them as one document, and the deletion of their account.

Each app that keeps rows about a learner registers its part of the export here from its ``AppConfig.ready``
(``register``); what its rows do when the account goes, its models say (on_delete). This module knows the
account alone, and imports no app above it. ``export_data`` reads each kind of row in one query, whatever the
number of rows; ``delete_account`` removes them in one transaction.
"""

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.tasks import queue_email
from web.page_cache import bump_content_generation

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "stream-export/1"
DELETION_SALT = "accounts.delete-account"
# The e-mailed link of a social-only account stays valid this long.
DELETION_LINK_MAX_AGE = 60 * 60


_exports: dict[str, Callable[..., dict[str, Any]]] = {}


def register(app_label: str, *, export: Callable[..., dict[str, Any]]) -> None:
    """Add ``app_label``'s part to the export (again for the same label: replaced).

    ``export(user=, base_url=)`` returns the app's sections of the export (JSON-ready, links absolute), each in
    one query. The deletion needs nothing registered: each app's models say with on_delete what goes with the
    account (CASCADE) and what stays without it (SET_NULL).
    """
    _exports[app_label] = export


def timestamp(value: datetime | date | None) -> str | None:
    """A date or time as the export writes it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None


def lesson_link(base_url: str, lesson) -> dict[str, str] | None:
    """A lesson as the export names it: its title, its course's title and its absolute address."""
    if lesson is None:
        return None
    return {"title": lesson.title, "course": lesson.course.title, "url": urljoin(base_url, lesson.get_absolute_url())}


def export_data(*, user: User, base_url: str) -> dict[str, Any]:
    """Everything Stream keeps about ``user``, as JSON-ready data; lesson links are absolute (``base_url``).

    The account's own rows, then each registered app's part. Staff actions on other learners' rows (the
    admin's log, XP adjustments, hiding comments, bans) are the other learner's data and are not in it.
    """
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timestamp(timezone.now()),
        "profile": {
            "id": user.pk,
            "email": user.email,
            "display_name": user.display_name,
            "time_zone": user.time_zone,
            "language": user.language,
            "signup_path": user.signup_path,
            "on_leaderboard": user.on_leaderboard,
            "email_notifications": user.email_notifications,
            "email_streak_reminders": user.email_streak_reminders,
            "date_joined": timestamp(user.date_joined),
            "last_login": timestamp(user.last_login),
            "has_password": user.has_usable_password(),
        },
        "email_addresses": [
            {"email": address.email, "primary": address.primary, "verified": address.verified}
            for address in EmailAddress.objects.filter(user=user).order_by("id")
        ],
        "social_accounts": [
            # Never the tokens (SocialToken): they are keys to the learner's account elsewhere.
            {
                "provider": account.provider,
                "uid": account.uid,
                "date_joined": timestamp(account.date_joined),
                "last_login": timestamp(account.last_login),
                "extra_data": account.extra_data,
            }
            for account in SocialAccount.objects.filter(user=user).order_by("id")
        ],
    }
    for export in _exports.values():
        data |= export(user=user, base_url=base_url)
    return data


def deletion_token(*, user: User) -> str:
    """The signed, timed token of the e-mailed "delete my account" link of ``user`` (see DELETION_LINK_MAX_AGE)."""
    return signing.TimestampSigner(salt=DELETION_SALT).sign_object({"user": user.pk})


def deletion_token_is_valid(*, token: str, user: User) -> bool:
    """Whether ``token`` is a deletion link of ``user`` that has not expired: another learner's link is not."""
    try:
        payload = signing.TimestampSigner(salt=DELETION_SALT).unsign_object(token, max_age=DELETION_LINK_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("user") == user.pk


def send_deletion_link(*, user: User, base_url: str) -> None:
    """E-mail the learner a link that deletes their account once they confirm it (accounts without a password)."""
    link = urljoin(base_url, reverse("account_delete_confirm", kwargs={"token": deletion_token(user=user)}))
    _queue(
        user=user,
        to=user.email,
        template="deletion_link",
        context={"link": link, "minutes": DELETION_LINK_MAX_AGE // 60},
    )


def _queue(*, user: User, to: str, template: str, context: dict) -> None:
    with translation.override(user.language):
        context = {"site_name": settings.SITE_NAME} | context
        subject = " ".join(render_to_string(f"account/email/{template}_subject.txt", context).split())
        body = render_to_string(f"account/email/{template}_message.txt", context)
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    queue_email(message=message, kind=f"account/{template}")


@transaction.atomic
def delete_account(*, user: User) -> None:
    """Delete ``user`` and every row of theirs, in one transaction; a confirmation e-mail goes out on commit.

    Each app's models say what goes with the account (on_delete=CASCADE: progress, follows, notifications…)
    and what stays without it (SET_NULL): comments, so other learners' threads stay whole, shown as "deleted
    learner", and problem reports, which keep no address of a signed-in sender.
    Their sessions need no search: a session names the account by id, and one whose account is gone
    signs nobody in (ids are never reused); the view flushes the current one.
    """
    user_id, address = user.pk, user.email
    # Pages show learners' names (comments, the leaderboard): they must say "deleted learner" at once.
    bump_content_generation()
    user.delete()  # its post_delete bumps the reader's version (config.apps.READER_MODELS): no cached copy is left
    logger.info("Deleted the account %s at its owner's request.", user_id)
    _queue(user=user, to=address, template="account_deleted", context={})
