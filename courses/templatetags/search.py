from django import template

from courses.search import MAX_QUERY_LENGTH

register = template.Library()


@register.inclusion_tag("partials/search_box.html")
def search_box() -> dict:
    """The header's search form (every page but the search page, which has its own)."""
    return {"max_length": MAX_QUERY_LENGTH}
