import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import LessonLink, Status
from courses.views import CATALOGUE_PAGE_SIZE, COURSE_PAGE_SIZE, TAG_PAGE_SIZE
from tests.conftest import is_cache_query
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db

FUTURE = "2999-01-01T09:00:00Z"


def make_course(lesson_count: int, tag_count: int = 3):
    course = CourseFactory(slug="asyncio")
    tags = TagFactory.create_batch(tag_count)
    lessons = [LessonFactory(course=course, position=n, slug=f"lesson-{n}") for n in range(1, lesson_count + 1)]
    for lesson in lessons:
        lesson.tags.set(tags)
        LessonLink.objects.create(lesson=lesson, title="Docs", url="https://docs.python.org/3/")
    return course, lessons, tags


def count_queries(client, url: str) -> int:
    """The queries of one request, but for the database cache's (a visitor's page is stored there)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return sum(not is_cache_query(query["sql"]) for query in queries)


def add_lessons(course, tags, start: int, stop: int) -> None:
    for n in range(start, stop):
        lesson = LessonFactory(course=course, position=n, slug=f"lesson-{n}")
        lesson.tags.set(tags)
        LessonLink.objects.create(lesson=lesson, title="Docs", url="https://docs.python.org/3/")
        LessonFactory(course=CourseFactory(), position=1).tags.set(tags)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class ElementParser(HTMLParser):
    """Collects <a>, <link>, <li> and <h1> elements with their attributes and whitespace-normalised text."""

    TAGS = {"a", "link", "li", "h1"}

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.TAGS:
            element = Element(tag, {name: value or "" for name, value in attrs})
            self.elements.append(element)
            if tag != "link":
                self.open.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data


def elements(html: str, tag: str, **attrs: str) -> list[Element]:
    parser = ElementParser()
    parser.feed(html)
    found = [e for e in parser.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]
    for element in found:
        element.text = " ".join(element.text.split())
    return found


def only(found: list[Element]) -> Element:
    assert len(found) == 1, found
    return found[0]


def card_texts(html: str) -> list[str]:
    return [li.text for li in elements(html, "li", **{"class": "card"})]


def lesson_rows(html: str) -> list[str]:
    """The visible rows of a course's or a tag's list of lessons."""
    lists = re.findall(r'<(ol|ul) class="lesson-list"[^>]*>(.*?)</\1>', html, re.S)
    return [li.text for li in elements(only(lists)[1], "li")] if lists else []


def neighbour(html: str, rel: str) -> tuple[str, str] | None:
    found = elements(html, "a", rel=rel)
    return (only(found).attrs["href"], only(found).text) if found else None


# Query budgets and the columns each page reads


@pytest.mark.parametrize("url", ["/", "/courses/asyncio/", "/courses/asyncio/lesson-2/", "/tags/{tag}/"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "staff"])
def test_pages_run_the_same_number_of_queries_for_1_and_50_lessons(client, staff, url, signed_in):
    course, _, tags = make_course(2)
    url = url.format(tag=tags[0].slug)
    if signed_in:
        client.force_login(staff)
    few = count_queries(client, url)
    add_lessons(course, tags, start=3, stop=51)
    assert count_queries(client, url) == few
    learner_panel = 2 if "lesson" in url else 0  # the ladder of levels, and the panel's counts
    # The first threads' comments (their authors' levels come from the panel's ladder), the counts of all of them,
    # and whether the reader follows them.
    comments = (3 if signed_in else 2) if "lesson" in url else 0
    notification_bell = 1 if signed_in else 0  # the header's count of unread notifications
    certificate = 1 if signed_in and url == "/courses/asyncio/" else 0  # the reader's certificate of the course
    # A visitor's lesson ends with the course's totals and the next course, shown when the browser's progress
    # says the course is complete (a signed-in learner's, only once it is).
    course_end = 2 if not signed_in and "lesson" in url else 0
    assert few <= (5 if not signed_in else 7) + learner_panel + comments + notification_bell + certificate + course_end


@pytest.mark.parametrize("url", ["/?page=2", "/tags/{tag}/?page=2"])
def test_a_later_page_runs_as_many_queries_as_the_first(client, url):
    course, _, tags = make_course(2)
    add_lessons(course, tags, start=3, stop=51)
    first = count_queries(client, url.format(tag=tags[0].slug).removesuffix("?page=2"))
    assert count_queries(client, url.format(tag=tags[0].slug)) == first


HEAVY_COLUMNS = {
    ("courses_lesson", column) for column in ("body", "body_html", "exercise", "exercise_html", "toc", "summary")
} | {("courses_course", "description"), ("courses_course", "description_html")}


def heavy_columns_read(client, url: str) -> Counter:
    """How often each column of lesson text or course description appears in the page's queries."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    found = Counter()
    for query in queries:
        found.update(set(re.findall(r'"(courses_\w+)"\."(\w+)"', query["sql"])) & HEAVY_COLUMNS)
    return found


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", {}),
        ("/courses/asyncio/", {("courses_course", "description_html"): 1}),
        ("/tags/{tag}/", {}),
    ],
    ids=["catalogue", "course", "tag"],
)
def test_list_pages_read_no_lesson_text_and_no_course_description(client, url, expected):
    """Regression: the course and tag pages read every lesson's Markdown and HTML (25 MB a request)."""
    _, _, tags = make_course(3)
    assert heavy_columns_read(client, url.format(tag=tags[0].slug)) == expected


