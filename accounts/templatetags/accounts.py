from django import template
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

register = template.Library()


@register.simple_tag(takes_context=True)
def return_path(context: template.Context) -> str:
    """Where signing in or up from this page should return to.

    The page itself; on the account pages (sign-in links to sign-up and back), the ``next``
    they already carry, when it is a path on this site.
    """
    request: HttpRequest | None = context.get("request")
    if request is None:
        return ""
    if not request.path.startswith("/accounts/"):
        return request.get_full_path()
    carried = request.GET.get("next", "")
    if carried and url_has_allowed_host_and_scheme(carried, allowed_hosts=None) and carried.startswith("/"):
        return carried
    return ""
