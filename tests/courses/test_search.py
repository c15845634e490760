"""/search/: what a reader finds, in what order, what they may not find, and what bad queries get."""

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import search
from courses.management.commands.build_search_bench import generate
from courses.models import Course, Lesson, SearchEntry, Status, Tag
from tests.conftest import is_cache_query
from tests.factories import CourseFactory, LessonFactory, TagFactory

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "content" / "asyncio"
FULL_WIDTH_GATHER = "\uff47\uff41\uff54\uff48\uff45\uff52"  # "gather" in full-width letters
RESULT = re.compile(r'<li>\s*<h2><a href="([^"]+)"')


def found(client, query: str, **params) -> list[str]:
    """The URLs of the results on the page of ``query``, in order."""
    response = client.get("/search/", {"q": query, **params})
    assert response.status_code == 200
    return RESULT.findall(response.content.decode())


def lesson_url(lesson: Lesson) -> str:
    return lesson.get_absolute_url()


@pytest.fixture
def demo(db):
    call_command("import_course", str(DEMO), verbosity=0)
    return Course.objects.get()


@pytest.fixture
def corpus(db):
    """500 generated lessons, in English and Korean, in five courses."""
    return generate(500)


# Relevance on the demo course.


def test_a_word_in_a_lesson_title_puts_that_lesson_first(client, demo):
    gather = demo.lessons.get(title__icontains="gather")
    assert found(client, "gather")[0] == lesson_url(gather)
    # The other lessons mention gather in passing: found too, below it.
    assert len(found(client, "gather")) > 2


def test_a_two_syllable_korean_query_finds_the_lessons_containing_it_even_inside_a_word(client, demo):
    # 동기 stands inside 비동기 ("asynchronous") in every lesson that says it.
    containing = {lesson_url(lesson) for lesson in demo.lessons.all() if "동기" in lesson.body}
    assert containing
    assert set(found(client, "동기")) >= containing
    cancelling = demo.lessons.get(title__contains="취소")
    assert found(client, "취소")[0] == lesson_url(cancelling)


def test_a_code_block_title_finds_its_lesson(client, demo):
    lesson = demo.lessons.order_by("position").last()
    title = re.search(r'```python title="([^"]+)"', lesson.body)[1]
    assert lesson_url(lesson) in found(client, title)[:3]


def test_a_course_is_found_by_its_title(client, demo):
    assert demo.get_absolute_url() in found(client, demo.title)[:2]


def test_english_words_are_found_by_their_stem_and_by_their_start(client, demo):
    timeouts = lesson_url(demo.lessons.get(title__contains="타임아웃"))
    assert timeouts in found(client, "timeouts")
    assert timeouts in found(client, "timeou")


def test_every_word_of_the_query_must_be_found(client, demo):
    assert found(client, "gather")
    assert found(client, "gather xylophone") == []


# Relevance on a generated corpus of 500 lessons.


def test_in_500_lessons_the_one_titled_with_the_word_ranks_above_those_that_mention_it(client, corpus):
    mentioning = corpus[::30]  # 17 lessons, each saying it three times: one page of results with the titled one
    for lesson in mentioning:
        lesson.body += "\n\nA semaphore limits concurrency. Every semaphore counts. Release the semaphore.\n"
        lesson.save()
    titled = LessonFactory(
        course=corpus[0].course, title="Semaphores", position=1000, body="How many may enter at once."
    )
    results = found(client, "semaphore")
    assert results[0] == lesson_url(titled)
    assert set(results) == {lesson_url(lesson) for lesson in [titled, *mentioning]}


def test_in_500_lessons_a_two_syllable_korean_query_finds_exactly_the_lessons_containing_it(client, corpus):
    entries = {entry.lesson_id: entry for entry in SearchEntry.objects.filter(lesson__in=corpus)}
    for query in ["동기", "루프", "경로"]:
        containing = {
            lesson.pk
            for lesson in corpus
            if query in lesson.title or query in entries[lesson.pk].text or query in entries[lesson.pk].keywords
        }
        assert containing, query
        results = search.search(search.Query.parse(query), user=_anonymous())
        assert {entry.lesson_id for entry in results} == containing, query


