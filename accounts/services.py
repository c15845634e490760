from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.http import HttpRequest
from django.utils import translation

from accounts import mail
from accounts.models import User


def send_new_confirmation(*, request: HttpRequest, email: str) -> bool:
    """Send a fresh confirmation link to ``email`` if it is an account's unconfirmed address.

    Returns False when rate-limited (allauth's ``confirm_email`` limit, per address, which the
    sign-up's own e-mail also counts). The limit is taken whether or not the address exists,
    and nothing else differs, so the answer does not tell who has an account.
    """
    email = email.strip().lower()
    if not ratelimit.consume(request, action="resend_confirmation"):
        return False
    if not ratelimit.consume(request, action="confirm_email", key=email):
        return False
    address = EmailAddress.objects.filter(email__iexact=email, verified=False).select_related("user").first()
    if address is not None:
        address.send_confirmation(request)
    return True


def supported_language(language: str | None) -> str | None:
    """``language`` as one of settings.LANGUAGES ("ko-KR" is "ko"), or None if the site has no such language."""
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return None


def remember_language(*, user: User, language: str | None) -> None:
    """Keep the interface language ``user`` reads in on the account, for what reaches them outside a request.

    E-mail is written by the worker, which has no request to take a language from. Called when the
    learner signs in and when they switch language; writes only when it changed.
    """
    language = supported_language(language)
    if language is None or language == user.language:
        return
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def remember_language_on_sign_in(sender, *, request: HttpRequest, user: User, **kwargs) -> None:
    """allauth's ``user_logged_in``: the account takes the language this browser reads in."""
    remember_language(user=user, language=translation.get_language_from_request(request))


def stop_notification_emails(*, user_id: int) -> bool:
    """Turn off e-mail about comments for the learner ``user_id`` (an unsubscribe link); False if there is none.

    It only ever turns e-mail off: an unsubscribe link that reaches someone else does no other harm.
    """
    found = User.objects.filter(pk=user_id).exists()
    User.objects.filter(pk=user_id, email_notifications=True).update(email_notifications=False)
    return found


# The streak reminders' one-click unsubscribe links (progress.reminders sends them). The salt's name is older
# than this place: links already sent keep working.
STREAK_REMINDERS_SALT = "progress.streak-reminders.unsubscribe"


def streak_reminders_unsubscribe_token(*, user_id: int) -> str:
    return mail.unsubscribe_token(user_id=user_id, salt=STREAK_REMINDERS_SALT)


def streak_reminders_user_id(token: str) -> int | None:
    """The learner a streak reminder's unsubscribe token names, or None for one we did not sign."""
    return mail.unsubscribe_user_id(token, salt=STREAK_REMINDERS_SALT)


def stop_streak_reminders(*, user_id: int) -> bool:
    """Turn off the evening streak reminders of the learner ``user_id`` (an unsubscribe link); False if there is none.

    Like ``stop_notification_emails``, it only ever turns e-mail off.
    """
    found = User.objects.filter(pk=user_id).exists()
    User.objects.filter(pk=user_id, email_streak_reminders=True).update(email_streak_reminders=False)
    return found
