import functools
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms import Script
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from courses import images, revisions
from courses.exercises import split_hints
from courses.lint import Problem, lint
from courses.markdown import reading_minutes, render_code_block, render_markdown
from courses.models import (
    MAX_BODY_BYTES,
    Course,
    Lesson,
    LessonImage,
    LessonLink,
    LessonRevision,
    Status,
    Tag,
    lesson_address_exists,
)
from courses.services import publish_lessons, unpublish_lessons
from web.admin import StreamModelAdmin

GUIDES = settings.BASE_DIR / "docs" / "authors"


def writing_guide() -> tuple[str, str]:
    """The authors' guide in the staff member's language (writing-lessons.<language>.md), else in English: its
    HTML and its language."""
    language = translation.get_language() or "en"
    guide = GUIDES / f"writing-lessons.{language}.md"
    if language == "en" or not guide.is_file():
        language, guide = "en", GUIDES / "writing-lessons.md"
    return _render_guide(guide, language, guide.stat().st_mtime_ns), language


@functools.lru_cache(maxsize=4)
def _render_guide(guide: Path, language: str, modified: int) -> str:
    """The guide's HTML, made again when the file changes (the same in every process: it is the file's), in
    the guide's language: the callouts' titles too."""
    with translation.override(language):
        return render_markdown(guide.read_text()).html


class LessonInlineForm(forms.ModelForm):
    def validate_constraints(self) -> None:
        """Leave the position out of the per-lesson database check, so lessons can swap places in one save.

        Every lesson of the course is in the inline, and the formset itself refuses two forms with the same
        position; the deferred unique constraint checks the result at commit.
        """
        try:
            self.instance.validate_constraints(exclude={*self._get_validation_exclusions(), "position"})
        except ValidationError as error:
            self._update_errors(error)


class LessonInline(admin.TabularInline):
    """The course's lessons in order: reorder them here; write and publish each on its own page.

    Adding lessons here would skip what the lesson form checks (a body, the exercise's code) and the revisions;
    their title and state are shown, not edited.
    """

    model = Lesson
    form = LessonInlineForm
    fields = ["position", "title", "slug", "status"]
    readonly_fields = ["title", "status"]
    ordering = ["position"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Course)
