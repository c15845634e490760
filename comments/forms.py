from datetime import UTC, datetime

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from comments.models import MAX_COMMENT_LENGTH, MAX_REPORT_LENGTH, Flag, ProblemReport
from courses.models import Lesson


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=MAX_COMMENT_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Markdown: *emphasis*, `code`, ```fenced code```, links, lists and > quotes."),
        error_messages={
            "required": _("Write something first."),
            "max_length": _("A comment can be at most %(limit_value)d characters long (it has %(show_value)d)."),
            # PostgreSQL cannot store it: Django's CharField refuses it before any clean_* method runs.
            "null_characters_not_allowed": _("The comment contains a character that cannot be stored."),
        },
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    # The position of the lesson's code block the comment is about; its title is taken from the lesson.
    code_block = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=1000)
    # The form's key ({% submission_key %}): posting the same form again stores nothing more.
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)


class EditCommentForm(forms.Form):
    body = CommentForm.base_fields["body"]


def _storable(text: str) -> str:
    """Text without the NUL character, which PostgreSQL cannot store."""
    return text.replace("\x00", "")


class ContextField(forms.CharField):
    """Text the page fills in, not the reader: cut to ``limit`` and cleaned of what cannot be stored, never refused."""

    widget = forms.HiddenInput

    def __init__(self, *, limit: int, **kwargs) -> None:
        self.limit = limit
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> str:
        # One line: a line break would add lines of its own to the staff's e-mail (a forged "From:", say).
        return " ".join(_storable(super().to_python(value)).split())[: self.limit]


class FlagForm(forms.Form):
    reason = forms.CharField(
        label=_("Why should a moderator look at this comment?"),
        max_length=Flag._meta.get_field("reason").max_length,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Say why the comment should be looked at."),
            "max_length": _("A reason can be at most %(limit_value)d characters long (it has %(show_value)d)."),
        },
    )


class ProblemReportForm(forms.Form):
    """A problem with a lesson page. ``website`` is a trap for bots: people never see it, so leave it empty.

    The context fields are filled by the page (the nearest heading and the selected text by its
    script): they are cut to what is kept rather than refused, since the reader cannot see or fix them.
    """

    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)  # as CommentForm's
    kind = forms.ChoiceField(
        label=_("What kind of problem?"),
        choices=ProblemReport.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of problem it is.")},
    )
    message = forms.CharField(
        label=_("What is wrong?"),
        max_length=MAX_REPORT_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Describe the problem first."),
            "max_length": _("A report can be at most %(limit_value)d characters long (it has %(show_value)d)."),
        },
    )
    email = forms.EmailField(
        label=_("Your e-mail address (optional)"),
        required=False,
        help_text=_("Only if you would like an answer. We use it for nothing else."),
    )
    website = forms.CharField(label=_("Leave this empty"), required=False)
    section = ContextField(limit=ProblemReport._meta.get_field("section").max_length)
    selected_text = ContextField(limit=ProblemReport._meta.get_field("selected_text").max_length)
    lesson_version = ContextField(limit=100)
    lesson_revision = ContextField(limit=20)

    def __init__(self, *args, lesson: Lesson, signed_in: bool, **kwargs) -> None:
        kwargs.setdefault("auto_id", "report-%s")
        super().__init__(*args, **kwargs)
        self.fields["lesson_version"].initial = lesson.updated_at.isoformat() if lesson.updated_at else ""
        self.fields["lesson_revision"].initial = lesson.revision_id or ""
        if signed_in:
            del self.fields["email"]

    @property
    def is_spam(self) -> bool:
        """A bot filled in the field people never see."""
        return bool(self.data.get("website", "").strip())

    def clean_lesson_revision(self) -> int | None:
        """The id of the revision the page showed; anything else is dropped, not refused."""
        value = self.cleaned_data["lesson_revision"]
        return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

    def clean_lesson_version(self) -> datetime | None:
        """The lesson's last change as the page showed it; anything else is dropped, not refused."""
        try:
            version = parse_datetime(self.cleaned_data["lesson_version"])
        except ValueError:
            return None
        if version is not None and timezone.is_naive(version):
            version = timezone.make_aware(version, UTC)
        return version
