"""Comments on lessons, the learners who follow a lesson's thread, notifications, flags, bans and problem reports.

The rules that write these rows live in ``comments.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.models import Lesson, LessonRevision

# Replies nest three levels deep; a reply to a comment at the third level is shown beside it.
MAX_DEPTH = 2
MAX_COMMENT_LENGTH = 5000
MAX_REPORT_LENGTH = 2000


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """What ``user`` may see: everything for staff; otherwise no hidden comment but their own."""
        if user.is_staff:
            return self
        if user.is_authenticated:
            return self.filter(Q(hidden_at__isnull=True) | Q(author_id=user.pk))
        return self.filter(hidden_at__isnull=True)

    def flagged(self):
        """Comments with at least one open flag: one no moderator has dismissed yet."""
        return self.filter(Exists(Flag.objects.open().filter(comment=OuterRef("pk"))))

    def not_flagged(self):
        return self.exclude(Exists(Flag.objects.open().filter(comment=OuterRef("pk"))))

    def for_lesson_page(self, lesson: Lesson, user):
        """Every comment of ``lesson`` the reader may see, oldest first, with its author: one query."""
        return (
            self.visible_to(user)
            .filter(lesson=lesson)
            .select_related("author", "author__progress")
            .order_by("created_at", "id")
        )


class Comment(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="comments", verbose_name=_("lesson"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="comments",
        verbose_name=_("author"),
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies", verbose_name=_("reply to")
    )
    # The comment its thread starts with (empty for that one itself): a page loads threads whole, by their roots.
    root = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, editable=False, related_name="+")
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    body = models.TextField(_("comment"), max_length=MAX_COMMENT_LENGTH, help_text=_("Markdown."))
    body_html = models.TextField(editable=False, default="")
    # A comment on one code block names it by its position in the lesson and its title, so the
    # reference survives the lesson being rendered again.
    code_block = models.PositiveSmallIntegerField(_("code block"), null=True, blank=True)
    code_block_title = models.CharField(_("code block title"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hidden by"),
    )
    # The key of the form it was posted from (one per form shown): the same form posted again, a retry after a
    # lost answer, finds this comment instead of making another (comments.services.post_comment).
    submission = models.UUIDField(null=True, blank=True, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["lesson", "created_at"], name="comment_lesson_thread")]
        constraints = [
            models.CheckConstraint(condition=Q(depth__lte=MAX_DEPTH), name="comment_depth_at_most_2"),
            models.UniqueConstraint(fields=["author", "submission"], name="comment_once_per_submission"),
        ]

    def __str__(self) -> str:
        return f"{self.author or _('deleted learner')} · {self.lesson}"

    def save(self, *args, **kwargs) -> None:
        if self.parent_id is not None and self.root_id is None:
            self.root_id = self.parent.root_id or self.parent_id
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """Where it is shown: the lesson page, or the page of its later threads (``comments:thread``)."""
        return reverse("comments:comment", kwargs={"pk": self.pk})

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Follow(models.Model):
    """A learner follows a lesson's comments: they are told of new comments on it."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("followed lesson")
        verbose_name_plural = _("followed lessons")
        constraints = [models.UniqueConstraint(fields=["learner", "lesson"], name="follow_once_per_lesson")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.lesson}"


class NotificationQuerySet(models.QuerySet):
    def for_list(self, recipient):
        """``recipient``'s notifications as /notifications/ lists them, newest first: one query for a page, with of
        each comment or report only what a row says (its author's name, its lesson's title), never their bodies."""
        return (
            self.filter(recipient=recipient)
            .select_related("comment__author", "comment__lesson", "report__lesson")
            .only(
                "kind",
                "created_at",
                "read_at",
                "recipient_id",
                "comment__author__display_name",
                "comment__lesson__title",
                "report__lesson__title",
            )
            .order_by("-created_at", "-id")
        )


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply to your comment")
        COMMENT = "comment", _("New comment on a lesson you follow")
        REPORT_DONE = "report_done", _("Your problem report was resolved")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    report = models.ForeignKey(
        "ProblemReport", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "comment"],
                condition=Q(comment__isnull=False),
                name="notification_once_per_comment",
            ),
            models.UniqueConstraint(
                fields=["recipient", "report"], condition=Q(report__isnull=False), name="notification_once_per_report"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("comments:open_notification", kwargs={"pk": self.pk})


class FlagQuerySet(models.QuerySet):
    def open(self):
        """Flags no moderator has dismissed: the ones that make a comment "flagged"."""
        return self.filter(dismissed_at__isnull=True)


class Flag(models.Model):
    """A learner's request that moderators look at a comment.

    A moderator who finds the comment fine dismisses its flags (``comments.services.dismiss_flags``): they stay,
    with who dismissed them and when, but no longer count. A flag sent after that is open and counts again.
    """

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags", verbose_name=_("comment"))
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("flagged"), auto_now_add=True)
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )

    objects = FlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            # One open flag per learner and comment: after a dismissal, the learner may flag the comment again.
            models.UniqueConstraint(
                fields=["comment", "learner"],
                condition=Q(dismissed_at__isnull=True),
                name="flag_open_once_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return self.reason


class CommentBan(models.Model):
    """A learner barred from commenting, with the reason they are shown."""

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_ban", verbose_name=_("learner")
    )
    reason = models.CharField(_("reason"), max_length=500, help_text=_("The learner sees this."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("barred by")
    )
    created_at = models.DateTimeField(_("barred"), auto_now_add=True)

    class Meta:
        verbose_name = _("learner barred from commenting")
        verbose_name_plural = _("learners barred from commenting")

    def __str__(self) -> str:
        return str(self.learner)


class ProblemReport(models.Model):
    class Kind(models.TextChoices):
        TYPO = "typo", _("Typo")
        BROKEN_CODE = "broken_code", _("Broken code")
        UNCLEAR = "unclear", _("Unclear")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="reports", verbose_name=_("lesson"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    message = models.TextField(_("message"), max_length=MAX_REPORT_LENGTH)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problem_reports",
        verbose_name=_("reporter"),
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    section = models.CharField(_("section"), max_length=200, blank=True)
    selected_text = models.CharField(_("selected text"), max_length=500, blank=True)
    lesson_version = models.DateTimeField(_("lesson version"), null=True, blank=True)
    lesson_revision = models.ForeignKey(
        LessonRevision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revision read"),
        help_text=_("The revision of the lesson the reporter was reading."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        limit_choices_to={"is_staff": True},
        related_name="+",
        verbose_name=_("assigned to"),
        help_text=_("The staff member who handles the report."),
    )
    notes = models.TextField(
        _("internal notes"), blank=True, help_text=_("For staff only: the reporter never sees these.")
    )
    # The key of the form it was sent from: a retry of the same form stores and mails it once.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.lesson}"

    @property
    def sender(self) -> str:
        """Who sent the report, for staff: the account with its address, the address given, or nobody known."""
        if self.reporter is not None:
            return f"{self.reporter} <{self.reporter.email}>"
        return self.email or str(_("anonymous"))