def test_in_500_lessons_a_code_block_title_is_found(client, corpus):
    lesson = corpus[123]
    lesson.body += '\n```python title="Exponential retry ladder"\nawait sleep(2 ** attempt)\n```\n'
    lesson.save()
    assert found(client, "retry ladder")[0] == lesson_url(lesson)


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


# Who finds what.


@pytest.fixture
def hidden(db):
    """A lesson of each kind a reader must not find, all about pelicans, beside one published."""
    course = CourseFactory(title="Birds")
    draft_course = CourseFactory(title="Pelican course", status=Status.DRAFT)
    return {
        "published": LessonFactory(course=course, title="Pelicans in public"),
        "draft": LessonFactory(course=course, title="Pelicans in a draft", status=Status.DRAFT, published_at=None),
        "scheduled": LessonFactory(
            course=course, title="Pelicans tomorrow", published_at=timezone.now() + timedelta(days=1)
        ),
        "in a draft course": LessonFactory(course=draft_course, title="Pelicans hidden"),
        "draft course": draft_course,
    }


def test_drafts_and_scheduled_lessons_are_never_found_by_readers(client, learner, hidden):
    expected = [lesson_url(hidden["published"])]
    assert found(client, "pelicans") == expected
    client.force_login(learner)
    assert found(client, "pelicans") == expected


def test_staff_find_drafts_marked_as_such(staff_client, hidden):
    response = staff_client.get("/search/", {"q": "pelicans"})
    urls = RESULT.findall(response.content.decode())
    assert set(urls) == {item.get_absolute_url() for item in hidden.values()}
    assert response.content.decode().count('class="badge badge-draft"') == 4


def test_staff_and_readers_never_get_each_others_kept_results(client, staff, hidden):
    client.force_login(staff)
    assert set(found(client, "pelicans")) == {item.get_absolute_url() for item in hidden.values()}
    client.logout()
    assert found(client, "pelicans") == [lesson_url(hidden["published"])]


# Kept results.


def search_queries(client, query: str) -> tuple[list[str], list[str]]:
    """The results of ``query``, and the SQL that asked for them (the search's, without the cache's)."""
    with CaptureQueriesContext(connection) as captured:
        urls = found(client, query)
    return urls, [query["sql"] for query in captured if "courses_searchentry" in query["sql"]]


def test_the_same_search_again_is_answered_without_the_search_sql(client, learner, demo):
    first, searched = search_queries(client, "gather")
    assert first and searched

    again, searched_again = search_queries(client, "  GATHER ")  # the same query, written otherwise
    client.force_login(learner)
    signed_in, searched_signed_in = search_queries(client, "gather")

    assert again == signed_in == first
    assert searched_again == searched_signed_in == []


def test_a_lesson_published_after_a_search_is_found_at_once(client, demo):
    assert found(client, "pelican") == []
    LessonFactory(course=demo, title="Pelicans and event loops")
    assert found(client, "pelican") == [
        f"/courses/{demo.slug}/" + Lesson.objects.get(title__startswith="Pelican").slug + "/"
    ]


# Bad queries: a clear page, never a 500.


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a" * 201, "Search for at most 200 characters (this search has 201)."),
        ("!!! ... ???", "punctuation and symbols alone match nothing"),
        ("— « » ・ ♥", "punctuation and symbols alone match nothing"),
    ],
)
def test_a_query_that_cannot_be_searched_gets_a_message_and_keeps_what_was_typed(client, demo, query, message):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert message in page
    assert f'value="{query}"' in page
    assert 'aria-invalid="true"' in page
    assert RESULT.findall(page) == []


