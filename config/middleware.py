import time
from collections.abc import Callable
from urllib.parse import quote

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import BadRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.defaults import bad_request
from whitenoise.middleware import WhiteNoiseMiddleware

from config.views import UNAVAILABLE_ERRORS, database_unavailable
from web.logs import log_fields, request_logger

NUL = "\x00"
ADMIN_PREFIX = "/admin/"  # config/urls.py


class RejectNullCharactersMiddleware:
    """Refuse NUL characters before they reach PostgreSQL, which cannot store them in text.

    A NUL in the path or the query string gets a 400 page (forms reject it in their own fields with a
    message, so POST bodies are left to them). A cookie carrying one is dropped, as if it had not been sent:
    no browser makes such a cookie, and the session lookup would otherwise fail on it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info or any(
            NUL in item for key, values in request.GET.lists() for item in (key, *values)
        ):
            # Answered here rather than raised: a raised BadRequest is logged with a traceback, which
            # would let anyone fill the logs with a few bytes of URL.
            return bad_request(request, BadRequest("NUL character in the URL"))
        if any(NUL in value for value in request.COOKIES.values()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items() if NUL not in value}
        return self.get_response(request)


class AdminTimeZoneMiddleware:
    """Staff read and enter the admin's times in their own time zone: the one their account's settings name.

    Only in the admin. The site's pages are wrapped in the reader's zone by base.html (the context processor
    ``config.context_processors.reader_zone``), so a page served from the cache never loads its reader.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ADMIN_PREFIX) and request.user.is_authenticated and request.user.is_staff:
            with timezone.override(request.user.zone):
                return self.get_response(request)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that fails because the database cannot be reached answers 503 (see config.views), not 500.

    Django's health checks (``conn_health_checks``) replace a broken persistent connection at the start of
    the next request, so the process serves again as soon as the database is back, without a restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UNAVAILABLE_ERRORS):
            return database_unavailable(request, exception)
        return None


class QueryCounter:
    """Counts the queries run on the default connection (works with DEBUG off, unlike connection.queries)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestLogMiddleware:
    """One line per request: ``method=GET path=/courses/x/ status=200 ms=12.3 queries=4``.

    First in MIDDLEWARE, so it times the whole stack and sees every answer (static files and error pages too).
    The path only: query strings can carry tokens and e-mail addresses. It is percent-encoded, so the line
    holds no spaces or line breaks whatever was asked for. The cost is a clock read, a counter per query and
    one log call.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        log_fields(
            request_logger,
            {
                "method": quote(request.method or "", safe=""),
                "path": quote(request.path, safe="/:@!$&'()*+,;=-._~"),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "queries": queries.count,
            },
        )
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, without collectstatic's manifest (staticfiles.json): a map of every static file to its hashed
    name is of no use to a browser and lists the site's files for anyone who asks. nginx refuses it too
    (deploy/nginx/stream.conf, ops/cluster.nginx.conf)."""

    def add_file_to_dictionary(self, url, path, stat_cache=None):
        if url == self.static_prefix + ManifestFilesMixin.manifest_name:
            return
        super().add_file_to_dictionary(url, path, stat_cache=stat_cache)