def test_lesson_page_reads_its_own_html_once_and_no_markdown(client):
    """The lesson's HTML, table of contents and summary once; no Markdown, no other lesson's text."""
    make_course(3)
    assert heavy_columns_read(client, "/courses/asyncio/lesson-2/") == {
        ("courses_lesson", "body_html"): 1,
        ("courses_lesson", "exercise_html"): 1,
        ("courses_lesson", "toc"): 1,
        ("courses_lesson", "summary"): 1,
    }


# The catalogue


def test_catalogue_lists_published_courses_with_lesson_counts(client):
    make_course(3)
    CourseFactory(title="Secret draft course", status=Status.DRAFT)
    response = client.get("/")
    assert "3 lessons" in response.text
    assert "Secret draft course" not in response.text


def test_catalogue_counts_only_the_lessons_a_visitor_can_read(client):
    course = CourseFactory(title="Counted", slug="counted")
    LessonFactory(course=course, position=1)
    LessonFactory(course=course, position=2)
    LessonFactory(course=course, position=3, status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, position=4, published_at=FUTURE)
    LessonFactory(course=CourseFactory(title="Other"), position=1)
    assert card_texts(client.get("/").text) == ["Counted A course. 2 lessons", "Other A course. 1 lesson"]


def test_catalogue_orders_courses_by_position_then_title(client):
    """Regression: with the lesson counts, the catalogue had no ORDER BY (Meta.ordering is left out of GROUP BY)."""
    CourseFactory(title="Third", position=3)
    CourseFactory(title="Second b", position=2)
    CourseFactory(title="Second a", position=2)
    CourseFactory(title="First", position=1)
    titles = [text.split(" A course.")[0] for text in card_texts(client.get("/").text)]
    assert titles == ["First", "Second a", "Second b", "Third"]


def test_catalogue_follows_the_authors_positions_over_alphabetical_order(client):
    CourseFactory(title="Advanced asyncio", position=2)
    CourseFactory(title="Zero to Python", position=1)
    titles = [text.split(" A course.")[0] for text in card_texts(client.get("/").text)]
    assert titles == ["Zero to Python", "Advanced asyncio"]


def test_catalogue_links_each_course_to_its_page(client):
    CourseFactory(title="Async Python", slug="asyncio")
    assert only(elements(client.get("/").text, "a", href="/courses/asyncio/")).text == "Async Python"


def test_staff_see_draft_courses_in_the_catalogue_marked_as_drafts(staff_client):
    CourseFactory(title="Published course", position=1)
    CourseFactory(title="Upcoming course", status=Status.DRAFT, position=2)
    assert card_texts(staff_client.get("/").text) == [
        "Published course A course. 0 lessons",
        "Upcoming course Draft A course. 0 lessons",
    ]