class CourseAdmin(StreamModelAdmin):
    list_display = ["title", "slug", "position", "is_published", "lesson_count", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "summary", "description"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [LessonInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lesson_count=Count("lessons"))

    @admin.display(description=_("lessons"), ordering="lesson_count")
    def lesson_count(self, course: Course) -> int:
        return course.lesson_count


class LessonLinkFormSet(BaseInlineFormSet):
    """The lesson's external links, or, while it has a draft of changes, the draft's.

    The links are part of a revision: the admin never saves these forms as rows itself (``LessonAdmin``
    records them with the rest of the content, through ``courses.revisions``). So the forms never stand for
    rows either: they carry the links as text, and a post is read as it was typed, whatever happened to the
    lesson since the form was opened (another author's draft, a publish).
    """

    def __init__(self, data=None, *args, instance=None, **kwargs):
        kwargs["queryset"] = LessonLink.objects.none()
        links = []
        if data is None and instance is not None and instance.pk:
            if instance.draft_id:
                links = instance.draft.content.get("links", [])
            else:
                links = [{"title": link.title, "url": link.url} for link in instance.links.all()]
            kwargs["initial"] = [
                {"position": position, "title": link["title"], "url": link["url"]}
                for position, link in enumerate(links)
            ]
        super().__init__(data, *args, instance=instance, **kwargs)
        self.extra = len(links) + 1

    def links(self) -> list[dict]:
        """The links the forms describe, in their order (a form left blank is no link)."""
        rows = []
        for index, form in enumerate(self.forms):
            if not form.has_changed() or (self.can_delete and self._should_delete_form(form)):
                continue
            title, url = form.cleaned_data.get("title"), form.cleaned_data.get("url")
            if title and url:
                rows.append((form.cleaned_data.get("position") or 0, index, {"title": title, "url": url}))
        # Django's admin lists what was added, changed and deleted after saving; the rows are written elsewhere.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        return [link for *_, link in sorted(rows, key=lambda row: row[:2])]


class LessonLinkInline(admin.StackedInline):
    """Stacked, so that every field has its label (a tabular inline names its columns only)."""

    model = LessonLink
    formset = LessonLinkFormSet
    fields = ["position", "title", "url"]
    extra = 1


def lesson_problems(texts: dict[str, str]) -> list[tuple[str, Problem]]:
    """The lint problems of a lesson's Markdown fields (``Lesson.MARKDOWN_FIELDS``), each with its field's name."""
    return [
        (name, problem)
        for name in Lesson.MARKDOWN_FIELDS
        for problem in lint(texts.get(name) or "", lesson_exists=lesson_address_exists)
    ]


def when(moment) -> str:
    """A time as the admin shows it: in the staff member's time zone (config.middleware.AdminTimeZoneMiddleware)."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def labelled(name: str, problem: Problem) -> str:
    """A problem as the admin shows it apart from its field: led by the field's name."""
    return f"{capfirst(Lesson._meta.get_field(name).verbose_name)} · {problem}"


class LessonAdminForm(forms.ModelForm):
    """The lesson form, which knows the revision it was opened at: a save over someone else's newer save is
    refused, with what was typed kept, until the author has seen it (a second save then replaces it)."""

    base_revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    revision_message = forms.CharField(
        label=_("Note for the history"),
        required=False,
        max_length=200,
        help_text=_("Optional: what this change does, shown in the lesson's revisions."),
    )
    # Not the model's field, which courses.revisions alone sets: the admin passes this to schedule_draft.
    publish_changes_at = forms.SplitDateTimeField(
        label=_("Publish the draft of changes at"),
        required=False,
        widget=AdminSplitDateTime,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["base_revision"].initial = revisions.latest_number(self.instance)
            self.fields["publish_changes_at"].initial = self.instance.draft_publish_at
        zone = timezone.get_current_timezone_name()
        if self.instance.draft_publish_at:
            help_text = _(
                "Scheduled: learners read the draft of changes from this time on (time zone: %(zone)s). "
                "“Save draft of changes” keeps the schedule, “Schedule changes” sets the time typed here, "
                "“Cancel the schedule” keeps the draft until someone publishes it. Publishing the changes now "
                "or discarding the draft ends the schedule."
            )
        else:
            help_text = _(
                "For “Schedule changes”: the draft of changes is published at this time, with no one present "
                "(time zone: %(zone)s)."
            )
        self.fields["publish_changes_at"].help_text = help_text % {"zone": zone}

    @property
    def scheduling(self) -> bool:
        """Whether "Schedule changes" was clicked on a published lesson (the only form that shows it)."""
        return "_schedule" in self.data and self.instance.pk is not None and self.instance.status == Status.PUBLISHED

    def clean(self):
        cleaned_data = super().clean()
        found = lesson_problems(cleaned_data)
        for name in Lesson.MARKDOWN_FIELDS:
            if errors := [str(problem) for field, problem in found if field == name and problem.error]:
                self.add_error(name, errors)
        self.lint_warnings = [labelled(name, problem) for name, problem in found if not problem.error]
        if self.scheduling and "publish_changes_at" not in self.errors:
            at = cleaned_data.get("publish_changes_at")
            try:
                if at is None:
                    raise ValidationError(_("Choose when to publish the draft of changes."), code="required")
                revisions.check_publish_time(at)
            except ValidationError as error:
                self.add_error("publish_changes_at", error)
        if not self.instance.pk:
            return cleaned_data
        # Held until the admin's transaction ends with the save, so no other save slips in between.
        Lesson.objects.select_for_update().filter(pk=self.instance.pk).values_list("pk").first()
        latest = self.instance.revisions.select_related("author").first()
        if latest is not None and (cleaned_data.get("base_revision") or 0) != latest.number:
            self.data = self.data.copy()
            self.data["base_revision"] = latest.number
            raise ValidationError(
                _(
                    "This lesson changed since you opened it: revision %(number)d (%(author)s, %(time)s). "
                    "Your text is kept below. Compare it with the lesson's revisions, then save again to "
                    "replace that revision with yours."
                ),
                code="stale",
                params={
                    "number": latest.number,
                    "author": latest.saved_by,
                    "time": formats.date_format(latest.created_at, "DATETIME_FORMAT"),
                },
            )
        return cleaned_data


class LessonStateFilter(admin.SimpleListFilter):
    """Where a lesson stands for learners, as the site decides it (a published lesson dated later is scheduled)."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("live", _("On the site")),
            ("scheduled", _("Scheduled")),
            ("draft", _("Draft")),
            ("archived", _("Archived")),
            ("changes", _("With a draft of changes")),
            ("changes_scheduled", _("Changes scheduled")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "live":
                return queryset.filter(Lesson.published_q())
            case "scheduled":
                return queryset.filter(status=Status.PUBLISHED, published_at__gt=now)
            case "draft":
                return queryset.filter(status=Status.DRAFT)
            case "archived":
                return queryset.filter(status=Status.ARCHIVED)
            case "changes":
                return queryset.filter(draft__isnull=False)
            case "changes_scheduled":
                return queryset.with_scheduled_changes()
        return queryset


@admin.register(Lesson)
class LessonAdmin(StreamModelAdmin):
    form = LessonAdminForm
    change_form_template = "admin/courses/lesson/change_form.html"
    list_display = [
        "title",
        "course",
        "position",
        "state",
        "has_draft",
        "published_at",
        "xp",
        "reading_minutes",
    ]
    list_display_links = ["title"]
    list_filter = [LessonStateFilter, "course", "tags"]
    list_select_related = ["course"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["reading_minutes", "preview_link"]
    inlines = [LessonLinkInline]
    actions = ["publish", "unpublish", "publish_drafts"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "course",
                    "title",
                    "slug",
                    "position",
                    "status",
                    "published_at",
                    "preview_link",
                    "base_revision",
                ]
            },
        ),
        (_("Content"), {"fields": ["summary", "body", "revision_message"]}),
        # Django's admin sets the textareas of a "monospace" fieldset in a monospace font.
        (
            _("Exercise"),
            {
                "fields": [
                    "exercise",
                    "exercise_starter",
                    "exercise_checks",
                    "exercise_hints",
                    "exercise_solution",
                    "exercise_xp",
                ],
                "classes": ["monospace"],
            },
        ),
        (_("Details"), {"fields": ["tags", "xp", "minutes", "reading_minutes"]}),
    ]

    CODE_FIELDS = frozenset({"exercise_starter", "exercise_checks", "exercise_solution"})

    def get_fieldsets(self, request, obj=None):
        """A published lesson's form has the time for "Schedule changes" (its other lessons take edits at once)."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status != Status.PUBLISHED:
            return fieldsets
        # After the note for the history: both are about the save the buttons below make.
        return [
            (name, {**options, "fields": [*options["fields"], "publish_changes_at"]})
            if "revision_message" in options["fields"]
            else (name, options)
            for name, options in fieldsets
        ]

    class Media:
        # The editors (an ES module over CodeMirror, ops/npm_assets.py) run before the preview, which uses them.
        js = [Script("js/admin-lesson-editor.js", type="module"), "js/admin-lesson-preview.js"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body":
            # Markdown is written like code: a tall box in a monospace font (admin-lessons.css).
            field.widget.attrs.update({"rows": 24, "class": "lesson-source"})
        if db_field.name in self.CODE_FIELDS:
            # Code: no spelling marks, no capitalised first letters on phones.
            field.widget.attrs.update({"spellcheck": "false", "autocapitalize": "off", "autocomplete": "off"})
        return field

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("writing-lessons/", view(self.writing_guide), name="courses_lesson_guide"),
            path("render/", view(require_POST(self.render_live)), name="courses_lesson_render"),
            path("upload-image/", view(require_POST(self.upload_image)), name="courses_lesson_upload_image"),
            path("<int:pk>/preview/", view(self.preview), name="courses_lesson_preview"),
            path("<int:pk>/revisions/", view(self.revision_list), name="courses_lesson_revisions"),
            path("<int:pk>/revisions/<int:number>/", view(self.revision_detail), name="courses_lesson_revision"),
            path(
                "<int:pk>/revisions/<int:number>/restore/",
                view(require_POST(self.restore)),
                name="courses_lesson_restore",
            ),
            path("<int:pk>/draft/discard/", view(require_POST(self.discard_draft)), name="courses_lesson_discard"),
            *super().get_urls(),
        ]

    @admin.display(description=_("preview"))
    def preview_link(self, lesson: Lesson) -> str:
        if not lesson.pk:
            return _("Save the lesson to preview it.")
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:courses_lesson_preview", args=[lesson.pk]), _("Preview the lesson")
        )

    @admin.display(description=_("state"), ordering="published_at")
    def state(self, lesson: Lesson) -> str:
        where = self._where(lesson)
        if lesson.draft_publish_at is None:
            return where
        return _("%(state)s; changes scheduled for %(date)s") % {"state": where, "date": when(lesson.draft_publish_at)}

    @staticmethod
    def _where(lesson: Lesson) -> str:
        if lesson.is_scheduled():
            return _("Scheduled for %(date)s") % {"date": when(lesson.published_at)}
        if lesson.is_published():
            return _("On the site")
        if lesson.status == Status.PUBLISHED:
            return _("Published, in a course that is not")
        return lesson.get_status_display()

    @admin.display(description=_("draft of changes"), boolean=True)
    def has_draft(self, lesson: Lesson) -> bool:
        return lesson.has_draft

    def get_object(self, request, object_id, from_field=None):
        """The lesson as its form shows it: with its draft of changes, while it has one."""
        lesson = super().get_object(request, object_id, from_field)
        if lesson is not None and lesson.draft_id:
            lesson.apply_content(lesson.draft.content)
        return lesson

    def save_model(self, request, obj: Lesson, form, change: bool) -> None:
        """Save where the lesson stands (course, slug, position, status, dates); its content goes into a revision
        (``save_related``), so a published lesson's text is left as learners read it unless it is published."""
        obj._publish = (
            not change
            or "_publish" in request.POST
            or obj.status != Status.PUBLISHED
            or not Lesson.objects.filter(pk=obj.pk, status=Status.PUBLISHED).exists()
        )
        obj._schedule = not obj._publish and form.scheduling
        obj._unschedule = not obj._publish and "_unschedule" in request.POST
        if change:
            # Read under the form's lock: a scheduled publish may have changed the row since the form loaded it.
            live = Lesson.objects.get(pk=obj.pk)
            for name in (*Lesson.CONTENT_FIELDS, *self.SERVICE_FIELDS):
                setattr(obj, name, getattr(live, name))
        obj.save()

    # What courses.revisions alone writes: a save of the form keeps it as the row has it.
    SERVICE_FIELDS = ("revision_id", "draft_id", "draft_publish_at", "draft_scheduled_by_id")

    def save_related(self, request, form, formsets, change: bool) -> None:
        form.save_m2m()
        links = next(formset for formset in formsets if formset.model is LessonLink).links()
        lesson = form.instance
        content = {name: form.cleaned_data[name] for name in Lesson.CONTENT_FIELDS} | {"links": links}
        # Text as a file would hold it: a browser sends CRLF line ends.
        content = {
            name: value.replace("\r\n", "\n") if isinstance(value, str) else value for name, value in content.items()
        }
        for warning in form.lint_warnings:
            self.message_user(request, warning, messages.WARNING)
        latest = lesson.draft or lesson.revision
        message = form.cleaned_data.get("revision_message", "")
        if latest is None or not revisions.same_content(latest.content, content) or message:
            lesson._saved_revision = revisions.save_revision(
                lesson=lesson, content=content, author=request.user, message=message, publish=lesson._publish
            )
        elif lesson._publish and lesson.draft_id:
            lesson._saved_revision = revisions.publish_draft(lesson=lesson)
            lesson.refresh_from_db(fields=["revision", "draft", *revisions.SCHEDULE_FIELDS])
        if lesson._schedule:
            self._schedule(request, lesson, form.cleaned_data["publish_changes_at"])
        elif lesson._unschedule and revisions.unschedule_draft(lesson=lesson):
            lesson.draft_publish_at = None
            lesson._unscheduled = True
            self.log_change(request, lesson, gettext("Cancelled the scheduled publication of the draft of changes."))

    def _schedule(self, request, lesson: Lesson, at) -> None:
        try:
            draft = revisions.schedule_draft(lesson=lesson, at=at, by=request.user)
        except ValidationError as error:
            # Only "no draft": the form checked the time. Nothing was written.
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return
        lesson.draft_publish_at = at
        lesson._scheduled = draft
        self.log_change(
            request,
            lesson,
            gettext("Scheduled the draft of changes (revision %(number)d) for %(time)s (%(zone)s).")
            % {"number": draft.number, "time": when(at), "zone": timezone.get_current_timezone_name()},
        )

    def response_change(self, request, obj: Lesson):
        revision = getattr(obj, "_saved_revision", None)
        scheduled = getattr(obj, "_scheduled", None)
        if scheduled is not None:
            self.message_user(
                request,
                _(
                    "Revision %(number)d, the draft of changes, is scheduled for %(time)s: learners read the "
                    "published text until then."
                )
                % {"number": scheduled.number, "time": when(obj.draft_publish_at)},
                messages.SUCCESS,
            )
        elif revision is not None and obj.draft_id == revision.pk:
            if obj.draft_publish_at is not None:
                text = _(
                    "Saved as revision %(number)d, the draft of changes, still scheduled for %(time)s: learners "
                    "read the published text until then."
                )
            else:
                text = _(
                    "Saved as revision %(number)d, a draft of changes: learners still read the published text "
                    "until you publish it."
                )
            self.message_user(
                request,
                text % {"number": revision.number, "time": when(obj.draft_publish_at)},
                messages.SUCCESS,
            )
        elif revision is not None and obj.status == Status.PUBLISHED:
            self.message_user(
                request,
                _("Published revision %(number)d: learners now read it.") % {"number": revision.number},
                messages.SUCCESS,
            )
        if getattr(obj, "_unscheduled", False):
            self.message_user(
                request,
                _("The draft of changes is no longer scheduled: it waits for someone to publish it."),
                messages.SUCCESS,
            )
        saved_draft = revision is not None and obj.draft_id == revision.pk
        if saved_draft or {"_publish", "_schedule", "_unschedule"} & set(request.POST):
            # Back to the lesson; Django's own "was changed successfully" would read as if a draft were live.
            return HttpResponseRedirect(reverse("admin:courses_lesson_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context |= {"max_body_bytes": MAX_BODY_BYTES, "max_body_kb": MAX_BODY_BYTES // 1024}
        if obj is not None and obj.pk:
            context["revision_count"] = obj.revisions.count()
            context["live_revision"] = obj.revision
            context["draft_revision"] = obj.draft
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _lesson(self, request, pk: int, *, change: bool = False) -> Lesson:
        lesson = get_object_or_404(Lesson.objects.select_related("course", "revision", "draft"), pk=pk)
        allowed = self.has_change_permission(request, lesson) if change else self.has_view_permission(request, lesson)
        if not allowed:
            raise PermissionDenied
        return lesson

    def _context(self, request, lesson: Lesson, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "lesson": lesson,
            "title": title,
            "has_change_permission": self.has_change_permission(request, lesson),
            **extra,
        }

    def preview(self, request, pk: int):
        """The lesson as learners would read it: its draft of changes while it has one (or ``?revision=N``),
        rendered by the same Markdown pipeline as a save."""
        lesson = self._lesson(request, pk)
        revision = lesson.draft
        if number := request.GET.get("revision", ""):
            if not number.isdigit():
                raise Http404("No such revision.")
            revision = get_object_or_404(lesson.revisions, number=int(number))
        links = list(lesson.links.all())
        if revision is not None:
            lesson.apply_content(revision.content)
            lesson.render()
            links = [LessonLink(**link) for link in revision.content.get("links", [])]
        context = self._context(
            request,
            lesson,
            _("Preview: %(title)s") % {"title": lesson.title},
            revision=revision,
            links=links,
        )
        return TemplateResponse(request, "admin/courses/lesson/preview.html", context)

    def render_live(self, request):
        """The live preview beside the lesson form (static/js/admin-lesson-preview.js): the text as typed, rendered
        by the pipeline a save uses, with the problems a save would report. Nothing is stored."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        course_id = request.POST.get("course", "")
        course = Course.objects.filter(pk=int(course_id)).first() if course_id.isdigit() else None
        texts = {name: request.POST.get(name, "").replace("\r\n", "\n") for name in self.LIVE_FIELDS}
        if len(texts["body"].encode()) > MAX_BODY_BYTES:
            return JsonResponse({"problems": [{"error": True, "text": str(_("The body is too long to preview."))}]})
        with translation.override(course.language if course else settings.LANGUAGE_CODE):
            body, exercise = render_markdown(texts["body"]), render_markdown(texts["exercise"])
            code = [
                render_code_block(texts[name], f'python title="{label}"', number)
                for number, (name, label) in enumerate(
                    (
                        ("exercise_starter", _("Starter code")),
                        ("exercise_checks", _("Checks")),
                        ("exercise_solution", _("Reference solution")),
                    ),
                    start=1,
                )
                if texts[name].strip()
            ]
            hints = [
                render_to_string("courses/exercise_hint.html", {"number": number, "html": render_markdown(hint).html})
                for number, hint in enumerate(split_hints(texts["exercise_hints"]), start=1)
            ]
        problems = [
            {"error": problem.error, "text": labelled(name, problem)} for name, problem in lesson_problems(texts)
        ]
        return JsonResponse(
            {
                "html": body.html,
                "exercise_html": exercise.html + "".join(code) + "".join(hints),
                "minutes": reading_minutes(body.amount + exercise.amount),
                "problems": problems,
            }
        )

    LIVE_FIELDS = ("body", "exercise", "exercise_starter", "exercise_checks", "exercise_hints", "exercise_solution")

    def upload_image(self, request):
        """An image from the lesson form's "Insert an image" (static/js/admin-lesson-preview.js): stored, and its
        Markdown returned for the script to insert at the cursor. The same checks as the image admin's form."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        form = LessonImageForm(request.POST, request.FILES)
        if not form.is_valid():
            errors = [str(message) for messages_ in form.errors.values() for message in messages_]
            return JsonResponse({"errors": errors}, status=400)
        image = form.store(uploaded_by=request.user)
        # An image uploaded before keeps its record; the description typed now is the one this lesson gets.
        return JsonResponse({"markdown": image.markdown_with(form.cleaned_data["alt"]), "url": image.file.url})

    def writing_guide(self, request):
        """docs/authors/writing-lessons.md (or its translation), rendered by the lessons' own pipeline: its
        examples show as learners will see them."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        guide, language = writing_guide()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Writing lessons"),
            "guide": guide,
            "guide_language": language,
        }
        return TemplateResponse(request, "admin/courses/lesson/guide.html", context)

    def revision_list(self, request, pk: int):
        """Every revision of the lesson, newest first, and the differences between the two chosen (``?a=&b=``)."""
        lesson = self._lesson(request, pk)
        history = list(lesson.revisions.select_related("author"))
        by_number = {revision.number: revision for revision in history}
        newer, older = self._pair(request, by_number, history)
        changes = revisions.diff(older.content, newer.content) if newer and older else []
        context = self._context(
            request,
            lesson,
            _("Revisions: %(title)s") % {"title": lesson.title},
            history=history,
            older=older,
            newer=newer,
            changes=changes,
        )
        return TemplateResponse(request, "admin/courses/lesson/revisions.html", context)

    @staticmethod
    def _pair(request, by_number: dict, history: list) -> tuple:
        """The two revisions to compare: those asked for, else the newest and the one before it."""
        numbers = []
        for key in ("b", "a"):
            value = request.GET.get(key, "")
            numbers.append(int(value) if value.isdigit() and int(value) in by_number else None)
        newer = by_number.get(numbers[0]) or (history[0] if history else None)
        older = by_number.get(numbers[1]) or (history[1] if len(history) > 1 else None)
        if newer and older and older.number > newer.number:
            newer, older = older, newer
        return newer, older

    def revision_detail(self, request, pk: int, number: int):
        lesson = self._lesson(request, pk)
        revision = get_object_or_404(lesson.revisions.select_related("author"), number=number)
        context = self._context(
            request,
            lesson,
            _("Revision %(number)d: %(title)s") % {"number": number, "title": revision.content.get("title", "")},
            revision=revision,
            fields=[
                (label, revisions.field_text(name, revision.content.get(name)))
                for name, label in revisions.DIFF_FIELDS.items()
            ],
        )
        return TemplateResponse(request, "admin/courses/lesson/revision.html", context)

    def restore(self, request, pk: int, number: int):
        lesson = self._lesson(request, pk, change=True)
        old = get_object_or_404(lesson.revisions, number=number)
        revision = revisions.restore_revision(revision=old, author=request.user)
        self.log_change(
            request,
            lesson,
            gettext("Restored revision %(old)d as revision %(number)d.") % {"old": number, "number": revision.number},
        )
        lesson.refresh_from_db()
        if lesson.draft_id == revision.pk:
            text = _(
                "Revision %(old)d is restored as revision %(number)d, a draft of changes: publish it to show it "
                "to learners."
            )
        else:
            text = _("Revision %(old)d is restored as revision %(number)d.")
        self.message_user(request, text % {"old": number, "number": revision.number}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:courses_lesson_change", args=[lesson.pk]))

    def discard_draft(self, request, pk: int):
        lesson = self._lesson(request, pk, change=True)
        if revisions.discard_draft(lesson=lesson):
            self.log_change(request, lesson, gettext("Discarded the draft of changes."))
            self.message_user(
                request,
                _("The draft of changes is discarded; it stays in the lesson's revisions."),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:courses_lesson_change", args=[lesson.pk]))

    def _log_each(self, request, lessons, message: str) -> None:
        for lesson in lessons:
            self.log_change(request, lesson, message)

    @admin.action(description=_("Publish the selected lessons"), permissions=["change"])
    def publish(self, request, queryset) -> None:
        lessons = list(queryset.select_related(None).only("pk", "title"))
        count = publish_lessons(lessons=queryset)
        self._log_each(request, lessons, gettext("Published."))
        self.message_user(
            request,
            ngettext("%(count)d lesson published.", "%(count)d lessons published.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish the selected lessons"), permissions=["change"])
    def unpublish(self, request, queryset) -> None:
        lessons = list(queryset.select_related(None).only("pk", "title"))
        count = unpublish_lessons(lessons=queryset)
        self._log_each(request, lessons, gettext("Unpublished."))
        self.message_user(
            request,
            ngettext("%(count)d lesson unpublished.", "%(count)d lessons unpublished.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Publish the drafts of changes of the selected lessons"), permissions=["change"])
    def publish_drafts(self, request, queryset) -> None:
        published = [
            lesson for lesson in queryset.filter(draft__isnull=False) if revisions.publish_draft(lesson=lesson)
        ]
        self._log_each(request, published, gettext("Published the draft of changes."))
        self.message_user(
            request,
            ngettext("%(count)d draft of changes published.", "%(count)d drafts of changes published.", len(published))
            % {"count": len(published)},
            messages.SUCCESS,
        )


class LessonImageAltForm(forms.ModelForm):
    class Meta:
        model = LessonImage
        fields = ["alt"]
        error_messages = {
            "alt": {"required": _("Say what the image shows: learners who cannot see it read this.")},
        }

    def clean_alt(self) -> str:
        alt = " ".join(self.cleaned_data["alt"].split())
        if not alt:
            raise ValidationError(_("Say what the image shows: learners who cannot see it read this."), code="no_alt")
        return alt


class LessonImageForm(LessonImageAltForm):
    """An image and its alt text; the file is checked and re-encoded (courses.images) before anything is stored."""

    upload = forms.FileField(label=_("Image"), help_text=_("PNG, JPEG, WebP or GIF, at most 5 MB."))

    class Meta(LessonImageAltForm.Meta):
        fields = ["upload", "alt"]

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        images.check_image(upload)
        upload.seek(0)
        return upload

    def store(self, *, uploaded_by) -> LessonImage:
        return images.store_image(
            upload=self.cleaned_data["upload"], alt=self.cleaned_data["alt"], uploaded_by=uploaded_by
        )


@admin.register(LessonImage)
class LessonImageAdmin(StreamModelAdmin):
    """Images for lessons: upload one here (or from the lesson form), then write its Markdown in a lesson.

    The file never changes once stored (a new image is a new upload); its alt text may be corrected.
    """

    list_display = ["thumbnail", "alt", "markdown_column", "width", "height", "uploaded_by", "created_at"]

    class Media:
        css = {"all": ["css/admin-lessons.css"]}

    search_fields = ["alt", "original_name"]
    readonly_fields = ["preview", "markdown_column", "width", "height", "size", "uploaded_by", "created_at"]

    def get_fields(self, request, obj=None):
        return ["alt", "preview", "markdown_column", "width", "height", "size"] if obj else ["upload", "alt"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = LessonImageAltForm if obj is not None else LessonImageForm
        return super().get_form(request, obj, **kwargs)

    def save_form(self, request, form, change: bool):
        return super().save_form(request, form, change) if change else form.store(uploaded_by=request.user)

    def save_model(self, request, obj, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["alt"])

    def save_related(self, request, form, formsets, change: bool) -> None:
        """An image has no related rows."""

    @admin.display(description=_("image"))
    def thumbnail(self, image: LessonImage) -> str:
        return format_html('<img src="{}" alt="{}" class="lesson-image-thumbnail">', image.file.url, image.alt)

    @admin.display(description=_("image"))
    def preview(self, image: LessonImage) -> str:
        return format_html('<img src="{}" alt="{}" class="lesson-image-preview">', image.file.url, image.alt)

    @admin.display(description=_("Markdown"))
    def markdown_column(self, image: LessonImage) -> str:
        return format_html("<code>{}</code>", image.markdown)


@admin.register(LessonRevision)
class LessonRevisionAdmin(StreamModelAdmin):
    """Revisions are read from their lesson's page; this list finds them across lessons (by author, origin)."""

    list_display = ["__str__", "lesson", "number", "author", "origin", "created_at"]
    list_filter = ["origin", "lesson__course"]
    list_select_related = ["lesson", "author"]
    search_fields = ["lesson__title", "message"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("<int:pk>/", self.admin_site.admin_view(self.to_lesson), name="courses_lessonrevision_change"),
            *super().get_urls(),
        ]

    def to_lesson(self, request, pk: int):
        revision = get_object_or_404(LessonRevision, pk=pk)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        target = reverse("admin:courses_lesson_revision", args=[revision.lesson_id, revision.number])
        return HttpResponseRedirect(target)


@admin.register(Tag)
class TagAdmin(StreamModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
