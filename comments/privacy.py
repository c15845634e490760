"""Comments' part of a learner's data (accounts.privacy): what it exports.

When the account goes, its comments and problem reports stay without it (on_delete=SET_NULL), to keep other
learners' threads whole; follows, notifications, flags and a ban go with it.
"""

from typing import Any
from urllib.parse import urljoin

from accounts.models import User
from accounts.privacy import lesson_link, timestamp
from comments.models import Comment, CommentBan, Flag, Follow, Notification, ProblemReport


def export(*, user: User, base_url: str) -> dict[str, Any]:
    ban = CommentBan.objects.filter(learner=user).first()
    return {
        "comments": [
            {
                "id": comment.pk,
                "lesson": lesson_link(base_url, comment.lesson),
                "url": urljoin(base_url, comment.get_absolute_url()),
                "reply_to": comment.parent_id,
                "code_block_title": comment.code_block_title,
                "body": comment.body,
                "created_at": timestamp(comment.created_at),
                "edited_at": timestamp(comment.edited_at),
                "deleted_at": timestamp(comment.deleted_at),
                "hidden_at": timestamp(comment.hidden_at),
            }
            for comment in Comment.objects.filter(author=user).select_related("lesson__course").order_by("id")
        ],
        "follows": [
            {"lesson": lesson_link(base_url, follow.lesson), "created_at": timestamp(follow.created_at)}
            for follow in Follow.objects.filter(learner=user).select_related("lesson__course").order_by("id")
        ],
        "notifications": [
            {
                "kind": notification.kind,
                "comment": notification.comment and urljoin(base_url, notification.comment.get_absolute_url()),
                "report": notification.report and lesson_link(base_url, notification.report.lesson),
                "created_at": timestamp(notification.created_at),
                "read_at": timestamp(notification.read_at),
            }
            for notification in Notification.objects.filter(recipient=user)
            .select_related("comment__lesson__course", "report__lesson__course")
            .order_by("created_at", "id")
        ],
        "flags": [
            {
                "comment": urljoin(base_url, flag.comment.get_absolute_url()),
                "reason": flag.reason,
                "created_at": timestamp(flag.created_at),
            }
            for flag in Flag.objects.filter(learner=user).select_related("comment__lesson__course").order_by("id")
        ],
        "problem_reports": [
            {
                "lesson": lesson_link(base_url, report.lesson),
                "kind": report.kind,
                "message": report.message,
                "email": report.email,
                "section": report.section,
                "selected_text": report.selected_text,
                "status": report.status,
                "created_at": timestamp(report.created_at),
            }
            for report in ProblemReport.objects.filter(reporter=user).select_related("lesson__course").order_by("id")
        ],
        "comment_ban": None if ban is None else {"reason": ban.reason, "created_at": timestamp(ban.created_at)},
    }
