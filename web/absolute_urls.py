"""Absolute addresses on the configured site (SITE_DOMAIN), for what is read away from the site.

The sitemap, the feeds and the Open Graph tags of shared links name pages by full URL. They use the
configured domain rather than the request's Host: a crawler or a feed reader must get the site's one
canonical address, whichever name or proxy the request came through.
"""

from django.conf import settings


def site_protocol() -> str:
    """https on a real server; http in development and under HTTPS=false (`make cluster` on loopback)."""
    return "https" if getattr(settings, "HTTPS", not settings.DEBUG) else "http"


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` or ``get_absolute_url`` gives it) as a full URL on the configured domain."""
    return f"{site_protocol()}://{settings.SITE_DOMAIN}{path}"
