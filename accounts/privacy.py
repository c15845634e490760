"""A learner's own data: everything Stream keeps about them as one document, and the deletion of their account.

``export_data`` reads each kind of row in one query, whatever the number of rows. ``delete_account`` removes
the same rows in one transaction, except what keeps other learners' threads whole: comments stay, without
their author, and problem reports stay, without their sender.
"""

import logging
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.tasks import queue_email
from comments.models import Comment, CommentBan, Flag, Follow, Notification, ProblemReport
from progress.models import (
    ActivityDay,
    Completion,
    ExerciseCompletion,
    LearnerProgress,
    SolutionView,
    StreakReminder,
    Unlock,
    XPEntry,
)
from web.page_cache import bump_content_generation

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "stream-export/1"
DELETION_SALT = "accounts.delete-account"
# The e-mailed link of a social-only account stays valid this long.
DELETION_LINK_MAX_AGE = 60 * 60
# Apps added beside this one (certificates): their rows that point at the learner go under the app's label.
OPTIONAL_APPS = ["certificates"]


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _lesson(base_url: str, lesson) -> dict[str, str] | None:
    if lesson is None:
        return None
    return {"title": lesson.title, "course": lesson.course.title, "url": urljoin(base_url, lesson.get_absolute_url())}


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool, type(None), list, dict)):
        return value
    return str(value)


def _rows_of_optional_apps(user: User) -> dict[str, list[dict]]:
    """Rows of OPTIONAL_APPS that point at ``user``, field by field: one query per model."""
    found = {}
    for label in OPTIONAL_APPS:
        if not apps.is_installed(label):
            continue
        rows = []
        for model in apps.get_app_config(label).get_models():
            for field in user_fields(model):
                for row in model.objects.filter(**{field.name: user}).values():
                    rows.append({"model": model._meta.model_name} | {k: _plain(v) for k, v in row.items()})
        found[label] = rows
    return found


