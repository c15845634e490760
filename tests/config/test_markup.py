"""Markup rules the Nu HTML Checker enforces, checked on the pieces every page shares."""

from html.parser import HTMLParser

import pytest

from courses.views import CATALOGUE_PAGE_SIZE
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db

# Elements that may hold phrasing content only, and elements that are never phrasing content.
PHRASING_ONLY = {"p", "span", "label", "button", "a", "em", "strong", "small", "h1", "h2", "h3", "h4", "h5", "h6"}
BLOCK = {"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset", "figure", "footer"}
BLOCK |= {"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre"}
BLOCK |= {"section", "table", "ul"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Nesting(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.misplaced: list[str] = []
        self.list_roles: list[str] = []

    def handle_starttag(self, tag, attrs):
        parent = next((open_tag for open_tag in reversed(self.stack) if open_tag in PHRASING_ONLY), None)
        if tag in BLOCK and parent:
            self.misplaced.append(f"<{tag}> inside <{parent}>")
        if tag in {"ul", "ol", "li"} and dict(attrs).get("role") in {"status", "alert", "log"}:
            self.list_roles.append(f"<{tag} role={dict(attrs)['role']}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]


def nesting(page: str) -> _Nesting:
    parser = _Nesting()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("url", ["/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"])
def test_account_forms_put_no_block_inside_a_paragraph(client, url):
    """Pins the sign-up page's password rules, a <ul>, inside the <p> of allauth's form.as_p."""
    page = client.get(url).text
    assert "<form" in page
    assert nesting(page).misplaced == []


def test_account_forms_of_a_signed_in_learner_put_no_block_inside_a_paragraph(client, learner):
    client.force_login(learner)
    for url in ["/accounts/email/", "/accounts/password/change/"]:
        assert nesting(client.get(url).text).misplaced == [], url


def test_flash_messages_are_a_status_region_around_a_plain_list(client, learner):
    """Pins role="status" on the <ul> of flash messages, a role a list may not take."""
    client.force_login(learner)
    page = client.post("/accounts/logout/", follow=True).text
    assert "You have signed out." in page
    assert '<div class="messages" role="status" id="messages">' in page
    assert nesting(page).list_roles == []


class _Landmarks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.navigation_names: list[str | None] = []
        self.ids: set[str] = set()
        self.skip_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(f"{tag}#{attrs['id']}")
        if tag == "nav":
            self.navigation_names.append(attrs.get("aria-label") or attrs.get("aria-labelledby"))
        if tag == "a" and "skip-link" in attrs.get("class", ""):
            self.skip_targets.append(attrs["href"])


@pytest.mark.parametrize("url", ["/", "/courses/asyncio/", "/courses/asyncio/two/", "/tags/asyncio/", "/?page=2"])
def test_every_navigation_is_named_apart_and_the_skip_link_reaches_the_content(client, url):
    """Screen readers list landmarks by name: two unnamed ones ("navigation", "navigation") cannot be told apart."""
    course = CourseFactory(slug="asyncio")
    for position, slug in enumerate(["one", "two", "three"], start=1):
        LessonFactory(course=course, position=position, slug=slug, body="## Start\n").tags.add(TagFactory(slug=slug))
    TagFactory(slug="asyncio").lessons.set(course.lessons.all())
    CourseFactory.create_batch(CATALOGUE_PAGE_SIZE)
    landmarks = _Landmarks()
    landmarks.feed(client.get(url).text)
    names = landmarks.navigation_names
    assert None not in names and len(set(names)) == len(names), names
    assert landmarks.skip_targets[0] == "#main" and "main#main" in landmarks.ids
    # A lesson's skip links (the exercise, Mark complete, the comments) each lead to something on the page.
    targets = {target.removeprefix("#") for target in landmarks.skip_targets}
    assert targets <= {name.split("#", 1)[1] for name in landmarks.ids}, landmarks.skip_targets


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/no-such-page/"])
def test_pages_are_laid_out_for_the_width_of_a_phone(client, url):
    """Without it a phone lays the page out 980 px wide and shrinks it: text too small to read, no reflow."""
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in client.get(url).text


def test_code_colours_follow_the_readers_colour_scheme(client):
    page = client.get("/").text
    assert (
        '<link rel="stylesheet" href="/static/css/pygments-light.css" media="(prefers-color-scheme: light)">' in page
    )
    assert '<link rel="stylesheet" href="/static/css/pygments-dark.css" media="(prefers-color-scheme: dark)">' in page
