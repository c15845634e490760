from django.urls.converters import StringConverter


class UnicodeSlugConverter(StringConverter):
    """Slugs as SlugField(allow_unicode=True) stores them ("파이썬-기초"): letters, digits, _ and -.

    Anything else (spaces, control characters, NUL) cannot name a course, lesson or tag, so it is a 404
    before any query runs.
    """

    regex = r"[-\w]+"
