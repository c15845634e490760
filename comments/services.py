"""Writing, editing and deleting comments, following lessons, and the notifications they cause.

Each public function is one transaction. Notifications are rows written in the same
transaction as the comment; e-mail about them is queued for the worker only after the
transaction commits (``transaction.on_commit``), so a rolled-back comment mails nobody and a
failing mail server never fails the request.
"""

from datetime import datetime
from uuid import UUID

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.tasks import queue_email
from comments.models import MAX_DEPTH, Comment, Flag, Follow, Notification, ProblemReport
from comments.sanitize import render_comment
from comments.selectors import code_block_titles
from comments.tasks import queue_notification_emails
from courses.models import Lesson, LessonRevision
from progress.services import record_comment_written
from web.page_cache import bump_lessons, bump_reader


def check_can_comment(*, learner: User, lesson: Lesson) -> None:
    """Raise ``ValidationError`` with the reason ``learner`` cannot comment on ``lesson``."""
    if not lesson.is_published():
        raise ValidationError(_("Comments are open on published lessons only."), code="draft")
    # One query for both: a moderator's bar, and a confirmed address.
    standing = (
        User.objects.filter(pk=learner.pk)
        .annotate(verified=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)))
        .values("verified", "comment_ban__id", "comment_ban__reason")
        .get()
    )
    if standing["comment_ban__id"] is not None:
        reason = standing["comment_ban__reason"]
        raise ValidationError(_("You can no longer comment: %(reason)s") % {"reason": reason}, code="barred")
    if not standing["verified"]:
        raise ValidationError(_("Confirm your e-mail address before you comment."), code="unverified")


def can_change(*, user: User, comment: Comment) -> bool:
    """Authors change their own comments; staff change anyone's."""
    return user.is_authenticated and (user.is_staff or comment.author_id == user.pk)