def test_catalogue_in_korean_counts_lessons(client):
    LessonFactory(course__title="Async Python")
    assert card_texts(client.get("/", HTTP_ACCEPT_LANGUAGE="ko").text) == ["Async Python A course. 레슨 1개"]


def test_empty_catalogue_says_so(client):
    assert "No courses are published yet." in client.get("/").text


# A course's page


def test_course_page_lists_lessons_in_order_with_reading_times(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=2, title="Second lesson")
    LessonFactory(course=course, position=1, title="First lesson", minutes=22)
    text = client.get("/courses/asyncio/").text
    assert text.index("First lesson") < text.index("Second lesson")
    assert "~22 min" in text


def test_course_page_lists_only_its_own_lessons_linked_to_their_pages(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, slug="first", title="First lesson", minutes=5)
    LessonFactory(course=CourseFactory(slug="other"), position=2, title="Another course's lesson")
    text = client.get("/courses/asyncio/").text
    assert lesson_rows(text) == ["01 First lesson ~5 min"]
    assert only(elements(text, "a", href="/courses/asyncio/first/")).text == "First lesson"


def test_course_page_hides_draft_and_scheduled_lessons_from_visitors(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, title="Published", minutes=1)
    LessonFactory(course=course, position=2, title="Draft lesson", status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, position=3, title="Scheduled lesson", published_at=FUTURE)
    assert lesson_rows(client.get("/courses/asyncio/").text) == ["01 Published ~1 min"]


def test_staff_see_draft_and_scheduled_lessons_on_the_course_page_marked(staff_client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, title="Published", minutes=1)
    LessonFactory(course=course, position=2, title="Draft lesson", status=Status.DRAFT, published_at=None, minutes=1)
    LessonFactory(course=course, position=3, title="Scheduled lesson", published_at=FUTURE, minutes=1)
    assert lesson_rows(staff_client.get("/courses/asyncio/").text) == [
        "01 Published ~1 min",
        "02 Draft lesson Draft ~1 min",
        "03 Scheduled lesson Scheduled for Jan. 1, 2999, 9 a.m. ~1 min",
    ]


def test_course_without_published_lessons_says_so(client):
    LessonFactory(course__slug="asyncio", status=Status.DRAFT, published_at=None)
    assert "This course has no published lessons yet." in client.get("/courses/asyncio/").text


def test_draft_course_is_404_for_visitors(client):
    CourseFactory(slug="soon", status=Status.DRAFT)
    assert client.get("/courses/soon/").status_code == 404


def test_a_draft_course_is_hidden_from_signed_in_learners_too(client, learner):
    CourseFactory(slug="soon", title="Coming soon", status=Status.DRAFT)
    client.force_login(learner)
    assert "Coming soon" not in client.get("/").text
    assert client.get("/courses/soon/").status_code == 404


def test_staff_see_every_lesson_of_a_draft_course_marked_as_a_draft(staff_client):
    """Its lessons are not on the site while the course is a draft, however they are set themselves."""
    LessonFactory(course__slug="soon", course__status=Status.DRAFT, position=1, slug="ready", title="Ready", minutes=1)
    assert lesson_rows(staff_client.get("/courses/soon/").text) == ["01 Ready Draft ~1 min"]
    assert "draft — visible to staff only" in staff_client.get("/courses/soon/ready/").text


def test_staff_see_a_draft_course_marked_as_draft(staff_client):
    CourseFactory(slug="soon", title="Coming soon", status=Status.DRAFT)
    assert only(elements(staff_client.get("/courses/soon/").text, "h1")).text == "Coming soon Draft"


# A lesson's page


def test_lesson_page_shows_position_state_tags_code_and_neighbours(client):
    _, _, tags = make_course(3)
    text = client.get("/courses/asyncio/lesson-2/").text
    assert "Lesson 02 of 03" in text
    assert "published" in text
    assert f'href="/tags/{tags[0].slug}/"' in text
    assert '<span class="code-title">Hello</span>' in text
    assert 'href="/courses/asyncio/lesson-1/" rel="prev"' in text
    assert 'href="/courses/asyncio/lesson-3/" rel="next"' in text
    assert 'href="https://docs.python.org/3/"' in text


