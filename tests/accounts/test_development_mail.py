"""In development, account e-mail is printed readably and kept on disk for a staff-only inbox."""

import re

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "a long passphrase 42"


@pytest.fixture
def development_mail(settings, tmp_path):
    settings.DEBUG = True
    settings.MAILERS = {
        "default": {"BACKEND": "accounts.mail.DevelopmentEmailBackend", "OPTIONS": {"file_path": tmp_path}}
    }
    return tmp_path


def sign_up_in_korean(client, deliver_mail) -> None:
    client.post(
        "/accounts/signup/",
        {"email": "ada@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    client.cookies.clear()
    deliver_mail()


def test_the_terminal_shows_readable_korean_and_whole_links(client, deliver_mail, development_mail, capsys):
    """Regression: the console showed base64 (Korean) or quoted-printable (English) bodies."""
    sign_up_in_korean(client, deliver_mail)

    printed = capsys.readouterr().out
    assert "Subject: [Stream] 이메일 주소를 확인해 주세요" in printed
    assert "안녕하세요, Stream입니다!" in printed
    assert re.search(r"^http://testserver/accounts/confirm-email/[\w:-]+/$", printed, re.MULTILINE)
    assert "base64" not in printed and "=\n" not in printed
    assert len(list(development_mail.glob("*.eml"))) == 1


def test_staff_read_the_kept_mail_with_clickable_links(client, deliver_mail, development_mail, staff):
    sign_up_in_korean(client, deliver_mail)
    client.force_login(staff)

    inbox = client.get("/dev/mail/", HTTP_ACCEPT_LANGUAGE="en")
    assert inbox.status_code == 200
    assert "[Stream] 이메일 주소를 확인해 주세요" in inbox.text
    message_url = re.search(r'href="(/dev/mail/[\w-]+/)"', inbox.text)[1]

    message = client.get(message_url).text
    assert "ada@example.com" in message
    link = re.search(r'<a href="(http://testserver/accounts/confirm-email/[\w:-]+/)"', message)[1]
    client.logout()
    assert "ada@example.com" in client.get(link.removeprefix("http://testserver")).text


def test_the_inbox_is_for_staff_in_development_only(client, learner, staff, development_mail, settings):
    assert client.get("/dev/mail/").status_code == 404
    client.force_login(learner)
    assert client.get("/dev/mail/").status_code == 404
    client.force_login(staff)
    assert client.get("/dev/mail/").status_code == 200
    assert client.get("/dev/mail/20990101-000000-nothing/").status_code == 404
    settings.DEBUG = False
    assert client.get("/dev/mail/").status_code == 404
    settings.DEBUG = True
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert client.get("/dev/mail/").status_code == 404


def keep(folder, name: str, subject: str, date: str) -> None:
    """A message as the development backend keeps it."""
    folder.joinpath(f"{name}.eml").write_text(
        f"Subject: {subject}\nTo: ada@example.com\nDate: {date}\nContent-Type: text/plain\n\nBody\n"
    )


def test_the_inbox_lists_the_newest_mail_first_with_when_it_was_sent(client, staff, development_mail):
    client.force_login(staff)
    assert "No e-mails yet." in client.get("/dev/mail/").text

    keep(development_mail, "20250101-090000-aaaaaaaaaaaa", "Older", "Wed, 01 Jan 2025 09:00:00 +0000")
    keep(development_mail, "20250302-090000-bbbbbbbbbbbb", "Newer", "Sun, 02 Mar 2025 09:00:00 +0000")
    inbox = client.get("/dev/mail/").text
    assert re.findall(r'<a href="/dev/mail/[\w-]+/">(\w+)</a>', inbox) == ["Newer", "Older"]
    assert '<time datetime="2025-03-02T09:00:00+00:00">' in inbox
    assert '<time datetime="2025-03-02T09:00:00+00:00">' in client.get("/dev/mail/20250302-090000-bbbbbbbbbbbb/").text
