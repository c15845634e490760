"""Moderation in the admin: comments (flagged first) with hide, restore and dismissing their flags,
learners barred from commenting, and the inbox of problem reports with their assignee and notes.

Comments are written, edited and deleted by their authors on the site; here staff look at them,
hide or restore them, dismiss their flags (``comments.services``), and delete them outright when
they must go. A comment is "flagged" while it has an open flag: one no moderator has dismissed.
"""

from collections import Counter

from django.contrib import admin, messages
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from comments import services
from comments.models import Comment, CommentBan, Flag, ProblemReport
from comments.selectors import author_name
from courses.models import Course, Lesson
from web.admin import ReadOnlyAdminMixin, StreamModelAdmin

EXCERPT_LENGTH = 80
REASON_LENGTH = 60
# The columns of a lesson a row of these lists never shows: its Markdown and HTML.
HEAVY_LESSON_COLUMNS = ("body", "body_html", "exercise", "exercise_html", "toc", "summary")


def _light(prefix: str) -> list[str]:
    return [f"{prefix}__{column}" for column in HEAVY_LESSON_COLUMNS]


class FlagInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Who flagged the comment and why: for reading, not changing."""

    model = Flag
    fields = ["learner", "reason", "created_at", "dismissed_at", "dismissed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("learner", "dismissed_by").order_by("created_at", "id")


class HiddenFilter(admin.SimpleListFilter):
    title = _("hidden")
    parameter_name = "hidden"

    def lookups(self, request: HttpRequest, model_admin):
        return [("yes", _("Hidden")), ("no", _("Shown"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(hidden_at__isnull=True)
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    """Flagged: with an open flag. A comment whose flags were all dismissed is not flagged."""

    title = _("flagged")
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin):
        return [("yes", _("Flagged")), ("no", _("Not flagged"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.flagged()
        if self.value() == "no":
            return queryset.not_flagged()
        return queryset


def _chosen_id(value: str | int | None) -> int | None:
    """The id a filter's link chose; a value that is not one (a tampered address) chooses nothing."""
    value = str(value) if value is not None else ""
    return int(value) if value.isascii() and value.isdigit() else None


class CourseFilter(admin.SimpleListFilter):
    """The courses that have comments, by title."""

    title = _("course")
    parameter_name = "course"

    def lookups(self, request: HttpRequest, model_admin):
        commented = Comment.objects.filter(lesson__course=OuterRef("pk"))
        return list(Course.objects.filter(Exists(commented)).order_by("title").values_list("pk", "title"))

    def queryset(self, request: HttpRequest, queryset):
        course_id = _chosen_id(self.value())
        return queryset.filter(lesson__course_id=course_id) if course_id is not None else queryset


class LessonFilter(admin.SimpleListFilter):
    """The lessons that have comments: of the course chosen in the course filter, or of every course."""

    title = _("lesson")
    parameter_name = "lesson"

    def lookups(self, request: HttpRequest, model_admin):
        lessons = Lesson.objects.filter(Exists(Comment.objects.filter(lesson=OuterRef("pk"))))
        course_id = _chosen_id(request.GET.get(CourseFilter.parameter_name))
        if course_id is not None:
            return list(lessons.filter(course_id=course_id).order_by("position").values_list("pk", "title"))
        rows = lessons.order_by("course__title", "position").values_list("pk", "course__title", "title")
        return [(pk, f"{course} · {title}") for pk, course, title in rows]

    def queryset(self, request: HttpRequest, queryset):
        lesson_id = _chosen_id(self.value())
        return queryset.filter(lesson_id=lesson_id) if lesson_id is not None else queryset


