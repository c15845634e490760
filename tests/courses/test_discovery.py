"""What search engines, feed readers and link previews get: /sitemap.xml, /robots.txt, the Atom feeds, Open Graph."""

import datetime
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.feeds import FEED_SIZE
from courses.models import Course, Lesson, Status
from courses.sitemaps import SiteSitemap
from tests.conftest import is_cache_query
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
DOMAIN = "learn.example.org"
ORIGIN = f"https://{DOMAIN}"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def site(settings):
    """A production-like site on its own domain: requests come in by another name (the test client's)."""
    settings.SITE_DOMAIN = DOMAIN
    settings.DEBUG = False
    settings.HTTPS = True


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.UTC)


def get_xml(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    return ET.fromstring(response.content)


def sitemap(client) -> dict[str, str]:
    """{loc: lastmod} of every <url> in /sitemap.xml, each with both elements."""
    root = get_xml(client, "/sitemap.xml")
    assert root.tag == f"{SITEMAP}urlset"
    urls = root.findall(f"{SITEMAP}url")
    assert all(url.findtext(f"{SITEMAP}loc") and url.findtext(f"{SITEMAP}lastmod") for url in urls)
    return {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in urls}


def entries(feed: ET.Element) -> list[dict[str, str]]:
    """Each <entry> of an Atom feed, with the elements RFC 4287 requires of it (and those we promise)."""
    found = []
    for entry in feed.findall(f"{ATOM}entry"):
        (link,) = entry.findall(f"{ATOM}link")
        assert link.get("rel") == "alternate"
        found.append(
            {
                "id": entry.findtext(f"{ATOM}id"),
                "title": entry.findtext(f"{ATOM}title"),
                "updated": entry.findtext(f"{ATOM}updated"),
                "published": entry.findtext(f"{ATOM}published"),
                "summary": entry.findtext(f"{ATOM}summary"),
                "link": link.get("href"),
            }
        )
        assert all(value is not None for value in found[-1].values()), found[-1]
    return found


def hidden_lessons(course: Course) -> list[Lesson]:
    """A draft, a scheduled lesson, and a published lesson of a draft course: none is public yet."""
    draft = LessonFactory(course=course, slug="draft", status=Status.DRAFT, published_at=None)
    scheduled = LessonFactory(
        course=course, slug="scheduled", published_at=timezone.now() + datetime.timedelta(days=3)
    )
    unpublished_course = LessonFactory(course=CourseFactory(slug="upcoming", status=Status.DRAFT), slug="ready")
    for lesson in (draft, scheduled, unpublished_course):
        lesson.tags.add(TagFactory(name=f"only-{lesson.slug}"))
    return [draft, scheduled, unpublished_course]


# /sitemap.xml


def test_sitemap_lists_every_published_course_lesson_and_tag_on_the_configured_domain(client):
    course = CourseFactory(slug="asyncio")
    lessons = [LessonFactory(course=course, slug=f"lesson-{n}", position=n) for n in (1, 2)]
    tag = TagFactory(name="python")
    lessons[0].tags.add(tag)
    empty_course = CourseFactory(slug="soon")
    hidden_lessons(course)

    assert set(sitemap(client)) == {
        f"{ORIGIN}/courses/asyncio/",
        f"{ORIGIN}/courses/soon/",
        f"{ORIGIN}/courses/asyncio/lesson-1/",
        f"{ORIGIN}/courses/asyncio/lesson-2/",
        f"{ORIGIN}/tags/python/",
    }
    assert empty_course.is_published()


def test_sitemap_dates_each_page_by_its_last_change(client):
    """A course changes with its lessons, a tag with its newest lesson, a scheduled lesson when it went out."""
    course = CourseFactory(slug="asyncio")
    edited = LessonFactory(course=course, slug="edited", position=1)
    went_out = LessonFactory(course=course, slug="went-out", position=2)
    edited.tags.add(TagFactory(name="python"))
    CourseFactory(slug="quiet")
    Course.objects.update(updated_at=at("2024-01-10"))
    Lesson.objects.filter(pk=edited.pk).update(published_at=at("2024-02-01"), updated_at=at("2024-03-05"))
    # Written in January, scheduled for April: it changed on the site when it was published.
    Lesson.objects.filter(pk=went_out.pk).update(published_at=at("2024-04-20"), updated_at=at("2024-01-15"))

    assert sitemap(client) == {
        f"{ORIGIN}/courses/asyncio/": "2024-04-20",
        f"{ORIGIN}/courses/quiet/": "2024-01-10",
        f"{ORIGIN}/courses/asyncio/edited/": "2024-03-05",
        f"{ORIGIN}/courses/asyncio/went-out/": "2024-04-20",
        f"{ORIGIN}/tags/python/": "2024-03-05",
    }


def test_sitemap_uses_http_where_the_site_is_served_without_tls(client, settings):
    settings.HTTPS = False  # `make cluster` on loopback
    LessonFactory(course=CourseFactory(slug="asyncio"), slug="start")
    assert f"http://{DOMAIN}/courses/asyncio/start/" in sitemap(client)


def test_a_second_sitemap_request_is_answered_from_the_cache_without_a_query(client):
    LessonFactory(course=CourseFactory(slug="asyncio"), slug="start")
    first = client.get("/sitemap.xml")

    with CaptureQueriesContext(connection) as queries:
        again = client.get("/sitemap.xml?anything=else")

    assert again.status_code == 200 and again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] and again["X-Robots-Tag"] == first["X-Robots-Tag"]
    assert [query["sql"] for query in queries if not is_cache_query(query["sql"])] == []


