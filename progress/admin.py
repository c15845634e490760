"""The admin of levels, achievements and the XP ledger, and what support staff see of a learner's progress.

The ledger is written by ``progress.services`` only: its admin lists it, and its "add" page is the
staff form that grants or deducts XP through ``adjust_xp``.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.forms.models import BaseModelFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import UserAdmin
from accounts.models import User
from progress.models import (
    Achievement,
    Completion,
    ExerciseCompletion,
    LearnerProgress,
    Level,
    XPEntry,
    ladder_error,
    ladder_out_of_order,
)
from progress.selectors import standing
from progress.services import adjust_xp
from web.admin import ReadOnlyAdminMixin, StreamModelAdmin

# The largest grant or deduction in one go: far above any real adjustment, far below the column's limit.
MAX_ADJUSTMENT = 1_000_000


def ledger_url(learner_id: int) -> str:
    """The XP ledger in the admin, filtered to one learner."""
    return f"{reverse('admin:progress_xpentry_changelist')}?{urlencode({'learner__id__exact': learner_id})}"


# The models' clean() explains their database checks in words; Django then skips each check whose fields
# already have an error, so no generic "Constraint … is violated" shows beside the explanation.
class LevelForm(forms.ModelForm):
    class Meta:
        model = Level
        fields = ["number", "xp_required", "title_en", "title_ko"]


class LadderFormSet(BaseModelFormSet):
    """The levels edited in the list: each is checked against the others as they will be once saved."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.non_form_errors():
            return
        levels = {level.pk: level for level in Level.objects.all()}
        levels |= {form.instance.pk: form.instance for form in self.forms}
        if out_of_order := ladder_out_of_order(levels.values()):
            raise ladder_error(*out_of_order)


@admin.register(Level)
class LevelAdmin(StreamModelAdmin):
    form = LevelForm
    list_display = ["number", "xp_required", "title_en", "title_ko"]
    list_display_links = ["number"]
    list_editable = ["xp_required", "title_en", "title_ko"]
    ordering = ["xp_required"]
    search_fields = ["title_en", "title_ko"]

    def get_changelist_form(self, request: HttpRequest, **kwargs):
        return super().get_changelist_form(request, form=LevelForm, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Level | None = None) -> bool:
        """Level 0 stays: it is where every learner starts, so everyone has a level."""
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.number == 0)

    def get_changelist_formset(self, request: HttpRequest, **kwargs):
        return super().get_changelist_formset(request, formset=LadderFormSet, **kwargs)


class AchievementForm(forms.ModelForm):
    class Meta:
        model = Achievement
        fields = [
            "code",
            "icon",
            "position",
            "hidden",
            "title_en",
            "description_en",
            "title_ko",
            "description_ko",
            "rule",
            "threshold",
            "tag",
            "bonus_xp",
        ]


