"""How long browsers and proxies may keep a static file: WHITENOISE_IMMUTABLE_FILE_TEST.

Imported by config/settings.py, so Django's own modules are imported when the test first runs, not here.
"""

import posixpath
from urllib.parse import urlsplit


def pyodide_path() -> str:
    """The static name of Pyodide's folder, ``pyodide/<version>/``: loadPyodide's indexURL, relative to STATIC_URL."""
    from django.conf import settings

    return f"pyodide/{settings.PYODIDE_VERSION}/"


def immutable_file_test(path: str, url: str) -> bool:
    """Whether ``url`` may be cached for good (``Cache-Control: immutable`` and a max-age of ten years).

    Pyodide requests its files by fixed names relative to its indexURL, so they cannot carry a hash; their
    folder is named after the version, and a new version is a new folder (ops/pyodide.py). Every other file
    is immutable when its name carries a hash that the storage maps its unhashed name to, as in WhiteNoise's own
    test (WhiteNoiseMiddleware.immutable_file_test), which this setting replaces.
    """
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage

    prefix = urlsplit(settings.STATIC_URL).path
    if not url.startswith(prefix):
        return False
    name = url.removeprefix(prefix)
    if name.startswith(pyodide_path()):
        return True
    stem, extension = posixpath.splitext(name)
    unhashed = posixpath.splitext(stem)[0] + extension
    if unhashed == name:
        return False
    try:
        static_url = staticfiles_storage.url(unhashed)
    except ValueError:
        return False
    return posixpath.basename(static_url) == posixpath.basename(url)