def _follow_and_notify(comment: Comment) -> list[int]:
    """The author follows the lesson; in-app notifications for the new comment go to its parent's author, then the
    lesson's followers, never its author.

    Returns the ids of those whose recipient wants e-mail too. One statement: the follow, the recipients chosen,
    the rows inserted (a recipient once, a reply before a follow) and those ids read back, with PostgreSQL's
    INSERT … SELECT … RETURNING in WITH, which the ORM cannot write; a comment post pays one round trip for it.
    """
    parent = comment.parent
    replied_to = parent.author_id if parent is not None and not parent.is_deleted else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH following AS (
                INSERT INTO {Follow._meta.db_table} (learner_id, lesson_id, created_at)
                VALUES (%(author)s, %(lesson)s, %(now)s)
                ON CONFLICT DO NOTHING
            ), recipients AS (
                SELECT %(replied_to)s::bigint AS recipient_id, %(reply)s AS kind WHERE %(replied_to)s IS NOT NULL
                UNION ALL
                SELECT learner_id, %(follow)s FROM {Follow._meta.db_table} WHERE lesson_id = %(lesson)s
            ), chosen AS (
                SELECT DISTINCT ON (recipient_id) recipient_id, kind FROM recipients
                WHERE recipient_id <> %(author)s
                ORDER BY recipient_id, kind = %(reply)s DESC
            ), inserted AS (
                INSERT INTO {Notification._meta.db_table} (recipient_id, kind, comment_id, created_at)
                SELECT recipient_id, kind, %(comment)s, %(now)s FROM chosen
                ON CONFLICT DO NOTHING
                RETURNING id, recipient_id
            )
            SELECT inserted.id, inserted.recipient_id, learner.email_notifications
            FROM inserted JOIN {User._meta.db_table} learner ON learner.id = inserted.recipient_id
            """,  # table names from the models, every value a parameter
            {
                "replied_to": replied_to,
                "reply": Notification.Kind.REPLY,
                "follow": Notification.Kind.COMMENT,
                "lesson": comment.lesson_id,
                "author": comment.author_id,
                "comment": comment.pk,
                "now": timezone.now(),
            },
        )
        rows = cursor.fetchall()
    bump_reader(*(recipient_id for _, recipient_id, _ in rows))
    return [notification_id for notification_id, _, wants_email in rows if wants_email]


@transaction.atomic
def post_comment(
    *, author: User, lesson: Lesson, body: str, parent: Comment | None = None, code_block: int | None = None,
    base_url: str = "", submission: UUID | None = None, submission_is_new: bool = False,
) -> Comment:  # fmt: skip
    """Post a comment (or a reply to ``parent``) on ``lesson``, follow the lesson, and notify.

    ``submission`` is the key of the form it comes from: the same form posted again with the same words (a
    retry after a lost answer, or a double press, even at the same moment) answers the comment it already
    made. The same key with other words is a form shown again from the browser's cache: a new comment.
    ``submission_is_new``: the caller has just looked (``made_from_form``) and found no comment of that key.

    A reply to a comment at the deepest level is stored under that comment's own parent, so
    threads are at most three levels deep and the reply names whom it answers. A comment on the
    lesson's ``code_block`` (its position, from 1) quotes that block's title as the lesson has it,
    never a title the commenter sent; a reply is about its thread's block.
    """
    if submission is not None and not submission_is_new and (earlier := made_from_form(author, submission)):
        if is_retry(earlier, body=body, parent_id=parent.pk if parent else None):
            return earlier
        submission = None
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
    comment.submission = submission
    # The fields' own rules (the length of the text); the lesson, author and parent are in hand, and the depth and
    # the submission's uniqueness are the database's constraints: no query for them here.
    comment.clean_fields(exclude=["body_html", "submission", "lesson", "author", "parent", "root", "hidden_by"])
    try:
        with transaction.atomic():
            comment.save()
    except IntegrityError:  # the same form, posted twice at the same moment: the other request stored it
        return Comment.objects.get(author=author, submission=submission)
    notification_ids = _follow_and_notify(comment)
    _count_comment_for_progress(author)
    if notification_ids:
        # Whether to send is decided again when the task runs (the comment may be hidden by then).
        transaction.on_commit(lambda: queue_notification_emails(notification_ids=notification_ids, base_url=base_url))
    return comment


def made_from_form(author: User, submission: UUID) -> Comment | None:
    """The comment ``author`` already posted from the form of key ``submission``, whatever its words; or None."""
    return Comment.objects.filter(author=author, submission=submission).first()


def is_retry(earlier: Comment, *, body: str, parent_id: int | None) -> bool:
    """Whether a post of the same form as ``earlier`` is the same post again (not the form reused for another)."""
    return earlier.body == body and earlier.parent_id == parent_id


def _count_comment_for_progress(author: User) -> None:
    """Comments count toward the comment achievements of the progress app."""
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
        bump_lessons(comment.lesson)
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
    bump_reader(learner.pk)


def unfollow(*, learner: User, lesson: Lesson) -> None:
    Follow.objects.filter(learner=learner, lesson=lesson).delete()


def mark_read(*, learner: User, notification_ids: list[int] | None = None) -> int:
    """Mark the learner's notifications read (all of them without ``notification_ids``)."""
    unread = Notification.objects.filter(recipient=learner, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    bump_reader(learner.pk)
    return unread.update(read_at=timezone.now())


# Moderation


def flag_comment(*, learner: User, comment: Comment, reason: str) -> Flag:
    """``learner`` asks the moderators to look at ``comment``: once per learner and comment while their flag is open.

    The unique constraint on (comment, learner) of open flags is the guard: a second flag, even one sent at
    the same moment from another tab, fails there and is answered "already flagged". Once a moderator has
    dismissed the flag, the learner may flag the comment again, and that new flag counts.
    """
    if comment.author_id == learner.pk:
        raise ValidationError(_("You cannot flag your own comment."), code="own")
    if comment.is_deleted:
        raise ValidationError(_("This comment is no longer there."), code="deleted")
    flag = Flag(comment=comment, learner=learner, reason=reason)
    flag.full_clean(exclude=["comment", "learner"], validate_constraints=False)
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        raise ValidationError(_("You have already flagged this comment."), code="already_flagged") from None
    return flag


@transaction.atomic
def hide_comments(*, comments: QuerySet[Comment], by: User) -> int:
    """Hide the shown ones of ``comments`` from everyone but their authors and staff; returns how many.

    Their notifications go in the same transaction, so they leave every bell at once, and an
    e-mail task that runs later finds nothing to send.
    """
    ids = list(comments.filter(hidden_at__isnull=True).values_list("pk", flat=True))
    Notification.objects.filter(comment_id__in=ids).delete()
    bump_lessons(*Lesson.objects.filter(comments__pk__in=ids).select_related("course").distinct())
    return Comment.objects.filter(pk__in=ids, hidden_at__isnull=True).update(hidden_at=timezone.now(), hidden_by=by)


def restore_comments(*, comments: QuerySet[Comment]) -> int:
    """Show hidden ``comments`` again; returns how many. Their notifications, deleted when hidden, stay gone."""
    ids = list(comments.filter(hidden_at__isnull=False).values_list("pk", flat=True))
    bump_lessons(*Lesson.objects.filter(comments__pk__in=ids).select_related("course").distinct())
    return Comment.objects.filter(pk__in=ids, hidden_at__isnull=False).update(hidden_at=None, hidden_by=None)


@transaction.atomic
def dismiss_flags(*, comments: QuerySet[Comment], moderator: User) -> int:
    """Dismiss the open flags of ``comments``, recording who and when; returns how many comments had some.

    The comments stay as they are, shown or hidden: they are simply no longer flagged. The open flags are
    locked first (``select_for_update``), so when two moderators dismiss at once, each flag records the first
    one only; a flag sent after this transaction is open and makes its comment flagged again.
    """
    comment_ids = list(comments.values_list("pk", flat=True))
    flags = list(
        Flag.objects.open().filter(comment_id__in=comment_ids).select_for_update().values_list("pk", "comment_id")
    )
    Flag.objects.filter(pk__in=[pk for pk, _comment_id in flags]).update(
        dismissed_at=timezone.now(), dismissed_by=moderator
    )
    return len({comment_id for _pk, comment_id in flags})


# Problem reports


@transaction.atomic
def report_problem(
    *, lesson: Lesson, kind: str, message: str, reporter: User | None = None, email: str = "", section: str = "",
    selected_text: str = "", lesson_version: datetime | None = None, lesson_revision_id: int | None = None,
    base_url: str = "", submission: UUID | None = None,
) -> ProblemReport:  # fmt: skip
    """Store a problem report on ``lesson`` and e-mail staff about it once the report is committed.

    The same form sent again (``submission``, its key) answers the report it made: one report, one e-mail.

    A signed-in reporter is known by their account, so no e-mail address is kept for them. The revision the
    reporter read is kept only if it is one of this lesson's.
    """
    if submission is not None and (sent := ProblemReport.objects.filter(submission=submission).first()) is not None:
        return sent
    report = ProblemReport(
        submission=submission,
        lesson=lesson,
        kind=kind,
        message=message,
        reporter=reporter,
        email="" if reporter is not None else email,
        section=section,
        selected_text=selected_text,
        lesson_version=lesson_version,
        lesson_revision=LessonRevision.objects.filter(pk=lesson_revision_id, lesson=lesson).first()
        if lesson_revision_id is not None
        else None,
    )
    report.full_clean(exclude=["submission"])
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # the same form, sent twice at the same moment: the other request stored it
        return ProblemReport.objects.get(submission=submission)
    _mail_staff_about(report, base_url=base_url)
    return report


def _mail_staff_about(report: ProblemReport, *, base_url: str) -> None:
    """A plain-text e-mail to every active staff member, in the site's language, with a link to the report."""

    recipients = sorted(
        set(User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True))
    )
    if not recipients:
        return
    admin_path = reverse("admin:comments_problemreport_change", args=[report.pk])
    lesson_url = report.lesson.get_absolute_url()
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("A problem was reported on a lesson."),
            "",
            _("Kind: %(kind)s") % {"kind": report.get_kind_display()},
            _("Lesson: %(lesson)s") % {"lesson": report.lesson.title},
            f"{base_url.rstrip('/')}{lesson_url}",
            _("Section: %(section)s") % {"section": report.section or "—"},
            _("Selected text: %(text)s") % {"text": report.selected_text or "—"},
            _("Sender: %(sender)s") % {"sender": report.sender},
            "",
            _("Message:"),
            report.message,
            "",
            _("Open the report: %(url)s") % {"url": f"{base_url.rstrip('/')}{admin_path}"},
        ]
        subject = _("%(prefix)sProblem report: %(kind)s on %(lesson)s") % {
            "prefix": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX,
            "kind": report.get_kind_display(),
            "lesson": report.lesson.title,
        }
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body="\n".join(lines), from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    queue_email(message=message, kind="comments/problem_report")


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and not assignee.is_staff:
        raise ValidationError(_("Reports are assigned to staff members only."), code="not_staff")


