import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.test import Client
from django.utils.translation.template import templatize

from comments.models import Comment
from courses.models import Lesson, LessonLink, Status
from tests.factories import CourseFactory, LessonFactory, TagFactory

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


def test_the_language_switch_names_each_language_in_itself_and_returns_to_the_page(client):
    """Each name in its own language ("한국어" read with Korean voice); the current one marked and not a button."""
    LessonFactory(course__slug="asyncio", slug="one")
    page = client.get("/courses/asyncio/one/?from=feed").text
    switch = page[page.index('<form class="language-switch"') : page.index("</form>", page.index("language-switch"))]
    assert '<span class="visually-hidden">Language</span>' in switch
    assert '<input type="hidden" name="next" value="/courses/asyncio/one/?from=feed">' in switch
    buttons = [" ".join(button.split()) for button in re.findall(r"<button [^>]*>[^<]*</button>", switch)]
    assert buttons == [
        '<button type="submit" name="language" value="en" lang="en" aria-current="true" disabled>English</button>',
        '<button type="submit" name="language" value="ko" lang="ko" >한국어</button>',
    ]


def test_the_language_choice_outlives_the_browser_session(client):
    """A cookie without an age is forgotten when the browser closes: the reader would switch again every visit."""
    cookie = client.post("/i18n/setlang/", {"language": "ko", "next": "/"}).cookies["django_language"]
    assert cookie["max-age"] == 60 * 60 * 24 * 365


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
# Every package of the site (its apps, config/, web/, worker/) and the templates; not the tests or the tools.
SOURCE_FOLDERS = [
    *sorted(
        path.name
        for path in BASE_DIR.iterdir()
        if (path / "__init__.py").exists() and path.name not in {"tests", "loadtest", "ops"}
    ),
    "templates",
]
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


# Shown as they are in every language: the site's name, and English's own name on the language switch.
NAMES = {"Stream", "English"}
# Where the interface puts words in attributes rather than in text.
WORDED_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-copy-label", "data-copied-label"}
WORDED_ATTRIBUTES |= {"data-copy-failed-label", "data-progress-failed-label"}


class _Words(HTMLParser):
    """A page's visible text and worded attributes, one string each (code is the lesson's, not the interface's)."""

    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self.in_code = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"pre", "code", "script", "style"}:
            self.in_code += 1
        self.words += [value for name, value in attrs.items() if name in WORDED_ATTRIBUTES and value]
        if tag == "meta" and attrs.get("name") == "description":
            self.words.append(attrs.get("content", ""))

    def handle_endtag(self, tag):
        if tag in {"pre", "code", "script", "style"}:
            self.in_code -= 1

    def handle_data(self, data):
        if not self.in_code and data.strip():
            self.words.append(" ".join(data.split()))


def interface_messages() -> dict[str, re.Pattern]:
    """Every English message the site translates into Korean, as a pattern that finds it in a page."""
    path = Path(__file__).resolve().parents[2] / "locale" / "ko" / "LC_MESSAGES" / "django.po"
    with path.open("rb") as po:
        catalog = read_po(po)
    patterns = {}
    for message in catalog:
        if message.string == message.id:
            continue  # the same in both languages ("XP")
        for english in message.id if isinstance(message.id, tuple) else [message.id]:
            if not english or english in NAMES:
                continue
            pieces = [re.escape(piece) for piece in re.split(r"%\(\w+\)[sd]|%[sd]", english)]
            pattern = ".+?".join(pieces)
            if re.match(r"\w", english):
                pattern = rf"\b{pattern}"
            if re.search(r"\w$", english):
                pattern = rf"{pattern}\b"
            patterns[english] = re.compile(pattern)
    return patterns


def english_left_in(page: str, patterns: dict[str, re.Pattern]) -> list[str]:
    # Time zones are named as the IANA database names them ("America/New_York"), in every language.
    page = re.sub(r'<select name="time_zone".*?</select>', "", page, flags=re.S)
    parser = _Words()
    parser.feed(page)
    return sorted(
        {english for english, pattern in patterns.items() for words in parser.words if pattern.search(words)}
    )


def test_korean_pages_show_no_english_interface_text(client, staff, learner):
    """Every string of the interface that has a Korean translation is shown in Korean, in text and in attributes."""
    course = CourseFactory(
        slug="korean", language="ko", title="파이썬 비동기", summary="요약", description="## 소개\n"
    )
    tag = TagFactory(slug="비동기", name="비동기")
    for position, slug in enumerate(["first", "second", "third"], start=1):
        lesson = LessonFactory(
            course=course,
            position=position,
            slug=slug,
            title=f"레슨 {position}",
            summary="레슨 요약",
            body="## 시작\n\n본문입니다.\n\n```python\nprint(1)\n```\n\n| 가 | 나 |\n|---|---|\n| 1 | 2 |\n",
            exercise="연습 문제입니다.",
        )
        lesson.tags.add(tag)
        LessonLink.objects.create(lesson=lesson, title="공식 문서", url="https://docs.python.org/3/")
    LessonFactory(course=course, position=4, slug="draft", title="초안", status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, position=5, slug="scheduled", title="예약", published_at="2999-01-01T00:00:00Z")
    CourseFactory(title="준비 중인 코스", summary="곧 열립니다.", status=Status.DRAFT)
    patterns = interface_messages()
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}

    def check(response_client, url: str, status: int = 200, **extra) -> None:
        response = response_client.get(url, **korean, **extra)
        assert response.status_code == status, url
        assert english_left_in(response.text, patterns) == [], url

    for url in ["/", "/courses/korean/", "/courses/korean/second/", "/tags/비동기/", "/accounts/login/"]:
        check(client, url)
    check(client, "/accounts/signup/")
    check(client, "/accounts/confirm-email/not-a-key/")
    check(client, "/accounts/resend-confirmation/")
    check(client, "/no-such-page/", status=404)
    check(client, "/courses/a%00b/", status=400)
    expired = Client(enforce_csrf_checks=True).post("/i18n/setlang/", {"language": "en"}, **korean)
    assert english_left_in(expired.text, patterns) == []

    for url in ["/leaderboard/", "/xp/"]:
        check(client, url)

    client.force_login(learner)
    for url in ["/accounts/settings/", "/courses/korean/second/", "/me/", "/leaderboard/"]:
        check(client, url)  # before any progress
    first = Lesson.objects.get(slug="first")
    completed = client.post(f"/progress/lessons/{first.pk}/complete/", follow=True, **korean)
    assert "업적 달성" in completed.text
    assert english_left_in(completed.text, patterns) == []
    for url in ["/", "/courses/korean/", "/me/", "/leaderboard/"]:
        check(client, url)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    posted = client.post(f"/comments/lessons/{first.pk}/", {"body": "질문이 있습니다"}, follow=True, **korean)
    assert english_left_in(posted.text, patterns) == []
    reply = Comment.objects.get()
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    client.force_login(staff)
    client.post(f"/comments/lessons/{first.pk}/", {"body": "답변입니다", "parent": reply.pk}, **korean)
    assert Comment.objects.count() == 2
    client.force_login(learner)
    for url in [first.get_absolute_url(), "/notifications/", f"/comments/{reply.pk}/edit/"]:
        check(client, url)
    check(client, "/admin/login/", status=403)

    client.force_login(staff)
    for url in ["/", "/courses/korean/", "/courses/korean/draft/", "/courses/korean/scheduled/"]:
        check(client, url)
