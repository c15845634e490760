from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StreamConfig(AppConfig):
    """The project itself: system checks, error pages and site-wide management commands."""

    name = "config"
    verbose_name = _("Stream")

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)