def test_too_many_searches_from_one_address_are_refused_with_a_message(client, demo, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "search": "2/m/ip"}
    assert found(client, "gather") and found(client, "gather")
    response = client.get("/search/", {"q": "gather"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many searches from your address. Wait a minute, then search again." in page
    assert 'value="gather"' in page
    assert RESULT.findall(page) == []
    # The empty form costs nothing and is never refused.
    assert client.get("/search/").status_code == 200


def test_an_empty_query_gets_the_search_form_and_a_hint(client):
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get("/search/", params)
        assert response.status_code == 200
        assert "Type a word or two" in response.content.decode()


def test_a_nul_character_gets_the_bad_request_page(client):
    response = client.get("/search/?q=gath%00er")
    assert response.status_code == 400
    assert "character that is not allowed" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "gather & | ! ( ) :* <-> <2>",
        "'gather':*A & !",
        '"unterminated',
        "\\'\\\\",
        "%_%",
        "a" * 200,
        "가" * 200,
        "\u200b\u00ad\ufeff gather",
        FULL_WIDTH_GATHER,
        "<script>alert(1)</script>",
    ],
)
def test_hostile_queries_are_searched_as_words(client, demo, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()


def test_full_width_letters_are_the_letters(client, demo):
    assert found(client, FULL_WIDTH_GATHER) == found(client, "gather")


# The page.


def test_the_passage_marks_the_words_found_and_escapes_the_lesson_text(client, db):
    LessonFactory(
        title="Markup",
        body="Before. The `<b>` tag is *never* trusted: <script>alert(1)</script> gather here. After.",
    )
    page = client.get("/search/", {"q": "gather"}).content.decode()
    assert "<mark>gather</mark> here" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_marked_words_are_those_postgresql_searched_for_stems_but_no_stop_words(client, db):
    LessonFactory(title="Runners", body="Running tasks: a task runs, and the loop runs it. An apple.")
    page = client.get("/search/", {"q": "running a task"}).content.decode()
    assert "<mark>Running</mark> <mark>tasks</mark>: a <mark>task</mark> <mark>runs</mark>" in page
    assert "<mark>An</mark>" not in page and "<mark>apple" not in page  # "a" is a stop word: not searched


def test_a_bidi_override_in_the_query_cannot_reverse_the_page(client, demo):
    page = client.get("/search/", {"q": "\u202ezzzq\u2066"}).content.decode()
    assert "Nothing matches “<bdi>zzzq</bdi>”. Check the spelling" in page
    assert "<title>Search: zzzq · Stream</title>" in page
    assert "\u202e" not in page.split('value="')[0]  # kept only in the box, as typed


def test_a_word_repeated_to_the_length_limit_is_not_a_near_miss_of_it(client, demo):
    assert found(client, "asyncio" * 28) == []
    assert found(client, "코루틴" * 60) == []


def test_a_passage_of_a_long_lesson_is_cut_around_the_first_match():
    query = search.Query.parse("needle")
    text = "hay " * 500 + "the needle is here " + "hay " * 500
    passage = query.passage(text)
    assert passage.startswith("…") and passage.endswith("…")
    assert "<mark>needle</mark>" in passage
    assert len(passage) < search.PASSAGE_LENGTH + 40


def test_results_are_paginated_and_the_links_keep_the_query(client, db):
    course = CourseFactory()
    for number in range(45):
        LessonFactory(course=course, title=f"Walrus {number}")
    first = client.get("/search/", {"q": "walrus"}).content.decode()
    assert "45 lessons and courses found" in first
    assert len(RESULT.findall(first)) == 20
    assert 'href="/search/?q=walrus&amp;page=2"' in first
    third = client.get("/search/", {"q": "walrus", "page": "3"}).content.decode()
    assert len(RESULT.findall(third)) == 5
    assert client.get("/search/", {"q": "walrus", "page": "4"}).status_code == 404


def test_the_query_count_does_not_grow_with_the_results(client, learner, db):
    course = CourseFactory()

    def queries() -> int:
        cache.clear()  # the results of the same query are kept: measure the search itself
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/search/", {"q": "narwhal"}).status_code == 200
        sql = [query["sql"] for query in captured.captured_queries if not is_cache_query(query["sql"])]
        # The search runs with whole-table scans priced out (search.index_scans), before its two queries.
        searches = [number for number, text in enumerate(sql) if "courses_searchentry" in text]
        assert len(searches) == 2
        assert sql.index("SET LOCAL enable_seqscan = off") < searches[0]
        return len(sql)

    LessonFactory(course=course, title="Narwhal")
    few = queries()
    for number in range(30):
        LessonFactory(course=course, title=f"Narwhal {number}", body=f"Narwhals {number}.")
    assert queries() == few
    client.force_login(learner)
    signed_in = queries()
    LessonFactory(course=course, title="Narwhal again")
    assert queries() == signed_in


def test_every_page_has_the_search_box_in_its_header(client, demo):
    for url in ["/", demo.get_absolute_url(), "/leaderboard/", "/accounts/login/"]:
        page = client.get(url).content.decode()
        assert re.search(r'<form class="site-search" action="/search/" method="get" role="search">', page), url
        assert 'name="q" maxlength="200"' in page


def test_search_pages_are_kept_out_of_search_engines(client):
    assert "Disallow: /search/" in client.get("/robots.txt").content.decode()
    assert '<meta name="robots" content="noindex">' in client.get("/search/?q=x").content.decode()


def test_the_page_is_in_korean_for_korean_readers(client, demo):
    page = client.get("/search/", {"q": "gather"}, headers={"accept-language": "ko"}).content.decode()
    assert '<html lang="ko">' in page
    assert "검색" in page


# The index follows the content.


def test_a_lesson_is_found_by_its_new_words_once_saved(client, db):
    lesson = LessonFactory(title="Old name")
    lesson.title = "Brand new heading"
    lesson.save()
    assert found(client, "brand") == [lesson_url(lesson)]
    assert found(client, "old name") == []
    lesson.body = "Mentions a capybara."
    lesson.save(update_fields=["body"])
    assert found(client, "capybara") == [lesson_url(lesson)]


def test_a_lesson_is_found_by_its_tags_as_they_change(client, db):
    lesson = LessonFactory(title="Untitled")
    tag = TagFactory(name="Concurrency")
    lesson.tags.add(tag)
    assert found(client, "concurrency") == [lesson_url(lesson)]
    tag.name = "Parallelism"
    tag.save()
    assert found(client, "concurrency") == []
    assert found(client, "parallelism") == [lesson_url(lesson)]
    tag.lessons.clear()
    assert found(client, "parallelism") == []
    lesson.tags.add(tag)
    tag.delete()
    assert found(client, "parallelism") == []


def test_a_deleted_lesson_or_course_leaves_the_index(client, db):
    lesson = LessonFactory(title="Ephemeral")
    course = lesson.course
    lesson.delete()
    assert found(client, "ephemeral") == []
    course.delete()
    assert not SearchEntry.objects.exists()


def test_a_near_miss_in_a_title_still_finds_it(client, db):
    lesson = LessonFactory(title="Coroutines", body="Nothing else.")
    assert found(client, "corutines") == [lesson_url(lesson)]
    assert found(client, "routines") == [lesson_url(lesson)]


def test_reindexing_everything_writes_an_entry_for_every_lesson_and_course(db):
    lessons = [LessonFactory(), LessonFactory()]
    lessons[0].tags.add(TagFactory(name="Regular expressions"))
    SearchEntry.objects.all().delete()
    call_command("rebuild_search_index", verbosity=0)
    assert SearchEntry.objects.filter(lesson__isnull=False).count() == 2
    assert SearchEntry.objects.filter(course__isnull=False).count() == Course.objects.count() == 2
    assert "Regular expressions" in SearchEntry.objects.get(lesson=lessons[0]).keywords
    assert Tag.objects.count() == 1


def test_the_search_reads_both_indexes(db, corpus):
    """The page's query in 500 lessons: bitmap scans of both GIN indexes, never a scan of every entry."""
    for lesson in corpus[:3]:
        lesson.body += "\n\nA semaphore.\n"
        lesson.save()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE courses_searchentry")
    for query in ["semaphore", "coroutine", "동기"]:
        with search.index_scans():
            plan = search.search(search.Query.parse(query), user=_anonymous()).explain()
        assert "Bitmap Index Scan on search_entry_vector" in plan
        assert "Seq Scan" not in plan
        assert not re.search(r"Index Scan using \w+ on courses_searchentry", plan)
        # Near misses are looked for in queries of four characters or more.
        assert ("Bitmap Index Scan on search_entry_keywords_trgm" in plan) == (len(query) >= 4)
