"""Account e-mail: queued in the request, sent by the worker, kept on disk in development.

The request renders the message (so links carry the request's host and the visitor's
language) and queues it when its transaction commits (``accounts.tasks.queue_email``);
``accounts.tasks.send_email`` sends it from ``manage.py db_worker``. A mail server that is down therefore never fails a
sign-up or a password reset: the worker retries with backoff and logs what went wrong.
"""

import email.policy
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage as ParsedMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import timezone, translation

DEVELOPMENT_BACKEND = "accounts.mail.DevelopmentEmailBackend"


def unsubscribe_token(*, user_id: int, salt: str) -> str:
    """The learner's id, signed with ``salt`` (one per kind of e-mail). No timestamp: the link in an old e-mail
    keeps working (RFC 8058 asks for that), and every e-mail of a kind carries the same one."""
    return signing.Signer(salt=salt).sign_object(user_id)


def unsubscribe_user_id(token: str, *, salt: str) -> int | None:
    """The learner a token of ``unsubscribe_token`` names, or None for a token we did not sign (cut short,
    changed, or of another kind of e-mail)."""
    try:
        user_id = signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return user_id if type(user_id) is int else None


def unsubscribable_email(*, templates: str, context: dict, to: str, unsubscribe_url: str) -> EmailMultiAlternatives:
    """An e-mail a learner asked for and can stop in one click, in the active language: ``{templates}_subject.txt``
    (made one line), ``{templates}_message.txt`` and ``{templates}_message.html`` rendered with ``context``, the
    site's name, the language, the subject and ``unsubscribe_url``; with the one-click unsubscribe headers of
    RFC 8058 and marked as sent by a machine."""
    context = {
        "site_name": settings.SITE_NAME,
        "language": translation.get_language(),
        "unsubscribe_url": unsubscribe_url,
        **context,
    }
    # One line, whatever the names and titles in it hold.
    context["subject"] = " ".join(render_to_string(f"{templates}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{context['subject']}",
        body=render_to_string(f"{templates}_message.txt", context),
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Sent by a machine: vacation responders do not answer it (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"{templates}_message.html", context), "text/html")
    return message


# Headers whose value is a list of <URL>s (RFC 2369). The e-mail package folds a long header at
# 78 characters and, finding no space in a long URL, turns it into an encoded word
# ("=?utf-8?q?=3Chttps=3A//..."), which mail clients do not decode there: one-click unsubscribe
# (RFC 8058) then silently stops working. These are written on one line, as they are.
URL_LIST_HEADERS = {"list-help", "list-subscribe", "list-unsubscribe", "list-post", "list-owner", "list-archive"}


class _VerbatimHeader(str):
    """A header value that Python's e-mail package stores and writes as it is (its policies keep any value
    with a ``name`` and call its ``fold``)."""

    name: str

    def __new__(cls, name: str, value: str) -> "_VerbatimHeader":
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


class QueuedMessage(EmailMultiAlternatives):
    """A message the worker sends, with its URL-list headers unfolded (see URL_LIST_HEADERS)."""

    def message(self, *, policy=email.policy.default):
        message = super().message(policy=policy)
        for name in set(message.keys()):
            value = str(message[name])
            # ASCII on one line only: anything else keeps the package's encoding (the value was checked
            # for line breaks when it was set).
            if name.lower() in URL_LIST_HEADERS and value.isascii():
                message.replace_header(name, _VerbatimHeader(name, value))
        return message


def message_id(*, key: str, from_email: str) -> str:
    """The Message-ID of a queued e-mail: its idempotency key at the sender's domain."""
    domain = parseaddr(from_email)[1].rpartition("@")[2] or settings.SITE_DOMAIN
    return f"<{key}@{domain}>"


def build_message(
    *,
    subject: str,
    body: str,
    html: str | None,
    from_email: str,
    to: list[str],
    headers: dict[str, str],
    key: str | None = None,
) -> EmailMultiAlternatives:
    if key:
        headers = {"Message-ID": message_id(key=key, from_email=from_email)} | headers
    message = QueuedMessage(subject, body, from_email, to, headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    return message


class DevelopmentEmailBackend(BaseEmailBackend):
    """Prints each message readably and keeps it as an .eml file for the inbox at /dev/mail/.

    Django's console backend prints the wire format: quoted-printable or base64 bodies whose
    links cannot be copied. Files, not memory, because the web server and the worker are
    separate processes.
    """

    def __init__(self, *, file_path: str | Path, stream=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path)
        self.stream = stream or sys.stdout

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}"
            (self.folder / f"{name}.eml").write_bytes(message.message().as_bytes())
            self.stream.write(
                f"{'-' * 79}\n"
                f"E-mail to {', '.join(message.recipients())} (kept in {self.folder / name}.eml, "
                f"and at /dev/mail/{name}/ for staff)\n"
                f"Subject: {message.subject}\n\n{message.body}\n{'-' * 79}\n"
            )
            self.stream.flush()
        return len(email_messages)


@dataclass(frozen=True)
class StoredMessage:
    """A message the development backend kept, as the inbox shows it."""

    name: str
    subject: str
    to: str
    sent_at: datetime | None
    text: str


def development_mail_folder() -> Path | None:
    """The folder of kept messages, or None unless this is development with the development backend."""
    mailer = settings.MAILERS.get("default", {})
    if not settings.DEBUG or mailer.get("BACKEND") != DEVELOPMENT_BACKEND:
        return None
    return Path(mailer["OPTIONS"]["file_path"])


def _read(path: Path) -> StoredMessage:
    with path.open("rb") as file:
        parsed: ParsedMessage = BytesParser(policy=policy.default).parse(file)
    body = parsed.get_body(preferencelist=("plain", "html"))
    return StoredMessage(
        name=path.stem,
        subject=str(parsed["subject"] or ""),
        to=str(parsed["to"] or ""),
        sent_at=parsedate_to_datetime(parsed["date"]) if parsed["date"] else None,
        text=body.get_content() if body else "",
    )


def stored_messages(folder: Path) -> list[StoredMessage]:
    """Every kept message, newest first."""
    return [_read(path) for path in sorted(folder.glob("*.eml"), reverse=True)]


def stored_message(folder: Path, name: str) -> StoredMessage | None:
    path = folder / f"{name}.eml"
    return _read(path) if path.is_file() else None