def test_further_reading_and_tags_are_listed_in_a_stable_order(client):
    """Links in the order the author gave them, tags alphabetically."""
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    for position, title in [(2, "Second link"), (1, "First link"), (3, "Third link")]:
        LessonLink.objects.create(lesson=lesson, title=title, url=f"https://example.com/{position}", position=position)
    lesson.tags.set([TagFactory(name=name, slug=name) for name in ["queues", "asyncio", "tasks"]])
    text = client.get("/courses/asyncio/one/").text
    assert [a.text for a in elements(text, "a", rel="noopener external")] == [
        "First link",
        "Second link",
        "Third link",
    ]
    assert [a.text for a in elements(text, "a", **{"class": "tag"})] == ["#asyncio", "#queues", "#tasks"]


def test_first_lesson_has_no_previous_link_and_last_no_next(client):
    make_course(2)
    first = client.get("/courses/asyncio/lesson-1/").text
    assert neighbour(first, "prev") is None
    assert neighbour(first, "next") is not None
    last = client.get("/courses/asyncio/lesson-2/").text
    assert neighbour(last, "prev") is not None
    assert neighbour(last, "next") is None


def test_neighbours_and_number_follow_positions_not_creation_order(client):
    """Lessons created in another order than they are read: ids and positions disagree."""
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=10, slug="first", title="First")
    LessonFactory(course=course, position=30, slug="third", title="Third")
    LessonFactory(course=course, position=20, slug="second", title="Second")
    text = client.get("/courses/asyncio/second/").text
    assert "Lesson 02 of 03" in text
    assert neighbour(text, "prev") == ("/courses/asyncio/first/", "Previous lesson First")
    assert neighbour(text, "next") == ("/courses/asyncio/third/", "Next lesson Third")


def test_next_and_previous_are_the_lessons_right_beside_this_one(client):
    course = CourseFactory(slug="asyncio")
    for position in range(1, 6):
        LessonFactory(course=course, position=position, slug=f"lesson-{position}", title=f"Lesson {position}")
    text = client.get("/courses/asyncio/lesson-3/").text
    assert neighbour(text, "prev") == ("/courses/asyncio/lesson-2/", "Previous lesson Lesson 2")
    assert neighbour(text, "next") == ("/courses/asyncio/lesson-4/", "Next lesson Lesson 4")


def test_neighbours_stay_in_the_lessons_course(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=2, slug="only", title="Only")
    other = CourseFactory(slug="other")
    for position in (1, 3):
        LessonFactory(course=other, position=position, slug=f"other-{position}")
    text = client.get("/courses/asyncio/only/").text
    assert "Lesson 01 of 01" in text
    assert neighbour(text, "prev") is None
    assert neighbour(text, "next") is None


def test_neighbours_skip_lessons_a_visitor_cannot_read(client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, slug="one", title="One")
    LessonFactory(course=course, position=2, slug="draft", status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, position=3, slug="three", title="Three")
    LessonFactory(course=course, position=4, slug="scheduled", published_at=FUTURE)
    LessonFactory(course=course, position=5, slug="five", title="Five")
    text = client.get("/courses/asyncio/three/").text
    assert "Lesson 02 of 03" in text
    assert neighbour(text, "prev") == ("/courses/asyncio/one/", "Previous lesson One")
    assert neighbour(text, "next") == ("/courses/asyncio/five/", "Next lesson Five")


def test_staff_count_and_step_through_draft_lessons(staff_client):
    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, position=1, slug="one")
    LessonFactory(course=course, position=2, slug="draft", title="Draft", status=Status.DRAFT, published_at=None)
    LessonFactory(course=course, position=3, slug="three")
    text = staff_client.get("/courses/asyncio/three/").text
    assert "Lesson 03 of 03" in text
    assert neighbour(text, "prev") == ("/courses/asyncio/draft/", "Previous lesson Draft")


def test_lesson_navigation_in_korean(client):
    """Regression guard: the Korean labels of "Previous lesson" and "Next lesson" must not swap."""
    course = CourseFactory(slug="asyncio")
    for position, slug in enumerate(["one", "two", "three"], start=1):
        LessonFactory(course=course, position=position, slug=slug, title=slug.title())
    text = client.get("/courses/asyncio/two/", HTTP_ACCEPT_LANGUAGE="ko").text
    assert 'aria-label="레슨 탐색"' in text
    assert neighbour(text, "prev") == ("/courses/asyncio/one/", "이전 레슨 One")
    assert neighbour(text, "next") == ("/courses/asyncio/three/", "다음 레슨 Three")
    assert "전체 03강 중 02강" in text