@admin.register(Achievement)
class AchievementAdmin(StreamModelAdmin):
    form = AchievementForm
    list_display = ["icon", "code", "title_en", "rule", "threshold", "tag", "bonus_xp", "hidden", "unlock_count"]
    list_display_links = ["icon", "code"]
    list_filter = ["rule", "hidden"]
    search_fields = ["code", "title_en", "title_ko"]
    fieldsets = [
        (None, {"fields": ["code", "icon", "position", "hidden"]}),
        (_("English"), {"fields": ["title_en", "description_en"]}),
        (_("Korean"), {"fields": ["title_ko", "description_ko"]}),
        (_("Rule"), {"fields": ["rule", "threshold", "tag", "bonus_xp"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(unlock_count=Count("unlocks"))

    @admin.display(description=_("unlocked by"), ordering="unlock_count")
    def unlock_count(self, achievement: Achievement) -> int:
        return achievement.unlock_count


class XPAdjustmentForm(forms.Form):
    """Staff grant or deduct XP; the learner field is the admin's own (an autocomplete of learners)."""

    amount = forms.IntegerField(
        label=_("XP"),
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=_("A positive number grants XP, a negative one deducts it."),
    )
    note = forms.CharField(
        label=_("Reason"),
        max_length=XPEntry._meta.get_field("note").max_length,
        help_text=_("The learner sees it in their XP history."),
    )

    # Where each refusal of ``adjust_xp`` belongs on the form.
    FIELD_OF_ERROR = {"zero": "amount", "negative": "amount", "no_note": "note"}

    def __init__(self, *args, learner_field: forms.Field, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"learner": learner_field, **self.fields}

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and "learner" in self._errors:
            # The autocomplete looks the posted value up to show it again, and a value that is no id fails there.
            self.data = self.data.copy()
            self.data["learner"] = ""

    def add_service_error(self, error: ValidationError) -> None:
        self.add_error(self.FIELD_OF_ERROR.get(error.code), error)


@admin.register(XPEntry)
class XPEntryAdmin(StreamModelAdmin):
    """The ledger, read-only: a learner's total is the sum of their rows, so no row may change or go."""

    list_display = ["created_at", "learner_email", "signed_amount", "reason", "what", "by"]
    list_select_related = ["learner", "lesson", "achievement", "created_by"]
    list_filter = ["reason"]
    search_fields = ["learner__email"]
    search_help_text = _("Find a learner's entries by their e-mail address.")
    date_hierarchy = "created_at"
    autocomplete_fields = ["learner"]
    fields = ["learner", "amount", "reason", "lesson", "achievement", "note", "created_by", "created_at", "source"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("learner"), ordering="learner__email")
    def learner_email(self, entry: XPEntry) -> str:
        return entry.learner.email

    @admin.display(description=_("XP"), ordering="amount")
    def signed_amount(self, entry: XPEntry) -> str:
        return f"{entry.amount:+d}"

    @admin.display(description=_("what"))
    def what(self, entry: XPEntry) -> str:
        if entry.lesson_id:
            return entry.lesson.title
        if entry.achievement_id:
            return entry.achievement.title
        return entry.note or entry.source

    @admin.display(description=_("by"), ordering="created_by__email")
    def by(self, entry: XPEntry) -> str:
        return entry.created_by.email if entry.created_by_id else ""

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """The staff form that grants or deducts XP: it calls ``adjust_xp``, never saves a row itself."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        learner_field = self.formfield_for_dbfield(XPEntry._meta.get_field("learner"), request)
        if request.method == "POST":
            form = XPAdjustmentForm(request.POST, learner_field=learner_field)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        entry = adjust_xp(
                            learner=form.cleaned_data["learner"],
                            amount=form.cleaned_data["amount"],
                            note=form.cleaned_data["note"],
                            by=request.user,
                        )
                        self.log_addition(request, entry, [{"added": {}}])
                except ValidationError as error:
                    form.add_service_error(error)
                else:
                    self.message_adjusted(request, entry)
                    return HttpResponseRedirect(ledger_url(entry.learner_id))
        else:
            form = XPAdjustmentForm(initial=self.chosen_learner(request, learner_field), learner_field=learner_field)
        fieldsets = [(None, {"fields": ["learner", "amount", "note"]})]
        admin_form = helpers.AdminForm(form, fieldsets, {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Grant or deduct XP"),
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    @staticmethod
    def chosen_learner(request: HttpRequest, learner_field: forms.Field) -> dict:
        """``?learner=<id>`` (the link on a learner's page) chooses the learner; anything else is ignored."""
        try:
            return {"learner": learner_field.clean(request.GET.get("learner"))}
        except ValidationError:
            return {}

    def message_adjusted(self, request: HttpRequest, entry: XPEntry) -> None:
        total = LearnerProgress.objects.get(learner_id=entry.learner_id).xp
        values = {"amount": abs(entry.amount), "learner": entry.learner.email, "total": total}
        if entry.amount > 0:
            message = _("%(amount)s XP granted to %(learner)s, who now has %(total)s XP.") % values
        else:
            message = _("%(amount)s XP deducted from %(learner)s, who now has %(total)s XP.") % values
        self.message_user(request, message, messages.SUCCESS)


class LessonPassAdmin(ReadOnlyAdminMixin, StreamModelAdmin):
    """A learner's pass of a lesson (a completion, or an exercise their code passed), read-only."""

    list_display = ["completed_at", "learner_email", "lesson", "course"]
    list_select_related = ["learner", "lesson__course"]
    list_filter = ["lesson__course"]
    search_fields = ["learner__email"]
    date_hierarchy = "completed_at"
    ordering = ["-completed_at"]
    fields = ["learner", "lesson", "completed_at"]

    @admin.display(description=_("learner"), ordering="learner__email")
    def learner_email(self, passed: Completion | ExerciseCompletion) -> str:
        return passed.learner.email

    @admin.display(description=_("course"), ordering="lesson__course__title")
    def course(self, passed: Completion | ExerciseCompletion) -> str:
        return passed.lesson.course.title


@admin.register(Completion)
class CompletionAdmin(LessonPassAdmin):
    search_help_text = _("Find a learner's completions by their e-mail address.")


@admin.register(ExerciseCompletion)
class ExerciseCompletionAdmin(LessonPassAdmin):
    """The exercises learners' code passed (in their browsers, as their page reported)."""

    search_help_text = _("Find a learner's passed exercises by their e-mail address.")


class LearnerProgressInline(ReadOnlyAdminMixin, admin.StackedInline):
    """On a learner's admin page: where they stand, their streaks, and links to their ledger and completions."""

    model = LearnerProgress
    can_delete = False
    fields = ["xp", "level", "current_streak", "best_streak", "last_active_on", "time_zone", "records"]
    readonly_fields = fields

    @admin.display(description=_("level"))
    def level(self, progress: LearnerProgress) -> str:
        return str(standing(progress.xp, Level.objects.ladder()).level)

    @admin.display(description=_("time zone"))
    def time_zone(self, progress: LearnerProgress) -> str:
        return progress.learner.time_zone

    @admin.display(description=_("records"))
    def records(self, progress: LearnerProgress) -> str:
        completions = Completion.objects.filter(learner_id=progress.learner_id).count()
        query = urlencode({"learner__id__exact": progress.learner_id})
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?{}">{}</a> · <a href="{}?{}">{}</a>',
            ledger_url(progress.learner_id),
            _("XP ledger"),
            reverse("admin:progress_completion_changelist"),
            query,
            ngettext("%(count)d lesson completed", "%(count)d lessons completed", completions)
            % {"count": completions},
            reverse("admin:progress_xpentry_add"),
            urlencode({"learner": progress.learner_id}),
            _("Grant or deduct XP"),
        )


# A learner's account page shows where they stand: the accounts app knows nothing of progress, so progress
# extends its admin (importing accounts.admin registers it first).
admin.site.unregister(User)


@admin.register(User)
class LearnerAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, LearnerProgressInline]
