"""Writing, editing and deleting comments, following lessons, and the notifications they cause.

Each public function is one transaction. Notifications are rows written in the same
transaction as the comment; e-mail about them is queued for the worker only after the
transaction commits (``transaction.on_commit``), so a rolled-back comment mails nobody and a
failing mail server never fails the request.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from comments.models import MAX_DEPTH, Comment, CommentBan, Follow, Notification
from comments.sanitize import render_comment
from comments.selectors import code_block_titles
from courses.models import Lesson


def check_can_comment(*, learner: User, lesson: Lesson) -> None:
    """Raise ``ValidationError`` with the reason ``learner`` cannot comment on ``lesson``."""
    from allauth.account.models import EmailAddress

    if not Lesson.objects.published().filter(pk=lesson.pk).exists():
        raise ValidationError(_("Comments are open on published lessons only."), code="draft")
    ban = CommentBan.objects.filter(learner=learner).first()
    if ban is not None:
        raise ValidationError(_("You can no longer comment: %(reason)s") % {"reason": ban.reason}, code="barred")
    if not EmailAddress.objects.filter(user=learner, verified=True).exists():
        raise ValidationError(_("Confirm your e-mail address before you comment."), code="unverified")


def can_change(*, user: User, comment: Comment) -> bool:
    """Authors change their own comments; staff change anyone's."""
    return user.is_authenticated and (user.is_staff or comment.author_id == user.pk)


def _notify(comment: Comment) -> list[Notification]:
    """In-app notifications for a new comment: its parent's author, then the lesson's followers; never its author."""
    recipients: dict[int, str] = {}
    if comment.parent_id and comment.parent.author_id and not comment.parent.is_deleted:
        recipients[comment.parent.author_id] = Notification.Kind.REPLY
    for learner_id in Follow.objects.filter(lesson_id=comment.lesson_id).values_list("learner_id", flat=True):
        recipients.setdefault(learner_id, Notification.Kind.COMMENT)
    recipients.pop(comment.author_id, None)
    notifications = [
        Notification(recipient_id=learner_id, kind=kind, comment=comment) for learner_id, kind in recipients.items()
    ]
    return Notification.objects.bulk_create(notifications, ignore_conflicts=True)


@transaction.atomic
def post_comment(
    *, author: User, lesson: Lesson, body: str, parent: Comment | None = None, code_block: int | None = None,
    base_url: str = "",
) -> Comment:  # fmt: skip
    """Post a comment (or a reply to ``parent``) on ``lesson``, follow the lesson, and notify.

    A reply to a comment at the deepest level is stored under that comment's own parent, so
    threads are at most three levels deep and the reply names whom it answers. A comment on the
    lesson's ``code_block`` (its position, from 1) quotes that block's title as the lesson has it,
    never a title the commenter sent; a reply is about its thread's block.
    """
    check_can_comment(learner=author, lesson=lesson)
    if parent is not None and (parent.lesson_id != lesson.pk or parent.is_deleted or parent.is_hidden):
        raise ValidationError(_("The comment you replied to is no longer there."), code="parent_gone")
    code_block_title = ""
    if parent is not None:
        code_block, code_block_title = parent.code_block, parent.code_block_title
    elif code_block is not None:
        titles = code_block_titles(lesson)
        if not 1 <= code_block <= len(titles):
            raise ValidationError(_("The code block you commented on is no longer in the lesson."), code="no_block")
        code_block_title = titles[code_block - 1]
    comment = Comment(
        lesson=lesson,
        author=author,
        parent=parent,
        depth=min(parent.depth + 1, MAX_DEPTH) if parent else 0,
        body=body,
        body_html=render_comment(body),
        code_block=code_block,
        code_block_title=code_block_title,
    )
    comment.full_clean(exclude=["body_html"])
    comment.save()
    Follow.objects.bulk_create([Follow(learner=author, lesson=lesson)], ignore_conflicts=True)
    notifications = _notify(comment)
    _count_comment_for_progress(author)
    if notifications:
        from comments.tasks import queue_notification_emails

        ids = [notification.pk for notification in notifications if notification.pk]
        transaction.on_commit(lambda: queue_notification_emails(notification_ids=ids, base_url=base_url))
    return comment


def _count_comment_for_progress(author: User) -> None:
    """Comments count toward the comment achievements of the progress app."""
    from progress.services import record_comment_written

    record_comment_written(learner=author)


@transaction.atomic
def edit_comment(*, user: User, comment: Comment, body: str) -> Comment:
    """Change a comment's text. Authors may while they may comment (a barred learner may not); staff always."""
    if not can_change(user=user, comment=comment):
        raise PermissionDenied
    if not user.is_staff:
        check_can_comment(learner=user, lesson=comment.lesson)
    if comment.is_deleted:
        raise ValidationError(_("A deleted comment cannot be edited."), code="deleted")
    comment.body = body
    comment.body_html = render_comment(body)
    comment.edited_at = timezone.now()
    comment.full_clean(exclude=["body_html"])
    comment.save(update_fields=["body", "body_html", "edited_at"])
    return comment


@transaction.atomic
def delete_comment(*, user: User, comment: Comment) -> None:
    """Delete a comment: with replies it stays as a "comment deleted" placeholder; without, it goes."""
    if not can_change(user=user, comment=comment):
        raise PermissionDenied
    Notification.objects.filter(comment=comment).delete()
    if comment.replies.exists():
        Comment.objects.filter(pk=comment.pk).update(deleted_at=timezone.now(), body="", body_html="")
    else:
        parent = comment.parent
        comment.delete()
        # A placeholder whose last reply went is no longer needed either.
        while parent is not None and parent.is_deleted and not parent.replies.exists():
            grandparent = parent.parent
            parent.delete()
            parent = grandparent


def follow(*, learner: User, lesson: Lesson) -> None:
    Follow.objects.bulk_create([Follow(learner=learner, lesson=lesson)], ignore_conflicts=True)


def unfollow(*, learner: User, lesson: Lesson) -> None:
    Follow.objects.filter(learner=learner, lesson=lesson).delete()


def mark_read(*, learner: User, notification_ids: list[int] | None = None) -> int:
    """Mark the learner's notifications read (all of them without ``notification_ids``)."""
    unread = Notification.objects.filter(recipient=learner, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