def test_draft_lesson_is_404_for_visitors_and_learners(client, learner):
    LessonFactory(course__slug="asyncio", slug="draft", status=Status.DRAFT, published_at=None)
    assert client.get("/courses/asyncio/draft/").status_code == 404
    client.force_login(learner)
    assert client.get("/courses/asyncio/draft/").status_code == 404


def test_draft_lesson_is_shown_to_staff_marked_as_draft(staff_client):
    LessonFactory(course__slug="asyncio", slug="draft", status=Status.DRAFT, published_at=None)
    response = staff_client.get("/courses/asyncio/draft/")
    assert response.status_code == 200
    assert "draft — visible to staff only" in response.text


def test_a_scheduled_lesson_is_404_for_visitors_and_marked_for_staff(client, staff):
    LessonFactory(course__slug="asyncio", slug="soon", published_at=FUTURE)
    assert client.get("/courses/asyncio/soon/").status_code == 404
    client.force_login(staff)
    assert "scheduled for Jan. 1, 2999" in client.get("/courses/asyncio/soon/").text


def test_a_draft_with_a_future_date_is_a_draft_not_scheduled(staff_client):
    LessonFactory(course__slug="asyncio", slug="later", status=Status.DRAFT, published_at=FUTURE)
    text = staff_client.get("/courses/asyncio/later/").text
    assert "draft — visible to staff only" in text
    assert "scheduled" not in text


def test_a_lesson_of_a_draft_course_is_404_for_visitors(client):
    LessonFactory(course__slug="soon", course__status=Status.DRAFT, slug="lesson")
    assert client.get("/courses/soon/lesson/").status_code == 404


def test_a_lesson_is_only_found_under_its_own_course(client):
    LessonFactory(course__slug="asyncio", slug="lesson")
    CourseFactory(slug="other")
    assert client.get("/courses/other/lesson/").status_code == 404


def test_unknown_pages_are_404(client):
    assert client.get("/courses/nope/").status_code == 404
    assert client.get("/courses/nope/nothing/").status_code == 404
    assert client.get("/tags/nothing/").status_code == 404


def test_the_lesson_page_offers_its_summary_to_search_engines_and_a_linked_table_of_contents(client):
    LessonFactory(
        course__slug="asyncio",
        course__title="Async Python",
        slug="one",
        summary="Run two things at once.",
        body="## Tasks\n\n### Cancelling\n\nText.\n",
    )
    text = client.get("/courses/asyncio/one/").text
    assert '<meta name="description" content="Run two things at once.">' in text
    assert '<nav class="toc" aria-labelledby="toc-title">' in text
    assert [(li.attrs, li.text) for li in elements(text.split('<nav class="toc"')[1], "li")[:2]] == [
        ({"class": "toc-level-2"}, "Tasks"),
        ({"class": "toc-level-3"}, "Cancelling"),
    ]
    assert [(a.attrs["href"], a.text) for a in elements(text.split('<nav class="toc"')[1], "a")[:2]] == [
        ("#tasks", "Tasks"),
        ("#cancelling", "Cancelling"),
    ]


def test_a_lesson_without_headings_links_or_exercise_shows_none_of_those_sections(client):
    LessonFactory(course__slug="asyncio", slug="bare", body="Just words.\n", exercise="")
    text = client.get("/courses/asyncio/bare/").text
    for absent in ["On this page", "Further reading", "Exercise", 'name="description" content=""']:
        assert absent not in text


CATALOGUE_CRUMB = ("/", "Courses")
COURSE_CRUMB = ("/courses/asyncio/", "Async Python")


