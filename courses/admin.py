from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import StreamModelAdmin
from courses.models import Course, Lesson, LessonLink, Tag
from courses.services import publish_lessons, unpublish_lessons


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
    model = Lesson
    form = LessonInlineForm
    fields = ["position", "title", "slug", "status", "xp"]
    ordering = ["position"]
    extra = 0
    show_change_link = True
    prepopulated_fields = {"slug": ["title"]}


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


class LessonLinkInline(admin.TabularInline):
    model = LessonLink
    fields = ["position", "title", "url"]
    extra = 1


@admin.register(Lesson)
class LessonAdmin(StreamModelAdmin):
    list_display = ["title", "course", "position", "status", "is_published", "published_at", "xp", "reading_minutes"]
    list_display_links = ["title"]
    list_filter = ["status", "course", "tags"]
    list_select_related = ["course"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    readonly_fields = ["reading_minutes", "preview_link"]
    inlines = [LessonLinkInline]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["course", "title", "slug", "position", "status", "published_at", "preview_link"]}),
        (_("Content"), {"fields": ["summary", "body"]}),
        # Django's admin sets the textareas of a "monospace" fieldset in a monospace font.
        (
            _("Exercise"),
            {"fields": ["exercise", "exercise_starter", "exercise_checks", "exercise_xp"], "classes": ["monospace"]},
        ),
        (_("Details"), {"fields": ["tags", "xp", "minutes", "reading_minutes"]}),
    ]

    CODE_FIELDS = frozenset({"exercise_starter", "exercise_checks"})

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self.CODE_FIELDS:
            # Code: no spelling marks, no capitalised first letters on phones.
            field.widget.attrs.update({"spellcheck": "false", "autocapitalize": "off", "autocomplete": "off"})
        return field

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview)
        return [path("<int:pk>/preview/", preview, name="courses_lesson_preview"), *super().get_urls()]

    @admin.display(description=_("preview"))
    def preview_link(self, lesson: Lesson) -> str:
        if not lesson.pk:
            return _("Save the lesson to preview it.")
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:courses_lesson_preview", args=[lesson.pk]), _("Preview the lesson")
        )

    def preview(self, request, pk: int):
        lesson = get_object_or_404(Lesson.objects.with_page_relations(), pk=pk)
        if not self.has_view_permission(request, lesson):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "lesson": lesson,
            "title": _("Preview: %(title)s") % {"title": lesson.title},
        }
        return TemplateResponse(request, "admin/courses/lesson/preview.html", context)

    @admin.action(description=_("Publish the selected lessons"), permissions=["change"])
    def publish(self, request, queryset) -> None:
        count = publish_lessons(lessons=queryset)
        self.message_user(
            request,
            ngettext("%(count)d lesson published.", "%(count)d lessons published.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish the selected lessons"), permissions=["change"])
    def unpublish(self, request, queryset) -> None:
        count = unpublish_lessons(lessons=queryset)
        self.message_user(
            request,
            ngettext("%(count)d lesson unpublished.", "%(count)d lessons unpublished.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Tag)
class TagAdmin(StreamModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
