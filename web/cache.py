"""Django's RedisCache, made to degrade instead of failing the request when Redis is unreachable.

The cache holds rendered pages, their versions and the rate limits (allauth's, which ours use too). None of it
is worth a 500 page: while Redis is down, reads miss and writes are dropped, and the log says so once every
``WARN_EVERY`` seconds per process, then once when it is back. The rate limits alone fail closed: their keys
(``RATE_LIMIT_PREFIX``) go to the database's cache table (the ``FALLBACK_CACHE`` alias) while Redis is away,
so a stalled Redis never switches a limit off. Sessions are in the database only (settings.SESSION_ENGINE).

After a failure the next ``RETRY_AFTER`` seconds do not ask Redis at all, so a Redis whose host drops
packets (where each attempt waits for the connect timeout) costs one timeout per process every few seconds,
not one per cache call.

A dropped write leaves Redis holding an old value: a session ended during the outage (sign-out, password
change) would come back from its cached copy. So the keys of dropped writes are remembered and deleted when
Redis answers again; past ``MAX_DROPPED_KEYS`` of them the whole cache is cleared instead.

Django's RedisCacheClient also builds a new ``redis.Redis`` for every operation, which costs about 0.2 ms
(its response callbacks are set up each time): more than a round trip to Redis. A ``redis.Redis`` is safe
to share between threads, so ours keeps one per connection pool.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

REDIS_ERRORS = (ConnectionError, TimeoutError)
RETRY_AFTER = 2.0  # seconds without asking Redis after it failed
WARN_EVERY = 60.0  # seconds between two warnings while Redis stays down
MAX_DROPPED_KEYS = 10_000
# allauth's rate-limit histories and their locks (allauth.core.internal.ratelimit), kept in the database's
# cache table while Redis is unreachable: the alias of that cache in settings.CACHES.
RATE_LIMIT_PREFIX = "allauth:rl:"
FALLBACK_CACHE = "database"


class RedisHealth:
    """What this process knows of Redis; shared by the cache objects of all its threads."""

    def __init__(self) -> None:
        self.down = False
        self.retry_at = 0.0
        self.warned_at = -WARN_EVERY
        self.dropped: set[str] = set()
        self.overflowed = False
        self.lock = threading.Lock()

    def available(self) -> bool:
        return not self.down or time.monotonic() >= self.retry_at

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.down = True
            self.retry_at = now + RETRY_AFTER
            warn = now - self.warned_at >= WARN_EVERY
            if warn:
                self.warned_at = now
        if warn:
            logger.warning(
                "Redis is unreachable (%s: %s): the cache is bypassed (reads miss, writes are dropped, rate "
                "limits are kept in the database) until it answers again.",
                type(error).__name__,
                error,
            )

    def drop(self, keys: Iterable[str]) -> None:
        with self.lock:
            if not self.overflowed:
                self.dropped.update(keys)
                if len(self.dropped) > MAX_DROPPED_KEYS:
                    self.overflowed, self.dropped = True, set()

    def dropped_writes(self) -> tuple[list[str], bool]:
        """The keys whose writes were dropped, and whether there were too many to list."""
        with self.lock:
            return list(self.dropped), self.overflowed

    def answered(self, forgotten: list[str]) -> bool:
        """Redis answered again and the ``forgotten`` keys are gone from it; True if it was down until now."""
        with self.lock:
            if not self.down:
                return False
            self.dropped.difference_update(forgotten)
            self.down, self.overflowed, self.warned_at = False, False, -WARN_EVERY
        return True


health = RedisHealth()

MISSING = object()


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool instead of one per operation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """RedisCache whose operations answer as if the cache were empty while Redis is unreachable."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _call(
        self,
        operation: Callable[[], Any],
        fallback: Any,
        *,
        writes: Iterable[Any] = (),
        version=None,
        instead: Callable[[], Any] | None = None,
    ):
        """``operation`` on Redis; while it is unreachable, ``instead()`` if given, else ``fallback``."""
        if health.available():
            recovering = health.down
            try:
                if recovering:
                    # Before the first read, so a stale value is never served (see the module's docstring).
                    stale, cleared = self._delete_dropped_writes()
                result = operation()
            except REDIS_ERRORS as error:
                health.failed(error)
            else:
                if recovering and health.answered(stale):
                    logger.info(
                        "Redis answers again: the cache is in use (%s).",
                        "cleared: too many writes were dropped"
                        if cleared
                        else f"{len(stale)} key(s) written during the outage deleted",
                    )
                return result
        if instead is not None:
            return instead()
        if writes:
            health.drop(self.make_and_validate_key(key, version=version) for key in writes)
        return fallback

    def _delete_dropped_writes(self) -> tuple[list[str], bool]:
        stale, clear_all = health.dropped_writes()
        if clear_all:
            self._cache.clear()
        elif stale:
            self._cache.delete_many(stale)
        return stale, clear_all

    def _in_database(self, key, method: str, *args) -> Callable[[], Any] | None:
        """For a rate limit's key, the same operation on the database's cache, if settings.CACHES has one."""
        if not (isinstance(key, str) and key.startswith(RATE_LIMIT_PREFIX)) or FALLBACK_CACHE not in settings.CACHES:
            return None
        return partial(getattr(caches[FALLBACK_CACHE], method), key, *args)

    def get(self, key, default=None, version=None):
        instead = self._in_database(key, "get", default, version)
        return self._call(partial(super().get, key, default, version), default, instead=instead)

    def get_many(self, keys, version=None):
        return self._call(partial(super().get_many, keys, version), {})

    def has_key(self, key, version=None):
        return self._call(partial(super().has_key, key, version), False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # True, as if the key was free: allauth takes its rate-limit lock with add() and, refused it for a
        # second, answers 429 to everyone.
        instead = self._in_database(key, "add", value, timeout, version)
        return self._call(
            partial(super().add, key, value, timeout, version), True, writes=[key], version=version, instead=instead
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        instead = self._in_database(key, "set", value, timeout, version)
        return self._call(
            partial(super().set, key, value, timeout, version), None, writes=[key], version=version, instead=instead
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Returns the keys that were not stored: while Redis is down, all of them.
        keys = list(data)
        return self._call(partial(super().set_many, data, timeout, version), keys, writes=keys, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(partial(super().touch, key, timeout, version), False, writes=[key], version=version)

    def delete(self, key, version=None):
        instead = self._in_database(key, "delete", version)
        return self._call(partial(super().delete, key, version), False, writes=[key], version=version, instead=instead)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call(partial(super().delete_many, keys, version), None, writes=keys, version=version)

    def incr(self, key, delta=1, version=None):
        result = self._call(partial(super().incr, key, delta, version), MISSING, writes=[key], version=version)
        if result is MISSING:
            # A missing key is a ValueError for every Django cache: while Redis is down, every key is missing.
            raise ValueError(f"Key '{key}' not found (Redis is unreachable).")
        return result

    def clear(self):
        return self._call(super().clear, False)
