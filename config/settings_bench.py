"""The settings of ``make bench-http``'s servers (scripts/bench_http.py sets DJANGO_SETTINGS_MODULE to this).

Production's settings, plus the bench's URLs and a cache that counts the page cache's lookups (``config.bench``).
The bench always runs with Redis (REDIS_URL), whose backend ``PageCountingCache`` extends.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import CACHES

if CACHES["default"]["BACKEND"] != "web.cache.ResilientRedisCache":
    raise ImproperlyConfigured("The HTTP bench counts the page cache in Redis: set REDIS_URL.")

ROOT_URLCONF = "config.bench_urls"
CACHES = {**CACHES, "default": {**CACHES["default"], "BACKEND": "config.bench.PageCountingCache"}}
