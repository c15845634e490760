"""Rendered pages kept in the shared cache, and the numbers that make them stale.

Rendering a lesson page costs milliseconds (a page with 200 comments, hundreds); answering it from
the shared cache costs one round trip. ``cached_page`` keeps each (path, language, reader) rendered:
one copy for every visitor who is not signed in (answered without touching the database or the
session), one per signed-in reader (found from their session, without loading the user).

Freshness: an entry is served only while its versions are what they were when it was rendered. What
changes which version (the signal handlers in ``config.apps``, and the bulk updates' own calls):

==========================  ==================================================  =========================
version                     bumped by                                           makes stale
==========================  ==================================================  =========================
content generation          courses, lessons, tags, links, levels, achievements every page, every reader
                            (their saves, deletes, publishing), a deleted
                            account (its name on comments)
lesson version (per lesson) its comments: posted, edited, deleted, hidden,      that lesson's page, every
                            restored                                            reader
reader version (per reader) their progress (``progress.services.lock_progress``, that reader's pages
                            which every write of it takes), notifications,
                            certificates, account, addresses, follows, bans
==========================  ==================================================  =========================

Each is bumped at once and again when the transaction commits, since a page rendered between the
two saw the data before the commit. What changes without a write (a comment's "5 minutes ago", the
level badges of comment authors, a day's turn for the streak, a scheduled lesson's publication) is at
most ``settings.PAGE_CACHE_SECONDS`` old (60; 0, the default with DEBUG on, keeps no copies).

CSRF: the pages hold forms. They are rendered with ``csrf_placeholder()`` for the token, and each
response carries the reader's own token in its place. The placeholder is derived from SECRET_KEY, so
no one can write it into a comment to have it replaced by a reader's token. The same way, each form's
submission key (``{% submission_key %}``, which makes a retried post store once) is a placeholder in the
kept copy and a new random key in every copy sent.
"""

import hashlib
import logging
import time
import uuid
from functools import cache, partial, wraps

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache as shared_cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils.cache import get_conditional_response
from django.utils.crypto import salted_hmac
from django.utils.http import quote_etag
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

GENERATION_KEY = "content-generation"


@cache
def csrf_placeholder() -> str:
    return "csrf" + salted_hmac("web.page_cache", "csrf placeholder", algorithm="sha256").hexdigest()


@cache
def submission_placeholder() -> str:
    return salted_hmac("web.page_cache", "submission placeholder", algorithm="sha256").hexdigest()[:32]


def with_submission_keys(content: bytes) -> bytes:
    """``content`` with each submission placeholder replaced by a key of its own (a form's)."""
    placeholder = submission_placeholder().encode()
    if placeholder not in content:
        return content
    *forms, rest = content.split(placeholder)
    return b"".join(form + uuid.uuid4().hex.encode() for form in forms) + rest


def reader_key(user_id: int | str) -> str:
    return f"reader-version:{user_id}"


def lesson_key(course_slug: str, lesson_slug: str) -> str:
    """A lesson page's own version, named from its URL so that a request finds it without a query."""
    return f"lesson-version:{course_slug}/{lesson_slug}"


def lesson_versions(*, course: str, lesson: str) -> list[str]:
    """The lesson page's own version keys, from its URL's arguments (``cached_page(versions=…)``)."""
    return [lesson_key(course, lesson)]


def current_version(key: str) -> int:
    """The version kept at ``key`` (set afresh when the cache has lost it)."""
    version = shared_cache.get(key)
    if version is None:
        shared_cache.add(key, time.time_ns(), timeout=None)
        version = shared_cache.get(key, 0)
    return version


