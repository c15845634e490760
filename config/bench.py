"""What ``make bench-http`` (scripts/bench_http.py) adds to the site it measures; production never loads it.

Its servers run with ``config.settings_bench``: production's settings, routing ``config.bench_urls`` (the
site's URLs plus these views) and counting the page cache's work with ``PageCountingCache``. Neither
``config.settings`` nor ``config.urls`` names this module, so a production server cannot route these views
(``tests/config/test_bench_urls.py``).
"""

from django.http import HttpResponse, JsonResponse

from web.cache import ResilientRedisCache

# This process's page-cache work: copies looked up, and copies stored (each one a page rendered afresh).
page_cache_counts = {"lookups": 0, "renders": 0}


def is_page_key(key) -> bool:
    return isinstance(key, str) and key.startswith("page:")  # web.page_cache.page_key


class PageCountingCache(ResilientRedisCache):
    """The production cache, counting in this process (no extra round trip) what ``web.page_cache`` asks of it:
    each lookup of a page's copy (one ``get_many`` per request of a cached page) and each copy stored (a page
    that was not fresh in the cache, rendered)."""

    def get_many(self, keys, version=None):
        keys = list(keys)
        page_cache_counts["lookups"] += sum(map(is_page_key, keys))
        return super().get_many(keys, version)

    def set(self, key, *args, **kwargs):
        page_cache_counts["renders"] += is_page_key(key)
        return super().set(key, *args, **kwargs)


def bare(request) -> HttpResponse:
    """Nothing but bytes, through the site's middleware: the yardstick of the bench's pages."""
    return HttpResponse(b"ok")


def page_cache(request) -> JsonResponse:
    """This worker's ``page_cache_counts`` since it started."""
    return JsonResponse(page_cache_counts)
