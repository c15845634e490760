import signal
import socket
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture
def deliver_mail():
    """Runs the real worker (`manage.py db_worker`) until the queue has nothing ready, like `make run` does."""

    def deliver() -> None:
        handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0)
        finally:
            # The worker installs its own Ctrl-C handling; give pytest its own back.
            for number, handler in handlers.items():
                signal.signal(number, handler)

    return deliver


@pytest.fixture
def clean_cache():
    """The database cache's table outlives transactional tests' flush: start them with no rate limits used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unreachable_smtp(settings):
    """SMTP to a local port that nothing listens on: every send fails with "connection refused"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    return port


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database the tests run on, for the site processes a test starts."""
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or settings_dict["OPTIONS"].get("host", "")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    if host.startswith("/"):  # a unix socket folder, as with the embedded server
        return f"postgresql://{user}{password}@/{settings_dict['NAME']}?host={host}"
    return f"postgresql://{user}{password}@{host}{port}/{settings_dict['NAME']}"
