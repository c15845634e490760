import io
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


def test_english_is_the_default(client):
    text = client.get("/").text
    assert '<html lang="en">' in text
    assert "Courses" in text


def test_korean_is_chosen_from_the_browser(client):
    text = client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9").text
    assert '<html lang="ko">' in text
    assert "강의" in text


def test_the_language_switch_is_remembered_in_a_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ko"
    assert '<html lang="ko">' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="ko").text


def test_lesson_page_in_korean(client):
    LessonFactory(course__slug="asyncio", slug="one", minutes=22)
    text = client.get("/courses/asyncio/one/", HTTP_ACCEPT_LANGUAGE="ko").text
    assert "~22분" in text
    assert "전체 01강 중 01강" in text


def test_sign_in_page_in_korean(client):
    text = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko").text
    assert "로그인" in text


BASE_DIR = Path(__file__).resolve().parents[2]
KOREAN_CATALOG = BASE_DIR / "locale" / "ko" / "LC_MESSAGES" / "django.po"
SOURCE_FOLDERS = ["accounts", "comments", "config", "courses", "progress", "templates"]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def korean_catalog():
    with KOREAN_CATALOG.open("rb") as po:
        return read_po(po)


def messages_in_the_sources():
    """Every translatable message of our code and templates, found as makemessages finds them.

    Templates go through Django's own templatize() (what makemessages feeds to xgettext) and then Babel's
    Python extractor, so the check needs no GNU gettext on the machine.
    """
    for path in sorted(path for folder in SOURCE_FOLDERS for path in (BASE_DIR / folder).rglob("*")):
        if "migrations" in path.parts or path.suffix not in {".py", ".html", ".txt"}:
            continue
        source = path.read_text(encoding="utf-8")
        if path.suffix != ".py":
            # templatize() keeps the template's indentation, which Python's tokenizer refuses (xgettext does not).
            source = "\n".join(line.lstrip() for line in templatize(source, origin=str(path)).splitlines())
        for _, message, _, context in extract("python", io.BytesIO(source.encode()), keywords=KEYWORDS):
            yield path.relative_to(BASE_DIR), message, context


def test_every_message_in_the_code_and_templates_is_in_the_korean_catalog():
    """A string wrapped for translation but never added to locale/ko would show in English to Korean readers."""
    catalog = korean_catalog()
    missing = []
    for path, message, context in messages_in_the_sources():
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and catalog.get(msgid, context=context) is None:
            missing.append(f"{path}: {msgid!r}")
    assert missing == []


def test_every_korean_message_is_translated():
    catalog = korean_catalog()
    missing = [
        message.id
        for message in catalog
        if message.id
        and (message.fuzzy or not all(message.string if isinstance(message.string, tuple) else [message.string]))
    ]
    assert missing == []


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_message_catalogue_is_a_well_formed_po_file(language):
    """Review finding: merges left three msgids without a msgstr (en) and a stray msgstr (ko).

    Babel compiles such files with warnings, but GNU gettext refuses them, so `makemessages` (msgmerge)
    stops with "missing 'msgstr' section" / "syntax error" and the catalogues cannot be updated.
    """
    path = Path(__file__).resolve().parents[2] / "locale" / language / "LC_MESSAGES" / "django.po"
    with path.open("rb") as po:
        read_po(po, abort_invalid=True)
    lines = path.read_text(encoding="utf-8").splitlines()
    count = {keyword: sum(line.startswith(f"{keyword} ") for line in lines) for keyword in ("msgid", "msgstr")}
    plurals = sum(line.startswith("msgid_plural ") for line in lines)
    assert count["msgid"] == count["msgstr"] + plurals, "every msgid has exactly one msgstr"
