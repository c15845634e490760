from allauth.account import forms as allauth_forms
from django import forms
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.http import HttpRequest
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


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up, with the e-mail held to what the account can store, and safe against a double submit."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # allauth allows 320 characters and cut longer addresses to fit the column: refuse them instead.
        limit = User._meta.get_field("email").max_length
        self.fields["email"].max_length = limit
        self.fields["email"].validators.append(MaxLengthValidator(limit))
        self.fields["email"].widget.attrs["maxlength"] = str(limit)

    def try_save(self, request: HttpRequest):
        """Create the account; if the same address signed up a moment ago, answer as for any taken address.

        Two submissions at once both find the address free, and the second insert then fails on the
        unique index. allauth already answers a taken address without saying so (it e-mails the owner
        and shows the usual "check your e-mail" page); the late request gets that answer too.
        """
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            self.account_already_exists = True
            return super().try_save(request)
