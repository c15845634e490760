from django import forms
from django.utils.translation import gettext_lazy as _

from comments.models import MAX_COMMENT_LENGTH


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


class EditCommentForm(forms.Form):
    body = CommentForm.base_fields["body"]
