import json

from allauth.account.decorators import secure_admin_login
from allauth.account.stages import EmailVerificationStage, LoginStageController
from allauth.account.views import EmailVerificationSentView
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts import privacy
from accounts.forms import AccountSettingsForm, DeleteAccountForm, ResendConfirmationForm
from accounts.mail import development_mail_folder, stored_message, stored_messages
from accounts.models import User
from accounts.services import (
    remember_language,
    send_new_confirmation,
    stop_streak_reminders,
    streak_reminders_user_id,
)


def _pending_email(request: HttpRequest) -> str:
    """The address of a sign-up or sign-in in this session that waits for its e-mail to be confirmed."""
    stage = LoginStageController.enter(request, EmailVerificationStage.key)
    if stage is None or stage.login.user is None:
        return ""
    return stage.login.email or stage.login.user.email


class VerificationSentView(EmailVerificationSentView):
    """allauth's "verify your e-mail" page, with a way to have the link sent again."""

    def get_context_data(self, **kwargs) -> dict:
        email = _pending_email(self.request)
        return super().get_context_data(
            pending_email=email, resend_form=ResendConfirmationForm(initial={"email": email}), **kwargs
        )


@require_http_methods(["GET", "POST"])
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Send a new confirmation link: for a lost or expired one, signed in or not."""
    form = ResendConfirmationForm(request.POST or None, initial={"email": _pending_email(request)})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if send_new_confirmation(request=request, email=email):
            messages.info(
                request,
                _(
                    "If %(email)s belongs to an account that still needs confirming, a new link is on its way. "
                    "It can take a few minutes to arrive."
                )
                % {"email": email},
            )
        else:
            messages.error(
                request,
                _(
                    "A link was sent to %(email)s a short while ago. Check your inbox and spam folder, or ask "
                    "again in a few minutes."
                )
                % {"email": email},
            )
        return redirect("account_email_verification_sent")
    return render(request, "account/resend_confirmation.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings are saved."))
        return redirect("account_settings")
    return render(request, "account/settings.html", {"form": form})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_streak_reminders(request: HttpRequest, token: str) -> HttpResponse:
    """Stop the evening streak reminders of the learner the signed token names; no sign-in needed.

    As the comment e-mails' link (``comments.views.unsubscribe``): a mail client's one-click unsubscribe
    (RFC 8058) posts ``List-Unsubscribe=One-Click`` without a CSRF token, so that post is exempt: all it can
    ever do is turn the reminders off for the token's learner. The page's own form is CSRF-protected.
    """
    user_id = streak_reminders_user_id(token)
    subscribed = None
    if user_id is not None:
        subscribed = User.objects.filter(pk=user_id).values_list("email_streak_reminders", flat=True).first()
    if subscribed is None:
        return render(request, "account/streak_reminders_unsubscribe_invalid.html", status=400)
    if request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click":
        stop_streak_reminders(user_id=user_id)
        return render(request, "account/streak_reminders_unsubscribe.html", {"subscribed": False})
    return _streak_reminders_page(request, user_id=user_id, subscribed=subscribed)


@csrf_protect
def _streak_reminders_page(request: HttpRequest, *, user_id: int, subscribed: bool) -> HttpResponse:
    """The link opened in a browser: a page that asks (a GET changes nothing, mail scanners open links), and its
    form."""
    if request.method == "POST":
        stop_streak_reminders(user_id=user_id)
        return redirect(request.path)
    return render(request, "account/streak_reminders_unsubscribe.html", {"subscribed": subscribed})


@login_required
@require_http_methods(["POST"])
def export_data(request: HttpRequest) -> HttpResponse:
    """Everything Stream keeps about the signed-in learner, as one JSON file to download."""
    if not ratelimit.consume(request, action="export_data", user=request.user):
        messages.error(
            request, _("You downloaded your data several times within the hour. Wait a while, then try again.")
        )
        form = AccountSettingsForm(instance=request.user)
        return render(request, "account/settings.html", {"form": form}, status=429)
    data = privacy.export_data(user=request.user, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    name = f"stream-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _delete_and_sign_out(request: HttpRequest) -> HttpResponse:
    privacy.delete_account(user=request.user)
    logout(request)
    return redirect("account_deleted")


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Delete the signed-in learner's account once they entered their password again.

    An account without a password (signed up through GitHub or Google) is sent a link by e-mail instead.
    """
    user = request.user
    has_password = user.has_usable_password()
    form = DeleteAccountForm(request.POST or None, user=user) if has_password else None
    if request.method == "POST":
        # allauth's limit on entering the password again (10 a minute), for guesses and for e-mailed links.
        if not ratelimit.consume(request, action="reauthenticate", user=user):
            messages.error(request, _("Too many attempts. Wait a few minutes, then try again."))
            form = DeleteAccountForm(user=user) if has_password else None
            return render(request, "account/delete.html", {"form": form}, status=429)
        if not has_password:
            privacy.send_deletion_link(user=user, base_url=request.build_absolute_uri("/"))
            return render(request, "account/delete.html", {"form": None, "sent": True})
        if form.is_valid():
            return _delete_and_sign_out(request)
    return render(request, "account/delete.html", {"form": form}, status=400 if form and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def confirm_delete_account(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: a page that asks once more (a GET changes nothing, mail scanners open links)."""
    if not privacy.deletion_token_is_valid(token=token, user=request.user):
        return render(request, "account/delete_link_invalid.html", status=400)
    if request.method == "POST":
        return _delete_and_sign_out(request)
    return render(request, "account/delete_confirm.html")


def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, "account/deleted.html")


def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch (Django's ``set_language``); a signed-in learner's account remembers the choice."""
    response = i18n.set_language(request)
    chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen is not None and request.user.is_authenticated:
        remember_language(user=request.user, language=chosen.value)
    return response


@secure_admin_login
def _admin_login(request: HttpRequest, **kwargs) -> HttpResponse:
    return admin.site.login(request, **kwargs)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in is the site's (allauth's, rate-limited); learners are told it is for staff.

    Django's own admin login form checked passwords without any limit.
    """
    if request.user.is_authenticated and not (request.user.is_staff and request.user.is_active):
        return render(request, "account/admin_refused.html", status=403)
    return _admin_login(request)


def _development_mail_folder(request: HttpRequest):
    folder = development_mail_folder()
    if folder is None or not request.user.is_staff:
        raise Http404
    return folder


def development_mailbox(request: HttpRequest) -> HttpResponse:
    """The e-mails the site sent, in development only and for staff only (404 otherwise)."""
    folder = _development_mail_folder(request)
    return render(request, "account/development_mailbox.html", {"messages_sent": stored_messages(folder)})


def development_mail(request: HttpRequest, name: str) -> HttpResponse:
    folder = _development_mail_folder(request)
    message = stored_message(folder, name)
    if message is None:
        raise Http404
    return render(request, "account/development_mail.html", {"message": message})
