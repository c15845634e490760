from django.conf import settings
from django.utils import timezone

from config.static import pyodide_path


def pyodide(request) -> dict[str, str]:
    """``pyodide_index_url``: the URL of Pyodide's folder, ending in ``/``, for ``loadPyodide({indexURL})``.

    Not a hashed name: Pyodide asks for its files by fixed names under it (config/static.py).
    """
    return {"pyodide_index_url": f"{settings.STATIC_URL}{pyodide_path()}"}


def reader_zone(request) -> dict:
    """``reader_zone``: the signed-in reader's time zone (their account's setting), else the site's; base.html
    shows the page's times in it. Read when a page is rendered, so a page served from the cache loads nobody.
    (A page rendered without the context processors, such as an error page, is in UTC.)"""

    def zone():
        user = getattr(request, "user", None)
        return user.zone if user is not None and user.is_authenticated else timezone.get_default_timezone()

    return {"reader_zone": zone}  # a template calls it when it reads it
