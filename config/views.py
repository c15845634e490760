import ipaddress
import logging
import sys
import time
from datetime import datetime

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, REASON_NO_REFERER
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.static import serve as static_serve

from web.absolute_urls import absolute_url
from web.http import wants_json
from worker.heartbeat import queue_state, worker_state

logger = logging.getLogger(__name__)

# The errors of a database that cannot be reached (down, restarting, failing over, a connection cut).
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER = 30  # seconds, in the 503's Retry-After
WARN_EVERY = 60.0  # seconds between two warnings of this process while the database stays unreachable
_warned_at = -WARN_EVERY


@never_cache
def live(request) -> HttpResponse:
    """200 ``ok`` without touching the database: the process answers (liveness, and the benchmarks' bare view)."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def healthz(request) -> HttpResponse:
    """200 ``ok`` when the database answers a query, 503 otherwise (for load balancers).

    ``?format=json`` (or ``Accept: application/json``) reports, for monitors, the database, the task workers'
    heartbeats and the queue: to staff, and to a client on this machine (its address as the rate limits see it,
    through TRUSTED_PROXY_COUNT); anyone else gets the plain answer. Its status code follows the database alone:
    a stopped worker delays e-mail but the pages still work, so it is reported, not made a reason to take the
    web process out of rotation.
    """
    as_json = (request.GET.get("format") == "json" or wants_json(request)) and may_see_details(request)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if as_json:
            return JsonResponse(health_report())
    except DatabaseError as error:
        if as_json:
            report = {"status": "unavailable", "database": {"ok": False, "error": type(error).__name__}}
            return JsonResponse(report, status=503)
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def may_see_details(request) -> bool:
    """Whether the health report's details (queue depth, worker liveness) are for this client."""
    try:
        local = ipaddress.ip_address(get_adapter().get_client_ip(request)).is_loopback
    except (ValueError, PermissionDenied):  # no address, or a forged X-Forwarded-For
        local = False
    return local or request.user.is_staff


def health_report() -> dict:
    now = timezone.now()

    def age(moment: datetime | None) -> float | None:
        return None if moment is None else round((now - moment).total_seconds(), 1)

    worker, queue = worker_state(), queue_state()
    return {
        "status": "ok",
        "database": {"ok": True},
        "worker": {
            "alive": worker.alive,
            "workers_alive": worker.workers_alive,
            "last_heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
            "last_heartbeat_age_seconds": age(worker.last_heartbeat),
        },
        "queue": {
            "ready": queue.ready,
            "running": queue.running,
            "failed": queue.failed,
            "oldest_ready_age_seconds": age(queue.oldest_ready_since),
        },
    }


def media(request, path: str) -> HttpResponse:
    """An uploaded file from MEDIA_ROOT, for a server with no proxy in front (`make run`, `make serve`); nginx
    serves /media/ itself. Names are their content's hash, so a file never changes: browsers keep it a year."""
    response = static_serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def favicon(request) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


# What crawlers must leave alone: sign-in and settings, each learner's own pages, and the forms' targets.
# Search results too: endless pages of what the sitemap already lists.
ROBOTS_DISALLOW = [
    "/admin/",
    "/accounts/",
    "/me/",
    "/notifications/",
    "/comments/",
    "/progress/",
    "/dev/",
    "/i18n/",
    "/search/",
]


def robots_txt(request) -> HttpResponse:
    """/robots.txt: the private paths kept out, and the sitemap's address on the configured domain."""
    return render(
        request,
        "robots.txt",
        {"disallow": ROBOTS_DISALLOW, "sitemap_url": absolute_url(reverse("sitemap"))},
        content_type="text/plain; charset=utf-8",
    )


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """The expired-form page in the site's layout and language (Django's own is bare English).

    A page's script that asked for JSON gets the reason as JSON, to show it.
    """
    if wants_json(request):
        message = _("This page has expired (its security token is missing or old). Reload the page and try again.")
        return JsonResponse({"error": message}, status=403)
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "no_referer": reason == REASON_NO_REFERER}
    return render(request, "403_csrf.html", context, status=403)


def database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """503 with Retry-After while the database cannot be reached: a page in the site's layout and the reader's
    language, or JSON for a page's script. Rendered without the request, as the 500 page is: the user menu
    and the context processors would query the database again.
    """
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY:
        _warned_at = now
        logger.warning(
            "The database is unreachable (%s: %s): requests get the 503 page until it answers again.",
            type(error).__name__,
            str(error).strip().splitlines()[0] if str(error).strip() else "",
        )
    if wants_json(request):
        message = _("The site cannot reach its database at the moment. Please try again shortly.")
        response = JsonResponse({"error": message}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    # The warning above says it once a minute: not one "Service Unavailable" line (with a traceback, from
    # the 500 handler's path) per request. The request log still has each request with its status.
    response._has_been_logged = True
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: the 503 page when what failed is reaching the database (in a middleware, for instance,
    where DatabaseUnavailableMiddleware does not see it), else Django's own with our 500.html."""
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE_ERRORS):
        return database_unavailable(request, error)
    return defaults.server_error(request)