def _bump(*keys: str) -> None:
    """A new version at each of ``keys``: now, and again when the current transaction commits."""

    def bump() -> None:
        try:
            for key in keys:  # one or two keys: plain SETs, no pipeline
                shared_cache.set(key, time.time_ns(), timeout=None)
        except Exception:  # a write must never fail for its cache: the pages are then at most PAGE_CACHE_SECONDS old
            logger.warning("Could not mark cached pages stale (%s).", ", ".join(keys), exc_info=True)

    if keys:
        bump()
        transaction.on_commit(bump)


def bump_reader(*user_ids: int) -> None:
    """Make the cached pages of these signed-in readers stale (see the module's doc)."""
    _bump(*(reader_key(user_id) for user_id in set(user_ids) if user_id is not None))


def bump_lessons(*lessons) -> None:
    """Make the cached pages of these lessons stale for every reader: their comment sections changed."""
    _bump(*{lesson_key(lesson.course.slug, lesson.slug) for lesson in lessons})


def bump_content_generation(**signal_arguments) -> None:
    """Make every cached page stale: now, and again when the current transaction commits.

    The second time because a page rendered between the two saw the data before the commit.
    (It takes and ignores a signal's arguments, to be connected as a receiver.)
    """
    _bump(GENERATION_KEY)


def kept(key: str) -> tuple[object | None, int]:
    """The value kept at ``key`` while the content generation is the one it was made in (None after a change), and
    the generation now: one round trip. Made for what is the same for every reader (``keep``)."""
    found = shared_cache.get_many([GENERATION_KEY, key])
    generation, entry = found.get(GENERATION_KEY), found.get(key)
    if entry is not None and generation is not None and entry["generation"] == generation:
        return entry["value"], generation
    return None, generation or current_version(GENERATION_KEY)


def keep(key: str, value, *, generation: int, seconds: float) -> None:
    """Keep ``value``, made in content ``generation`` (``kept``'s answer before it was made), for ``seconds`` at most.

    A change that came while it was being made has bumped the generation already, so the copy is stale at once.
    """
    if seconds > 0:
        shared_cache.set(key, {"generation": generation, "value": value}, timeout=max(1, int(seconds)))


def with_csrf_token(request, content: bytes) -> bytes:
    placeholder = csrf_placeholder().encode()
    if placeholder not in content:
        return content
    return content.replace(placeholder, get_token(request).encode())


def render_with_placeholder(response: TemplateResponse) -> bytes:
    """Render ``response`` with the placeholders for the CSRF token and the forms' submission keys; returns the
    content as rendered."""
    response.context_data = {
        **(response.context_data or {}),
        "csrf_token": csrf_placeholder(),
        "submission_key": submission_placeholder(),
    }
    response.render()
    return response.content


def may_use_copy(request) -> bool:
    """Whether this request may be answered from a kept copy, and its page kept: a GET or HEAD with no query string
    but ``?page=``, and no message waiting to be shown (messages live in their cookie, which also says when more
    wait in the session)."""
    return (
        request.method in {"GET", "HEAD"} and not set(request.GET) - {"page"} and not request.COOKIES.get("messages")
    )


def reader_of(request) -> tuple[str, str] | None:
    """Whose copy of the page this request gets: None for anyone not signed in, else the signed-in reader's
    (id, session hash).

    Read from the session alone, without loading the user (the request is then answered without a query).
    A change to the account (a new password, deactivation) bumps the reader's version, so a session it
    ended finds no fresh copy: its next request loads the user, is found signed out, and whatever it renders
    is for no one. Copies are kept under the session's hash of the password, so a new session's copy is
    never an old session's. Without a session cookie nobody is signed in, and the session is not even loaded.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user_id = request.session.get(SESSION_KEY)
    return (str(user_id), request.session.get(HASH_SESSION_KEY, "")) if user_id is not None else None


def page_key(request, reader: tuple[str, str] | None) -> str:
    parts = [request.get_full_path(), *(reader or ())]
    digest = hashlib.sha256("\n".join(parts).encode(errors="replace")).hexdigest()
    return f"page:{get_language()}:{reader[0] if reader else 0}:{digest}"


def etag_for(request, body_etag: str) -> str:
    """The page's ETag for this reader: their copy holds their CSRF token, so a new token is a new ETag."""
    token = request.META.get("CSRF_COOKIE", "")
    return quote_etag(f"{body_etag}-{hashlib.sha256(token.encode()).hexdigest()[:12]}")


