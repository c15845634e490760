import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from courses.search import MAX_QUERY_LENGTH, Query


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search lessons and courses"),
        max_length=MAX_QUERY_LENGTH,
        required=False,
        error_messages={
            "max_length": _("Search for at most %(limit_value)d characters (this search has %(show_value)d)."),
        },
    )

    def clean_q(self) -> str:
        # Control characters are spaces, and format characters (bidi overrides, zero widths) go: the query is
        # shown in sentences and the page title, where a right-to-left override would reverse what follows.
        text = "".join(
            " " if unicodedata.category(char) == "Cc" else char
            for char in self.cleaned_data["q"]
            if unicodedata.category(char) != "Cf"
        ).strip()
        if text and not Query.parse(text):
            raise ValidationError(
                _("Search for a word or part of one: punctuation and symbols alone match nothing."), code="no_words"
            )
        return text
