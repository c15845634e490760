from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.http import HttpRequest


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