def test_publishing_a_lesson_changes_the_sitemap_at_once(client):
    course = CourseFactory(slug="asyncio")
    draft = LessonFactory(course=course, slug="soon", status=Status.DRAFT, published_at=None)
    assert f"{ORIGIN}/courses/asyncio/soon/" not in sitemap(client)

    draft.status, draft.published_at = Status.PUBLISHED, timezone.now()
    draft.save()

    assert f"{ORIGIN}/courses/asyncio/soon/" in sitemap(client)


def test_a_scheduled_lesson_joins_the_kept_sitemap_when_it_goes_out(client, clock, monkeypatch):
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", clock.now)  # the cache's entries age with the clock
    LessonFactory(course=CourseFactory(slug="asyncio"), slug="later", published_at=timezone.now() + HOUR)
    assert f"{ORIGIN}/courses/asyncio/later/" not in sitemap(client)

    clock.advance(hours=1, seconds=1)

    assert f"{ORIGIN}/courses/asyncio/later/" in sitemap(client)


def test_a_sitemap_over_the_protocols_limit_is_an_index_of_sections_in_pages(client, monkeypatch):
    monkeypatch.setattr(SiteSitemap, "limit", 2)  # 50,000 in production: the same split, with fewer rows
    Site.objects.filter(pk=1).update(domain=DOMAIN)  # the index names the sections on the Site's domain
    Site.objects.clear_cache()
    course = CourseFactory(slug="asyncio")
    for n in (1, 2, 3):
        LessonFactory(course=course, slug=f"lesson-{n}", position=n)

    index = get_xml(client, "/sitemap.xml")

    assert index.tag == f"{SITEMAP}sitemapindex"
    locations = [element.findtext(f"{SITEMAP}loc") for element in index.findall(f"{SITEMAP}sitemap")]
    assert locations == [
        f"{ORIGIN}/sitemap-courses.xml",
        f"{ORIGIN}/sitemap-lessons.xml",
        f"{ORIGIN}/sitemap-lessons.xml?p=2",
        f"{ORIGIN}/sitemap-tags.xml",
    ]
    pages = [get_xml(client, location.removeprefix(ORIGIN)) for location in locations[1:3]]
    lessons = [url.findtext(f"{SITEMAP}loc") for page in pages for url in page.findall(f"{SITEMAP}url")]
    assert lessons == [f"{ORIGIN}/courses/asyncio/lesson-{n}/" for n in (1, 2, 3)]
    assert client.get("/sitemap-lessons.xml?p=3").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_too_many_sitemap_requests_from_one_address_are_refused(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sitemap": "3/m/ip"}
    LessonFactory(course=CourseFactory(slug="asyncio"), slug="start")

    statuses = [client.get("/sitemap.xml").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = client.get("/sitemap-lessons.xml", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Too many sitemap requests from your address. Wait a minute, then try again." in refused.text
    assert 'class="site-header"' in refused.text
    # Another address is not refused.
    assert client.get("/sitemap.xml", REMOTE_ADDR="192.0.2.7").status_code == 200


# /robots.txt


def test_robots_txt_points_at_the_sitemap_and_keeps_private_paths_out(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow: ")}
    assert {"/admin/", "/accounts/", "/me/", "/notifications/", "/comments/", "/progress/"} <= disallowed
    assert not {"/", "/courses/", "/tags/", "/feeds/"} & disallowed
    assert f"Sitemap: {ORIGIN}/sitemap.xml" in lines


# Atom feeds


def test_site_feed_lists_published_lessons_newest_first_with_absolute_links(client):
    course = CourseFactory(slug="asyncio", title="Async IO")
    for n, day in enumerate(["2024-01-01", "2024-03-01", "2024-02-01"], start=1):
        LessonFactory(course=course, slug=f"lesson-{n}", position=n, title=f"Lesson {n}", published_at=at(day))
    hidden_lessons(course)

    feed = get_xml(client, "/feeds/lessons/")

    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "New lessons on Stream"
    assert feed.findtext(f"{ATOM}id") == f"{ORIGIN}/"
    assert feed.findtext(f"{ATOM}updated")
    assert {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")} == {
        "alternate": f"{ORIGIN}/",
        "self": f"{ORIGIN}/feeds/lessons/",
    }
    found = entries(feed)
    assert [entry["link"] for entry in found] == [
        f"{ORIGIN}/courses/asyncio/lesson-2/",
        f"{ORIGIN}/courses/asyncio/lesson-3/",
        f"{ORIGIN}/courses/asyncio/lesson-1/",
    ]
    assert found[0]["title"] == "Lesson 2 · Async IO"
    assert found[0]["published"].startswith("2024-03-01T")
    assert found[0]["id"] == found[0]["link"]


def test_feeds_are_bounded_to_the_newest_lessons(client):
    course = CourseFactory(slug="asyncio")
    lessons = [
        LessonFactory(course=course, position=n, published_at=at("2024-01-01") + datetime.timedelta(days=n))
        for n in range(FEED_SIZE + 5)
    ]
    newest = [f"{ORIGIN}{lesson.get_absolute_url()}" for lesson in reversed(lessons)][:FEED_SIZE]

    for url in ("/feeds/lessons/", "/courses/asyncio/feed/"):
        assert [entry["link"] for entry in entries(get_xml(client, url))] == newest


def test_course_feed_lists_only_that_courses_public_lessons(client):
    course = CourseFactory(slug="asyncio", title="Async IO")
    LessonFactory(course=course, slug="start", title="Start", summary="Begin <here> & now")
    LessonFactory(course=CourseFactory(slug="other"), slug="elsewhere")
    hidden_lessons(course)

    feed = get_xml(client, "/courses/asyncio/feed/")

    assert feed.findtext(f"{ATOM}title") == "New lessons in Async IO"
    assert {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")} == {
        "alternate": f"{ORIGIN}/courses/asyncio/",
        "self": f"{ORIGIN}/courses/asyncio/feed/",
    }
    (entry,) = entries(feed)
    assert entry["link"] == f"{ORIGIN}/courses/asyncio/start/"
    assert entry["title"] == "Start"
    # type="html": the plain-text summary arrives escaped, so a reader shows it as written.
    assert entry["summary"] == "Begin &lt;here&gt; &amp; now"


def test_a_draft_or_unknown_course_has_no_feed(client, staff):
    CourseFactory(slug="upcoming", status=Status.DRAFT)
    client.force_login(staff)
    assert client.get("/courses/upcoming/feed/").status_code == 404
    assert client.get("/courses/nothing/feed/").status_code == 404


def test_feed_titles_follow_the_readers_language(client):
    """Needs the Korean catalogue with this branch's strings (locale/NEW-feeds.txt merged)."""
    LessonFactory(course=CourseFactory(slug="asyncio", title="Async IO"))
    client.cookies["django_language"] = "ko"
    assert get_xml(client, "/feeds/lessons/").findtext(f"{ATOM}title") == "Stream의 새 레슨"


def test_a_lesson_cannot_take_the_address_of_its_courses_feed():
    lesson = LessonFactory.build(course=CourseFactory(), slug="feed", position=1)
    with pytest.raises(ValidationError) as error:
        lesson.full_clean()
    assert "slug" in error.value.message_dict


# Query budgets


def count_queries(client, url: str) -> int:
    Site.objects.clear_cache()  # each process looks its Site up once: count that lookup every time
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum(not is_cache_query(query["sql"]) for query in queries)


def add_lessons(course: Course, count: int) -> None:
    tags = TagFactory.create_batch(3)
    for _ in range(count):
        LessonFactory(course=course).tags.set(tags)
        LessonFactory(course=CourseFactory()).tags.set(tags)


@pytest.mark.parametrize("url", ["/sitemap.xml", "/feeds/lessons/", "/courses/asyncio/feed/"])
def test_sitemap_and_feeds_run_the_same_number_of_queries_for_1_and_50_lessons(client, url):
    course = CourseFactory(slug="asyncio")
    add_lessons(course, 1)
    few = count_queries(client, url)
    add_lessons(course, 49)
    assert count_queries(client, url) == few
    # the sitemap: a count and a list for each of its three sections, the Site, and when the next scheduled
    # lesson goes out (its copy is kept until then)
    assert few <= 8


# The pages: feed links and Open Graph


class HeadParser(HTMLParser):
    """The <meta> and <link> elements of a page, as attribute dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.feeds: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "meta" and "property" in attrs:
            self.meta.setdefault(attrs["property"], []).append(attrs["content"])
        elif tag == "link" and attrs.get("type") == "application/atom+xml":
            self.feeds.append(attrs)


def head(client, url: str) -> HeadParser:
    response = client.get(url)
    assert response.status_code == 200
    parser = HeadParser()
    parser.feed(response.content.decode())
    return parser


def feed_links(client, url: str) -> dict[str, str]:
    links = head(client, url).feeds
    assert all(link["rel"] == "alternate" and link["title"] for link in links)
    return {link["href"]: link["title"] for link in links}


def test_pages_link_the_site_feed_and_their_courses_feed(client, staff):
    course = CourseFactory(slug="asyncio", title="Async IO")
    LessonFactory(course=course, slug="start")
    LessonFactory(course=CourseFactory(slug="upcoming", status=Status.DRAFT), slug="soon")
    site_feed = {"/feeds/lessons/": "New lessons on Stream"}
    course_feed = {"/courses/asyncio/feed/": "New lessons in Async IO"}

    assert feed_links(client, "/") == site_feed
    assert feed_links(client, "/courses/asyncio/") == site_feed | course_feed
    assert feed_links(client, "/courses/asyncio/start/") == site_feed | course_feed
    client.force_login(staff)  # a draft course has no feed to link to
    assert feed_links(client, "/courses/upcoming/") == site_feed
    assert feed_links(client, "/courses/upcoming/soon/") == site_feed


def test_lesson_page_carries_open_graph_tags_escaped_and_absolute(client):
    course = CourseFactory(slug="asyncio", title='The "async" <course>')
    lesson = LessonFactory(course=course, slug="start", title='Say "hi" <now>', summary="Tasks & <loops>.")
    lesson.tags.add(TagFactory(name="C++", slug="c-plus-plus"))

    meta = head(client, "/courses/asyncio/start/").meta

    assert meta["og:type"] == ["article"]
    assert meta["og:title"] == ['Say "hi" <now>']
    assert meta["og:description"] == ["Tasks & <loops>."]
    assert meta["og:url"] == [f"{ORIGIN}/courses/asyncio/start/"]
    assert meta["og:site_name"] == ["Stream"]
    assert meta["article:section"] == ['The "async" <course>']
    assert meta["article:tag"] == ["C++"]
    assert datetime.datetime.fromisoformat(meta["article:published_time"][0]) == lesson.published_at


def test_lesson_without_a_summary_shares_the_sites_description(client):
    LessonFactory(course=CourseFactory(slug="asyncio"), slug="start", summary="")
    meta = head(client, "/courses/asyncio/start/").meta
    assert meta["og:description"] == ["Programming lessons with highlighted code, progress and discussion."]


def test_course_page_carries_open_graph_tags(client):
    CourseFactory(slug="asyncio", title="Async & <IO>", summary='Learn "await".')

    meta = head(client, "/courses/asyncio/").meta

    assert meta["og:type"] == ["website"]
    assert meta["og:title"] == ["Async & <IO>"]
    assert meta["og:description"] == ['Learn "await".']
    assert meta["og:url"] == [f"{ORIGIN}/courses/asyncio/"]
    assert meta["og:site_name"] == ["Stream"]


def test_a_changed_lesson_title_reaches_its_cached_pages_card_at_once(client):
    lesson = LessonFactory(course=CourseFactory(slug="asyncio"), slug="start", title="Old")
    assert head(client, "/courses/asyncio/start/").meta["og:title"] == ["Old"]
    lesson.title = "New"
    lesson.save()
    assert head(client, "/courses/asyncio/start/").meta["og:title"] == ["New"]