@transaction.atomic
def handle_report(*, report: ProblemReport, status: str, assignee: User | None, notes: str) -> ProblemReport:
    """Staff's work on ``report`` from its admin page: who handles it, their internal notes, and its status.

    The status goes through ``set_report_status``, so a report marked done tells its reporter, as from the list.
    """
    _check_assignee(assignee)
    report.assignee = assignee
    report.notes = notes
    report.save(update_fields=["assignee", "notes", "updated_at"])
    return set_report_status(report=report, status=status)


def assign_reports(*, reports: QuerySet[ProblemReport], assignee: User) -> int:
    """Give ``reports`` to ``assignee`` (a staff member); returns how many changed hands."""
    _check_assignee(assignee)
    return reports.exclude(assignee=assignee).update(assignee=assignee, updated_at=timezone.now())


@transaction.atomic
def set_report_status(*, report: ProblemReport, status: str) -> ProblemReport:
    """Set ``report``'s status; when it becomes done, its signed-in reporter is told, once.

    The unique constraint on (recipient, report) keeps it to one notification, however often
    the report is marked done again.
    """
    report.status = status
    report.save(update_fields=["status", "updated_at"])
    if status == ProblemReport.Status.DONE and report.reporter_id is not None:
        Notification.objects.bulk_create(
            [Notification(recipient_id=report.reporter_id, kind=Notification.Kind.REPORT_DONE, report=report)],
            ignore_conflicts=True,
        )
        bump_reader(report.reporter_id)
    return report
