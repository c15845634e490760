import time

from django.core.mail.backends.locmem import EmailBackend


class SlowEmailBackend(EmailBackend):
    """Django's test outbox, behind a mail server that takes half a second per message."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)