def respond(request, entry: dict) -> HttpResponse:
    # with_csrf_token also sets the CSRF cookie where there was none.
    content = with_submission_keys(with_csrf_token(request, entry["body"]))
    etag = etag_for(request, entry["etag"])
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        content, content_type=entry["content_type"]
    )
    response["ETag"] = etag
    # The browser keeps it and asks again each time; the 304 costs no rendering and no transfer.
    response["Cache-Control"] = "private, no-cache"
    return response


def cached_page(view=None, *, versions=None):
    """Answer ``view``'s page from the shared cache while it is fresh (see the module's doc).

    ``versions(**url_arguments)`` names the page's own version keys beside the content generation and the
    reader's (``lesson_versions``). The view must return a TemplateResponse; anything but a 200 is passed on
    as it is, and not kept.
    """
    if view is None:
        return partial(cached_page, versions=versions)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.PAGE_CACHE_SECONDS or not may_use_copy(request):
            return view(request, *args, **kwargs)
        reader = reader_of(request)
        key = page_key(request, reader)
        version_keys = [GENERATION_KEY, *(versions(**kwargs) if versions else [])]
        version_keys += [reader_key(reader[0])] if reader else []
        found = shared_cache.get_many([*version_keys, key])  # one round trip for all
        entry = found.get(key)
        now = [found.get(version_key) for version_key in version_keys]
        if entry is not None and None not in now and entry["versions"] == now:
            return respond(request, entry)
        now = [found.get(version_key) or current_version(version_key) for version_key in version_keys]
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or not isinstance(response, TemplateResponse):
            return response
        body = render_with_placeholder(response)
        entry = {
            "versions": now,
            "body": body,
            "etag": hashlib.sha256(body).hexdigest()[:20],
            "content_type": response["Content-Type"],
        }
        shared_cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
        return respond(request, entry)

    return wrapped


# A copy for every reader is kept at most this long when nothing says when it goes stale sooner.
SHARED_COPY_SECONDS = 24 * 60 * 60


def shared_copy(view=None, *, params: tuple[str, ...] = (), fresh_for=None):
    """Answer ``view`` from one copy for every reader, made once per content change (``kept``, ``keep``).

    For a response that holds nothing of the reader's, not their language or a CSRF token (the sitemap). The
    copy is named by the path and the query parameters in ``params`` alone, so no other parameter makes it be
    made again. ``fresh_for()`` is how many seconds it may be kept (a change due without a write: a scheduled
    publication), or None for ``SHARED_COPY_SECONDS``. Only a 200 is kept; none while PAGE_CACHE_SECONDS is 0.
    """
    if view is None:
        return partial(shared_copy, params=params, fresh_for=fresh_for)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.PAGE_CACHE_SECONDS or request.method not in {"GET", "HEAD"}:
            return view(request, *args, **kwargs)
        named = "\n".join([request.path, *(f"{name}={request.GET.get(name, '')}" for name in params)])
        key = f"shared:{hashlib.sha256(named.encode(errors='replace')).hexdigest()}"
        entry, generation = kept(key)
        if entry is None:
            response = view(request, *args, **kwargs)
            if response.status_code != 200:
                return response
            if isinstance(response, TemplateResponse):
                response.render()
            entry = {"body": response.content, "headers": dict(response.headers)}
            seconds = fresh_for() if fresh_for else None
            keep(key, entry, generation=generation, seconds=SHARED_COPY_SECONDS if seconds is None else seconds)
        response = HttpResponse(entry["body"])
        for header, value in entry["headers"].items():
            response[header] = value
        return response

    return wrapped