@pytest.mark.parametrize(
    ("url", "crumbs"),
    [
        ("/courses/asyncio/", [CATALOGUE_CRUMB]),
        ("/courses/asyncio/one/", [CATALOGUE_CRUMB, COURSE_CRUMB]),
        ("/tags/asyncio/", [CATALOGUE_CRUMB]),
    ],
)
def test_breadcrumbs_lead_back_to_the_catalogue_and_the_course(client, url, crumbs):
    LessonFactory(course__slug="asyncio", course__title="Async Python", slug="one").tags.add(
        TagFactory(slug="asyncio")
    )
    text = client.get(url).text
    start = text.index('<nav class="breadcrumbs"')
    assert [(a.attrs["href"], a.text) for a in elements(text[start : text.index("</nav>", start)], "a")] == crumbs


def test_the_course_description_is_shown_as_formatted_text(client):
    CourseFactory(slug="asyncio", description="## Before you start\n\nKnow *functions*.\n")
    text = client.get("/courses/asyncio/").text
    assert '<h2 id="before-you-start">Before you start</h2>' in text
    assert "<em>functions</em>" in text


# A tag's page


def test_tag_page_lists_lessons_with_the_tag(client):
    _, lessons, tags = make_course(2)
    other = LessonFactory(title="Untagged lesson")
    text = client.get(f"/tags/{tags[0].slug}/").text
    assert lessons[0].title in text and lessons[1].title in text
    assert other.title not in text


def test_tag_page_orders_lessons_by_course_then_position_with_the_course_name(client):
    tag = TagFactory(slug="asyncio")
    later = CourseFactory(title="Later course", position=2)
    earlier = CourseFactory(title="Earlier course", position=1)
    for course, position, title in [(later, 1, "L1"), (earlier, 2, "E2"), (earlier, 1, "E1")]:
        LessonFactory(course=course, position=position, title=title, minutes=3).tags.add(tag)
    assert lesson_rows(client.get("/tags/asyncio/").text) == [
        "E1 Earlier course · ~3 min",
        "E2 Earlier course · ~3 min",
        "L1 Later course · ~3 min",
    ]


def test_tag_page_follows_the_catalogues_order_of_courses_not_their_titles(client):
    tag = TagFactory(slug="asyncio")
    for title, position in [("Advanced", 2), ("Basics", 1)]:
        LessonFactory(course__title=title, course__position=position, title=f"{title} lesson", minutes=1).tags.add(tag)
    assert lesson_rows(client.get("/tags/asyncio/").text) == [
        "Basics lesson Basics · ~1 min",
        "Advanced lesson Advanced · ~1 min",
    ]


UNREADABLE = {
    "draft": {"status": Status.DRAFT, "published_at": None},
    "scheduled": {"published_at": FUTURE},
    "in a draft course": {"course__status": Status.DRAFT},
}


