"""What a page tells feed readers and link previews: absolute URLs and the site's name."""

from django import template
from django.conf import settings

from web.absolute_urls import absolute_url

register = template.Library()


@register.filter
def absolute(path: str) -> str:
    """``{{ lesson.get_absolute_url|absolute }}``: the full URL on the configured domain (SITE_DOMAIN)."""
    return absolute_url(path)


@register.simple_tag
def site_name() -> str:
    return settings.SITE_NAME
