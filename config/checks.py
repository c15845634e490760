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