@pytest.mark.parametrize("hidden", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_tag_page_leaves_out_lessons_a_visitor_cannot_read(client, hidden):
    tag = TagFactory(slug="asyncio")
    LessonFactory(title="Readable", minutes=1, course__title="Course").tags.add(tag)
    LessonFactory(title="Hidden", **hidden).tags.add(tag)
    assert lesson_rows(client.get("/tags/asyncio/").text) == ["Readable Course · ~1 min"]


@pytest.mark.parametrize("hidden", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_tag_on_no_lesson_a_visitor_can_read_is_404_but_shown_to_staff(client, staff, hidden):
    """Regression: /tags/<tag>/ of a tag used only by unpublished lessons answered 200 with its name."""
    tag = TagFactory(slug="secret-project", name="Secret project")
    LessonFactory(title="Hidden", **hidden).tags.add(tag)
    response = client.get("/tags/secret-project/")
    assert response.status_code == 404
    assert "Secret project" not in response.text
    client.force_login(staff)
    assert lesson_rows(client.get("/tags/secret-project/").text)[0].startswith("Hidden Draft")


def test_a_tag_on_no_lesson_at_all_is_404(staff_client):
    TagFactory(slug="unused")
    assert staff_client.get("/tags/unused/").status_code == 404


# Pagination

LISTS = {
    "catalogue": CATALOGUE_PAGE_SIZE,
    "course": COURSE_PAGE_SIZE,
    "tag": TAG_PAGE_SIZE,
}


def fill(list_name: str, count: int) -> str:
    """``count`` rows in one list, numbered in reading order; returns the list's URL."""
    if list_name == "catalogue":
        for n in range(count):
            CourseFactory(title=f"Course {n + 1:03d}", position=n + 1)
        return "/"
    course = CourseFactory(slug="big", title="Big")
    tag = TagFactory(slug="big")
    for n in range(count):
        LessonFactory(course=course, position=n + 1, title=f"Lesson {n + 1:03d}", body="").tags.add(tag)
    return f"/{'courses' if list_name == 'course' else 'tags'}/big/"


def row_titles(html: str, list_name: str) -> list[str]:
    rows = card_texts(html) if list_name == "catalogue" else lesson_rows(html)
    return [re.search(r"(Course|Lesson) \d{3}", row)[0] for row in rows]


@pytest.mark.parametrize(("list_name", "size"), LISTS.items(), ids=LISTS.keys())
def test_a_long_list_continues_on_page_2_with_stable_links(client, list_name, size):
    url = fill(list_name, size + 1)
    noun = "Course" if list_name == "catalogue" else "Lesson"

    first = client.get(url).text
    assert row_titles(first, list_name) == [f"{noun} {n:03d}" for n in range(1, size + 1)]
    assert only(elements(first, "link", rel="next")).attrs["href"] == f"{url}?page=2"
    assert elements(first, "link", rel="prev") == []
    assert neighbour(first, "next") == (f"{url}?page=2", "Next page →")
    assert only(elements(first, "a", **{"aria-current": "page"})).attrs == {
        "href": url,
        "aria-label": "Page 1",
        "aria-current": "page",
    }

    second = client.get(f"{url}?page=2").text
    assert row_titles(second, list_name) == [f"{noun} {size + 1:03d}"]
    assert only(elements(second, "link", rel="prev")).attrs["href"] == url
    assert elements(second, "link", rel="next") == []
    assert neighbour(second, "prev") == (url, "← Previous page")
    assert only(elements(second, "a", **{"aria-current": "page"})).text == "2"
    assert " · Page 2 · Stream</title>" in second


@pytest.mark.parametrize("page", ["3", "0", "-1", "x", "", "1.5", "+2", " 2", "2_0", "last", "²", "٢", "9" * 5000])
def test_a_page_that_is_not_a_number_in_range_is_404(client, page):
    url = fill("tag", TAG_PAGE_SIZE + 1)
    assert client.get(url, {"page": page}).status_code == 404


def test_a_full_catalogue_page_fills_every_row_of_one_to_four_columns(client):
    """The cards sit in 1, 2, 3 or 4 columns by screen width: a page of 25 would leave one card alone in a row."""
    url = fill("catalogue", 30)
    cards = len(card_texts(client.get(url).text))
    assert cards > 12 and cards % 12 == 0


def test_a_list_of_one_page_has_no_page_links(client):
    url = fill("course", 3)
    text = client.get(url).text
    assert "pagination" not in text
    assert elements(text, "link", rel="next") == []


def test_an_empty_catalogue_is_a_page_but_not_its_page_2(client):
    assert client.get("/").status_code == 200
    assert client.get("/?page=2").status_code == 404


def test_many_pages_are_elided_around_the_current_one(client):
    url = fill("catalogue", CATALOGUE_PAGE_SIZE * 9)
    text = client.get(url, {"page": 5}).text
    numbers = [
        a.text for a in elements(text, "a") if "aria-label" in a.attrs and a.attrs["aria-label"].startswith("Page")
    ]
    assert numbers == ["1", "4", "5", "6", "9"]
    assert len(elements(text, "li", **{"class": "pagination-gap", "aria-hidden": "true"})) == 2


def test_pagination_in_korean(client):
    url = fill("tag", TAG_PAGE_SIZE + 1)
    text = client.get(url, {"page": 2}, HTTP_ACCEPT_LANGUAGE="ko").text
    assert '<nav class="pagination" aria-label="페이지 이동">' in text
    assert neighbour(text, "prev") == (url, "← 이전 페이지")
    assert only(elements(text, "a", **{"aria-current": "page"})).attrs["aria-label"] == "2페이지"
    assert " · 2페이지 · Stream</title>" in text
