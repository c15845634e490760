from django.conf import settings

from config.static import pyodide_path


def pyodide(request) -> dict[str, str]:
    """``pyodide_index_url``: the URL of Pyodide's folder, ending in ``/``, for ``loadPyodide({indexURL})``.

    Not a hashed name: Pyodide asks for its files by fixed names under it (config/static.py).
    """
    return {"pyodide_index_url": f"{settings.STATIC_URL}{pyodide_path()}"}
