from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, REASON_NO_REFERER
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from config.http import wants_json


@never_cache
def live(request) -> HttpResponse:
    """200 ``ok`` without touching the database: the process answers (liveness, and the benchmarks' bare view)."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def healthz(request) -> HttpResponse:
    """200 ``ok`` when the database answers a query, 503 otherwise (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def favicon(request) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """The expired-form page in the site's layout and language (Django's own is bare English).

    A page's script that asked for JSON gets the reason as JSON, to show it.
    """
    if wants_json(request):
        message = _("This page has expired (its security token is missing or old). Reload the page and try again.")
        return JsonResponse({"error": message}, status=403)
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "no_referer": reason == REASON_NO_REFERER}
    return render(request, "403_csrf.html", context, status=403)
