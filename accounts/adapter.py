from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts.services import supported_language
from accounts.tasks import queue_email


class AccountAdapter(DefaultAccountAdapter):
    """allauth, as Stream wants it: account e-mail goes through the task queue."""

    def send_mail(self, template_prefix: str, email: str, context_data: dict) -> None:
        """Render now, in the request (its host, its language), and let the worker send it.

        allauth sends inside the request; an unreachable mail server then answered 500 after
        the account was made. Queued, the request never waits for or fails on the mail server.
        """
        request = context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context_data},
        )
        queue_email(message=message, kind=template_prefix.rpartition("/")[2])

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """The new account takes the time zone the sign-up form guessed (forms without one leave the default),
        the language of the page it signed up on, and the page it was sent from (``next``, a path of this
        site), which confirming the address in another browser returns to."""
        if time_zone := form.cleaned_data.get("time_zone"):
            user.time_zone = time_zone
        user.signup_path = self.own_path(request, request.POST.get("next") or request.GET.get("next") or "")
        if language := supported_language(translation.get_language_from_request(request)):
            user.language = language
        return super().save_user(request, user, form, commit)

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        """Back to the account settings, which lead on, instead of the empty password form again."""
        return reverse("account_settings")

    def own_path(self, request: HttpRequest, url: str) -> str:
        """``url`` if it is a path of this site (never another host, never a scheme), else ""."""
        fits = len(url) <= 500 and url.startswith("/") and not url.startswith("//")
        return url if fits and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else ""

    def get_email_verification_redirect_url(self, email_address) -> str:
        """After confirming: back to the page the sign-up came from. In the browser that signed up the learner
        is signed in and goes there; in another browser, to sign in first and then there."""
        path = email_address.user.signup_path
        if not path:
            return super().get_email_verification_redirect_url(email_address)
        if self.request.user.is_authenticated:
            return path
        return f"{reverse('account_login')}?{urlencode({'next': path})}"
