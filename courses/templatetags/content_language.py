from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language_info

from courses.models import Course

register = template.Library()


@register.simple_tag
def content_lang(course: Course) -> SafeString:
    """`lang` and `dir` for an element that shows a course's own text (titles, summaries, lessons).

    The page's `<html lang>` is the reader's interface language; a course may be written in
    another, and screen readers and browsers (hyphenation, fonts, line breaking) need to know.
    """
    direction = "rtl" if get_language_info(course.language)["bidi"] else "ltr"
    return format_html('lang="{}" dir="{}"', course.language, direction)
