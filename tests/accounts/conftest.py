import signal
import socket

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