@admin.register(Comment)
class CommentAdmin(StreamModelAdmin):
    """Flagged comments first. A comment's page is for reading: the list's actions hide or restore it, or
    dismiss its flags."""

    list_display = [
        "author_column",
        "lesson_column",
        "excerpt",
        "flag_count_column",
        "flag_reasons_column",
        "hidden",
        "created_at",
    ]
    list_display_links = ["excerpt"]
    list_filter = [FlaggedFilter, HiddenFilter, CourseFilter, LessonFilter]
    search_fields = ["body", "author__email"]
    actions = ["hide", "restore", "dismiss_flags"]
    inlines = [FlagInline]
    fields = [
        "lesson",
        "author",
        "parent",
        "code_block_title",
        "body",
        "created_at",
        "edited_at",
        "deleted_at",
        "hidden_at",
        "hidden_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        # Annotated before the admin orders by the annotation (ModelAdmin.get_queryset orders first). Only open
        # flags count, and their reasons come in the same query, oldest first. (A comment without flags is joined
        # to one empty row, whose dismissed_at is NULL too: hence the test of the flag's id.)
        open_flags = Q(flags__isnull=False, flags__dismissed_at__isnull=True)
        return (
            Comment.objects.annotate(
                flag_count=Count("flags", filter=open_flags),
                flag_reasons=ArrayAgg("flags__reason", filter=open_flags, order_by="flags__created_at", default=[]),
            )
            .select_related("author", "lesson", "hidden_by")
            .defer("body_html", *_light("lesson"))
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["-flag_count", "-created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        """The actions may change comments; a comment's own page only shows it (its author edits it on the site)."""
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Only staff delete comments here; learners delete their own on the site."""
        return request.user.is_staff and super().has_delete_permission(request, obj)

    @admin.display(description=_("author"), ordering="author__email")
    def author_column(self, comment: Comment) -> str:
        return str(comment.author) if comment.author is not None else author_name(comment)

    @admin.display(description=_("lesson"), ordering="lesson__title")
    def lesson_column(self, comment: Comment) -> str:
        return comment.lesson.title

    @admin.display(description=_("comment"))
    def excerpt(self, comment: Comment) -> str:
        if comment.is_deleted:
            return _("(deleted)")
        return Truncator(" ".join(comment.body.split())).chars(EXCERPT_LENGTH)

    @admin.display(description=_("flags"), ordering="flag_count")
    def flag_count_column(self, comment: Comment) -> int:
        return comment.flag_count

    @admin.display(description=_("flag reasons"))
    def flag_reasons_column(self, comment: Comment) -> str:
        """Each open flag's reason once, with how many learners gave it when more than one did."""
        reasons = Counter(" ".join(reason.split()) for reason in comment.flag_reasons)
        return format_html_join(
            "",
            "<div>{}{}</div>",
            (
                (Truncator(reason).chars(REASON_LENGTH), f" ({count})" if count > 1 else "")
                for reason, count in reasons.items()
            ),
        )

    @admin.display(description=_("hidden"), boolean=True, ordering="hidden_at")
    def hidden(self, comment: Comment) -> bool:
        return comment.is_hidden

    @admin.action(description=_("Hide the selected comments"), permissions=["change"])
    def hide(self, request: HttpRequest, queryset) -> None:
        count = services.hide_comments(comments=queryset, by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d comment hidden.", "%(count)d comments hidden.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore the selected comments"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset) -> None:
        count = services.restore_comments(comments=queryset)
        self.message_user(
            request,
            ngettext("%(count)d comment restored.", "%(count)d comments restored.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Dismiss the flags of the selected comments"), permissions=["change"])
    def dismiss_flags(self, request: HttpRequest, queryset) -> None:
        count = services.dismiss_flags(comments=queryset, moderator=request.user)
        if not count:
            self.message_user(request, _("The selected comments have no open flags."), messages.WARNING)
            return
        self.message_user(
            request,
            ngettext(
                "The flags of %(count)d comment were dismissed.",
                "The flags of %(count)d comments were dismissed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(CommentBan)
class CommentBanAdmin(StreamModelAdmin):
    """A barred learner sees the reason where the comment form would be."""

    list_display = ["learner", "reason", "created_by", "created_at"]
    list_select_related = ["learner", "created_by"]
    search_fields = ["learner__email", "learner__display_name", "reason"]
    autocomplete_fields = ["learner"]
    fields = ["learner", "reason", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        """A bar belongs to one learner: to bar another, add a new one."""
        return [*self.readonly_fields, "learner"] if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: CommentBan, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class AssigneeFilter(admin.SimpleListFilter):
    """Reports assigned to the staff member looking, to nobody, or to one staff member."""

    title = _("assigned to")
    parameter_name = "assignee"
    ME, NOBODY = "me", "nobody"

    def lookups(self, request: HttpRequest, model_admin):
        staff = User.objects.filter(is_staff=True).exclude(pk=request.user.pk).order_by("email")
        return [
            (self.ME, _("Assigned to me")),
            (self.NOBODY, _("Not assigned")),
            *((str(user.pk), str(user)) for user in staff.only("pk", "email", "display_name")),
        ]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == self.ME:
            return queryset.filter(assignee=request.user)
        if self.value() == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        assignee_id = _chosen_id(self.value())
        return queryset.filter(assignee_id=assignee_id) if assignee_id is not None else queryset


@admin.register(ProblemReport)
class ProblemReportAdmin(StreamModelAdmin):
    """The inbox of problem reports: new first, then in progress, then done; the newest first in each.

    Staff change a report's status, its assignee and their internal notes; the rest is what the reporter sent.
    """

    list_display = ["created_at", "kind", "lesson_column", "excerpt", "sender", "status", "assignee"]
    list_display_links = ["created_at", "excerpt"]
    list_filter = ["status", AssigneeFilter, "kind", ("lesson", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["message", "section", "selected_text", "email", "reporter__email"]
    actions = ["assign_to_me", "mark_in_progress", "mark_done"]
    fields = [
        "status",
        "assignee",
        "notes",
        "kind",
        "lesson_page",
        "section",
        "selected_text",
        "message",
        "lesson_version",
        "revision_read",
        "sender",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [field for field in fields if field not in ("status", "assignee", "notes")]

    def get_queryset(self, request: HttpRequest):
        status_rank = Case(
            When(status=ProblemReport.Status.NEW, then=Value(0)),
            When(status=ProblemReport.Status.IN_PROGRESS, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return (
            ProblemReport.objects.annotate(status_rank=status_rank)
            .select_related("lesson__course", "reporter", "assignee")
            .defer(*_light("lesson"), "lesson__course__description", "lesson__course__description_html")
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["status_rank", "-created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """The assignee is chosen among staff, by e-mail address; no links to add or change accounts beside it."""
        if db_field.name == "assignee":
            kwargs["queryset"] = User.objects.filter(is_staff=True).order_by("email")
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "assignee":
            for link in ("can_add_related", "can_change_related", "can_delete_related", "can_view_related"):
                setattr(formfield.widget, link, False)
        return formfield

    def save_model(self, request: HttpRequest, obj: ProblemReport, form, change: bool) -> None:
        """Status, assignee and notes change here, the status through the service that tells a signed-in reporter
        it is done."""
        services.handle_report(
            report=obj,
            status=form.cleaned_data["status"],
            assignee=form.cleaned_data["assignee"],
            notes=form.cleaned_data["notes"],
        )

    @admin.display(description=_("lesson"), ordering="lesson__title")
    def lesson_column(self, report: ProblemReport) -> str:
        return report.lesson.title

    @admin.display(description=_("lesson"))
    def lesson_page(self, report: ProblemReport) -> str:
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">{}</a>)',
            reverse("admin:courses_lesson_change", args=[report.lesson_id]),
            report.lesson.title,
            report.lesson.get_absolute_url(),
            _("on the site"),
        )

    @admin.display(description=_("revision read"))
    def revision_read(self, report: ProblemReport) -> str:
        if report.lesson_revision_id is None:
            return "—"
        revision = report.lesson_revision
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:courses_lesson_revision", args=[report.lesson_id, revision.number]),
            _("Revision %(number)d") % {"number": revision.number},
        )

    @admin.display(description=_("message"))
    def excerpt(self, report: ProblemReport) -> str:
        return Truncator(" ".join(report.message.split())).chars(EXCERPT_LENGTH)

    @admin.display(description=_("sender"))
    def sender(self, report: ProblemReport) -> str:
        return report.sender

    @admin.action(description=_("Assign the selected reports to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset) -> None:
        count = services.assign_reports(reports=queryset, assignee=request.user)
        self.message_user(
            request,
            ngettext("%(count)d report assigned to you.", "%(count)d reports assigned to you.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark the selected reports in progress"), permissions=["change"])
    def mark_in_progress(self, request: HttpRequest, queryset) -> None:
        self._set_status(request, queryset, ProblemReport.Status.IN_PROGRESS)

    @admin.action(description=_("Mark the selected reports done (signed-in senders are told)"), permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset) -> None:
        self._set_status(request, queryset, ProblemReport.Status.DONE)

    def _set_status(self, request: HttpRequest, queryset, status: str) -> None:
        reports = list(queryset)
        for report in reports:
            services.set_report_status(report=report, status=status)
        count = len(reports)
        self.message_user(
            request,
            ngettext("%(count)d report updated.", "%(count)d reports updated.", count) % {"count": count},
            messages.SUCCESS,
        )
