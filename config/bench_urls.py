"""The URLs of ``make bench-http``'s servers: the site's own, plus the bench's (``config.bench``)."""

from django.urls import path

from config import bench
from config.urls import handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler500", "urlpatterns"]

urlpatterns = [
    path("bench/bare/", bench.bare),
    path("bench/page-cache/", bench.page_cache),
    *site_urlpatterns,
]
