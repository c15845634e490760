"""Rendered pages and fragments kept in the shared cache, and the one number that makes them stale.

Public pages look the same to every visitor who is not signed in, so ``cache_for_visitors`` keeps
each (path, language) rendered in the shared cache and answers later visitors from there, without
the database: a hit costs one cache round trip. Signed-in pages keep their costly parts the same way,
with ``{% cache %}`` fragments whose keys include ``content_generation``.

Freshness: every change to what these pages show (courses, lessons, tags, comments, follows, bans)
bumps the *content generation* when its transaction commits (the signal handlers in
``config.apps``), and an entry of an older generation is never served. What changes without such a
save (a comment's "5 minutes ago", the level badges of comment authors, a scheduled lesson's
publication) is at most ``PAGE_TTL`` seconds old.

CSRF: the pages hold forms (the language switch, the completion and report forms). They are rendered
with ``CSRF_PLACEHOLDER`` for the token, and each response carries the visitor's own token in its
place. The placeholder is derived from SECRET_KEY, so no one can write it into a comment to have it
replaced by a reader's token.
"""

import hashlib
import time
from functools import cache, wraps

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils.crypto import salted_hmac
from django.utils.http import quote_etag
from django.utils.translation import get_language

PAGE_TTL = 60  # seconds
GENERATION_KEY = "content-generation"


@cache
def csrf_placeholder() -> str:
    return "csrf" + salted_hmac("config.page_cache", "csrf placeholder", algorithm="sha256").hexdigest()


def content_generation() -> int:
    """The current content generation (set afresh when the cache has lost it)."""
    generation = shared_cache.get(GENERATION_KEY)
    if generation is None:
        generation = time.time_ns()
        shared_cache.add(GENERATION_KEY, generation, timeout=None)
        generation = shared_cache.get(GENERATION_KEY, generation)
    return generation


def bump_content_generation(**signal_arguments) -> None:
    """Make every cached page and fragment stale: now, and again when the current transaction commits.

    The second time because a page rendered between the two saw the data before the commit.
    (It takes and ignores a signal's arguments, to be connected as a receiver.)
    """
    shared_cache.set(GENERATION_KEY, time.time_ns(), timeout=None)
    transaction.on_commit(lambda: shared_cache.set(GENERATION_KEY, time.time_ns(), timeout=None))


def request_generation(request) -> int:
    """The content generation read once per request (pages and fragments of one response agree)."""
    if not hasattr(request, "_content_generation"):
        request._content_generation = content_generation()
    return request._content_generation


def with_csrf_token(request, content: bytes) -> bytes:
    placeholder = csrf_placeholder().encode()
    if placeholder not in content:
        return content
    return content.replace(placeholder, get_token(request).encode())


def render_with_placeholder(response: TemplateResponse) -> bytes:
    """Render ``response`` with the CSRF placeholder for the token; returns the content as rendered."""
    response.context_data = {**(response.context_data or {}), "csrf_token": csrf_placeholder()}
    response.render()
    return response.content


def is_anonymous_visit(request) -> bool:
    """A GET from someone with no session and no pending message: surely not signed in, nothing personal."""
    return (
        request.method in {"GET", "HEAD"}
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and set(request.GET) <= {"page"}
    )


def page_key(request) -> str:
    path = request.get_full_path()
    digest = hashlib.sha256(path.encode(errors="replace")).hexdigest()
    return f"page:{get_language()}:{digest}"


def etag_for(request, body_etag: str) -> str:
    """The page's ETag for this visitor: their copy holds their CSRF token, so a new token is a new ETag."""
    token = request.META.get("CSRF_COOKIE", "")
    return quote_etag(f"{body_etag}-{hashlib.sha256(token.encode()).hexdigest()[:12]}")


def respond(request, entry: dict) -> HttpResponse:
    content = with_csrf_token(request, entry["body"])  # also sets the CSRF cookie where there was none
    etag = etag_for(request, entry["etag"])
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type=entry["content_type"])
    response["ETag"] = etag
    # The browser keeps it and asks again each time; the 304 costs no rendering and no transfer.
    response["Cache-Control"] = "private, no-cache"
    return response


def cache_for_visitors(view):
    """Serve ``view``'s page to visitors who are not signed in from the shared cache (see the module's doc).

    The view must return a TemplateResponse; anything but a 200 is passed on as it is.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_anonymous_visit(request):
            return view(request, *args, **kwargs)
        key = page_key(request)
        # One round trip for both.
        found = shared_cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        entry = found.get(key)
        if generation is not None and entry is not None and entry["generation"] == generation:
            return respond(request, entry)
        generation = request._content_generation = generation or content_generation()
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or not isinstance(response, TemplateResponse):
            return response
        body = render_with_placeholder(response)
        entry = {
            "generation": generation,
            "body": body,
            "etag": hashlib.sha256(body).hexdigest()[:20],
            "content_type": response["Content-Type"],
        }
        shared_cache.set(key, entry, timeout=PAGE_TTL)
        return respond(request, entry)

    return wrapped
