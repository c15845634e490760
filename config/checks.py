import os

from django.conf import settings
from django.core.checks import Warning, register


@register()
def production_database(app_configs, **kwargs) -> list[Warning]:
    """With DEBUG off, running on the embedded development database is almost certainly a mistake."""
    if settings.DEBUG or os.environ.get("DATABASE_URL"):
        return []
    return [
        Warning(
            "DEBUG is off but DATABASE_URL is not set: Stream is using the embedded development database in .pgdata/.",
            hint="Set DATABASE_URL to your production PostgreSQL server.",
            id="stream.W001",
        )
    ]


@register()
def pyodide_files(app_configs, **kwargs) -> list[Warning]:
    """Without Pyodide's files, Run on a lesson's Python blocks has nothing to load (and collectstatic misses them)."""
    from ops import pyodide

    folder = pyodide.FOLDER / pyodide.VERSION
    missing = [name for name in pyodide.FILES if not (folder / name).is_file()]
    if not missing:
        return []
    return [
        Warning(
            f"Pyodide {pyodide.VERSION} is missing from {folder} ({', '.join(missing)}).",
            hint="Run `make install` (or `python -m ops.pyodide`), which fetches and checks them.",
            id="stream.W002",
        )
    ]


@register()
def npm_asset_files(app_configs, **kwargs) -> list[Warning]:
    """Without the npm packages of package-lock.json, the lesson form's code editors fall back to text boxes."""
    from ops import npm_assets

    try:
        packages = npm_assets.locked_packages()
    except npm_assets.FetchError as error:
        return [Warning(str(error), id="stream.W003")]
    if npm_assets.is_installed(packages, npm_assets.CACHE):
        return []
    return [
        Warning(
            f"The browser's npm packages are missing or changed in {npm_assets.FOLDER}.",
            hint="Run `make install` (or `python -m ops.npm_assets`), which fetches and checks them.",
            id="stream.W003",
        )
    ]
