from allauth.account import forms as allauth_forms
from django import forms
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import (
    normalize_name,
    time_zone_choices,
    validate_display_name,
    validate_not_impersonating,
    validate_time_zone,
)

DEFAULT_TIME_ZONE = User._meta.get_field("time_zone").default


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "time_zone", "on_leaderboard", "email_notifications", "email_streak_reminders"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Chosen from the list of zones, not typed: the model's own label and help text stay.
        typed = self.fields["time_zone"]
        self.fields["time_zone"] = forms.ChoiceField(
            choices=time_zone_choices, label=typed.label, help_text=typed.help_text
        )

    def clean_display_name(self) -> str:
        # Full-width letters or runs of spaces would make names that look alike but differ.
        typed = self.cleaned_data["display_name"]
        if typed:  # before normalizing, which would hide a line break or composed accents
            validate_display_name(typed)
        name = normalize_name(typed)
        if name and not self.instance.is_staff:
            staff = User.objects.filter(is_staff=True).exclude(pk=self.instance.pk)
            validate_not_impersonating(name, staff_names=list(staff.values_list("display_name", flat=True)))
        return name


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up, with the e-mail held to what the account can store, and safe against a double submit.

    ``time_zone`` is the browser's guess (a script fills it in); the account adapter stores it on the new user.
    """

    time_zone = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-guess-time-zone": ""}), empty_value=DEFAULT_TIME_ZONE
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # allauth allows 320 characters and cut longer addresses to fit the column: refuse them instead.
        limit = User._meta.get_field("email").max_length
        self.fields["email"].max_length = limit
        self.fields["email"].validators.append(MaxLengthValidator(limit))
        self.fields["email"].widget.attrs["maxlength"] = str(limit)

    def clean_time_zone(self) -> str:
        """A guess that names no zone (no script, an old browser, a made-up value) is not worth an error: UTC."""
        time_zone = self.cleaned_data["time_zone"]
        try:
            validate_time_zone(time_zone)
        except forms.ValidationError:
            return DEFAULT_TIME_ZONE
        return time_zone

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


class DeleteAccountForm(forms.Form):
    """The learner's password, entered again before their account is deleted."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password: nothing was deleted."), code="wrong_password")
        return password
