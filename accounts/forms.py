from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name"]

    def clean_display_name(self) -> str:
        # Runs of spaces would make names that look alike but differ.
        return " ".join(self.cleaned_data["display_name"].split())
