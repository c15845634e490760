import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_display_name, validate_time_zone


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The time zone a learner's ``time_zone`` names; UTC for a name that names none (set outside the forms)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class UserManager(BaseUserManager):
    """Learners sign in with their e-mail address; there are no usernames to choose."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        """An operator's account (`manage.py createsuperuser`): its address counts as confirmed.

        Staff sign in through allauth, which asks for a confirmed address first; the person at
        the server's command line needs no confirmation e-mail to reach the admin.
        """
        from allauth.account.models import EmailAddress

        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        user = self.create_user(email, password, **extra_fields)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        return user

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    # Stored in lower case (see save()), so the unique index treats "Ada@Example.com" as "ada@example.com".
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=50,
        blank=True,
        help_text=_("The name other learners see beside your comments and on the leaderboard."),
        validators=[validate_display_name],
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Your days and streaks are counted in this time zone."),
    )
    on_leaderboard = models.BooleanField(
        _("show me on the leaderboard"),
        default=True,
        help_text=_("Your display name and this week's XP appear on the weekly leaderboard."),
    )
    email_notifications = models.BooleanField(
        _("e-mail me about replies and new comments on lessons I follow"),
        default=False,
        help_text=_("Each e-mail says who wrote on which lesson, with a link; never what they wrote."),
    )
    email_streak_reminders = models.BooleanField(
        _("e-mail me a reminder in the evening when my streak would end"),
        default=False,
        help_text=_(
            "At most one a day, in the evening of your time zone, and never on a day you have already learned."
        ),
    )
    # Where the sign-up came from (a lesson, say): confirming the address in another browser leads back there.
    signup_path = models.CharField(_("page signed up from"), max_length=500, blank=True, editable=False)
    # The interface language the learner last used, for what is written to them outside a request (e-mail).
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Staff can sign in to the admin and see drafts.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zone_named(self.time_zone)

    def clean(self) -> None:
        """Lower-case the address before the forms' unique check, so it compares it as save() will store it."""
        super().clean()
        self.email = self.email.strip().lower()

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class SentEmail(models.Model):
    """The idempotency key of each queued e-mail that was sent: a task that runs twice sends once.

    accounts.tasks.send_email checks for the key before sending and records it right after; the primary key
    is the guard should two runs of one task race.
    """

    key = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=100)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