def user_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields of ``model`` that point at an account (ForeignKey, OneToOneField)."""
    user_model = get_user_model()
    return [
        field
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model is user_model
    ]


def export_data(*, user: User, base_url: str) -> dict[str, Any]:
    """Everything Stream keeps about ``user``, as JSON-ready data; lesson links are absolute (``base_url``).

    One query per kind of row, whatever their number. Staff actions on other learners' rows (the admin's
    log, XP adjustments, hiding comments, bans) are the other learner's data and are not in it.
    """
    progress = LearnerProgress.objects.filter(learner=user).first()
    ban = CommentBan.objects.filter(learner=user).first()
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _when(timezone.now()),
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
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
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
                "date_joined": _when(account.date_joined),
                "last_login": _when(account.last_login),
                "extra_data": account.extra_data,
            }
            for account in SocialAccount.objects.filter(user=user).order_by("id")
        ],
        "progress": None
        if progress is None
        else {
            "xp": progress.xp,
            "current_streak": progress.current_streak,
            "best_streak": progress.best_streak,
            "last_active_on": _when(progress.last_active_on),
            "early_lessons": progress.early_lessons,
            "late_lessons": progress.late_lessons,
            "comments_written": progress.comments_written,
        },
        "completions": [
            {"lesson": _lesson(base_url, completion.lesson), "completed_at": _when(completion.completed_at)}
            for completion in Completion.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("completed_at", "id")
        ],
        "exercises": [
            {"lesson": _lesson(base_url, passed.lesson), "passed_at": _when(passed.completed_at)}
            for passed in ExerciseCompletion.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("completed_at", "id")
        ],
        "solutions_seen": [
            {"lesson": _lesson(base_url, seen.lesson), "seen_at": _when(seen.viewed_at)}
            for seen in SolutionView.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("viewed_at", "id")
        ],
        "xp_ledger": [
            {
                "amount": entry.amount,
                "reason": entry.reason,
                "source": entry.source,
                "note": entry.note,
                "lesson": _lesson(base_url, entry.lesson),
                "achievement": entry.achievement.code if entry.achievement else None,
                "created_at": _when(entry.created_at),
            }
            for entry in XPEntry.objects.filter(learner=user)
            .select_related("lesson__course", "achievement")
            .order_by("created_at", "id")
        ],
        "achievements": [
            {
                "code": unlock.achievement.code,
                "title": unlock.achievement.title,
                "unlocked_at": _when(unlock.unlocked_at),
            }
            for unlock in Unlock.objects.filter(learner=user).select_related("achievement").order_by("unlocked_at")
        ],
        "activity_days": [
            {"day": _when(day.day), "completions": day.completions, "exercises": day.exercises}
            for day in ActivityDay.objects.filter(learner=user).order_by("day")
        ],
        "streak_reminders": [
            {
                "day": _when(reminder.day),
                "streak": reminder.streak,
                "queued_at": _when(reminder.queued_at),
                "sent_at": _when(reminder.sent_at),
            }
            for reminder in StreakReminder.objects.filter(learner=user).order_by("day")
        ],
        "comments": [
            {
                "id": comment.pk,
                "lesson": _lesson(base_url, comment.lesson),
                "url": urljoin(base_url, comment.get_absolute_url()),
                "reply_to": comment.parent_id,
                "code_block_title": comment.code_block_title,
                "body": comment.body,
                "created_at": _when(comment.created_at),
                "edited_at": _when(comment.edited_at),
                "deleted_at": _when(comment.deleted_at),
                "hidden_at": _when(comment.hidden_at),
            }
            for comment in Comment.objects.filter(author=user).select_related("lesson__course").order_by("id")
        ],
        "follows": [
            {"lesson": _lesson(base_url, follow.lesson), "created_at": _when(follow.created_at)}
            for follow in Follow.objects.filter(learner=user).select_related("lesson__course").order_by("id")
        ],
        "notifications": [
            {
                "kind": notification.kind,
                "comment": notification.comment and urljoin(base_url, notification.comment.get_absolute_url()),
                "report": notification.report and _lesson(base_url, notification.report.lesson),
                "created_at": _when(notification.created_at),
                "read_at": _when(notification.read_at),
            }
            for notification in Notification.objects.filter(recipient=user)
            .select_related("comment__lesson__course", "report__lesson__course")
            .order_by("created_at", "id")
        ],
        "flags": [
            {
                "comment": urljoin(base_url, flag.comment.get_absolute_url()),
                "reason": flag.reason,
                "created_at": _when(flag.created_at),
            }
            for flag in Flag.objects.filter(learner=user).select_related("comment__lesson__course").order_by("id")
        ],
        "problem_reports": [
            {
                "lesson": _lesson(base_url, report.lesson),
                "kind": report.kind,
                "message": report.message,
                "email": report.email,
                "section": report.section,
                "selected_text": report.selected_text,
                "status": report.status,
                "created_at": _when(report.created_at),
            }
            for report in ProblemReport.objects.filter(reporter=user).select_related("lesson__course").order_by("id")
        ],
        "comment_ban": None if ban is None else {"reason": ban.reason, "created_at": _when(ban.created_at)},
    }
    return data | _rows_of_optional_apps(user)


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

    Their comments stay, to keep other learners' threads whole, but lose their author (shown as "deleted
    learner"); their problem reports stay for the authors, without sender or the address they gave. The
    rest goes with the account (on_delete=CASCADE): e-mail addresses, social accounts and their tokens,
    progress, ledger, completions, passed exercises, achievements, activity days, streak reminders, follows,
    notifications, flags, a ban.
    Their sessions need no search: a session names the account by id, and one whose account is gone
    signs nobody in (ids are never reused); the view flushes the current one.
    """
    user_id, address = user.pk, user.email
    Comment.objects.filter(author_id=user_id).update(author=None)
    ProblemReport.objects.filter(reporter_id=user_id).update(reporter=None, email="")
    # The lessons' cached pages show the author's name: they must say "deleted learner" at once.
    bump_content_generation()
    user.delete()  # its post_delete bumps the reader's version (config.apps.READER_MODELS): no cached copy is left
    logger.info("Deleted the account %s at its owner's request.", user_id)
    _queue(user=user, to=address, template="account_deleted", context={})
