"""A lesson with many threads: the first 20 on the lesson page, the rest on demand, every comment still reachable
by its link, and a comment posted from the page answered with its own HTML alone."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments.models import Comment
from comments.sanitize import render_comment
from comments.selectors import FIRST_THREADS
from tests.comments.conftest import verified
from tests.conftest import is_cache_query, keep_ladder
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db

THREADS = FIRST_THREADS + 5


@pytest.fixture
def lesson():
    """25 threads, oldest first "Thread 1" … "Thread 25", each with one reply."""
    lesson = LessonFactory(course__slug="asyncio", slug="one", title="Async basics")
    author = UserFactory(display_name="Ada")
    start = timezone.now() - timedelta(days=1)
    for number in range(1, THREADS + 1):
        root = Comment.objects.create(lesson=lesson, author=author, body_html=render_comment(f"Thread {number}"))
        reply = Comment.objects.create(
            lesson=lesson, author=author, parent=root, depth=1, body_html=render_comment(f"Reply {number}")
        )
        moment = start + timedelta(minutes=number)
        Comment.objects.filter(pk__in=[root.pk, reply.pk]).update(created_at=moment)
    return lesson


def top_level_threads(html: str) -> list[str]:
    return re.findall(r"<p>(Thread \d+)</p>", html)


def test_the_lesson_page_shows_the_first_threads_and_links_to_the_rest(lesson):
    html = Client().get(lesson.get_absolute_url()).content.decode()
    assert top_level_threads(html) == [f"Thread {number}" for number in range(1, FIRST_THREADS + 1)]
    assert "Reply 20" in html and "Reply 21" not in html
    assert f"{THREADS * 2} comments" in html  # the count is the lesson's, not the page's
    assert f'href="/comments/lessons/{lesson.pk}/more/" data-comments-more>Show 5 more threads</a>' in html


def test_the_rest_comes_as_a_page_of_its_own_and_as_html_for_the_script(lesson):
    page = Client().get(f"/comments/lessons/{lesson.pk}/more/")
    assert page.status_code == 200
    html = page.content.decode()
    assert top_level_threads(html) == [f"Thread {number}" for number in range(FIRST_THREADS + 1, THREADS + 1)]
    assert "Reply 25" in html and "Thread 1<" not in html
    assert f'href="{lesson.get_absolute_url()}#comments"' in html  # the way back

    answer = Client().get(f"/comments/lessons/{lesson.pk}/more/", headers={"accept": "application/json"}).json()
    assert top_level_threads(answer["html"]) == top_level_threads(html)
    assert answer["html"].lstrip().startswith('<li class="comment"')


def test_a_comments_link_lands_where_it_is_shown(lesson):
    early = Comment.objects.get(body_html__contains="Reply 2<")
    late = Comment.objects.get(body_html__contains="Reply 23<")
    assert Client().get(early.get_absolute_url())["Location"] == f"/courses/asyncio/one/#comment-{early.pk}"
    more = f"/comments/lessons/{lesson.pk}/more/"
    assert Client().get(late.get_absolute_url())["Location"] == f"{more}#comment-{late.pk}"
    shown = Client().get(f"/comments/lessons/{lesson.pk}/more/").content.decode()
    assert f'id="comment-{late.pk}"' in shown


def test_without_the_script_a_new_comment_returns_to_the_page_that_shows_it(lesson):
    learner = Client()
    learner.force_login(verified(UserFactory()))
    answer = learner.post(f"/comments/lessons/{lesson.pk}/", {"body": "The newest thread"})
    comment = Comment.objects.get(body="The newest thread")
    assert answer["Location"] == f"/comments/lessons/{lesson.pk}/more/#comment-{comment.pk}"
    assert "The newest thread" in learner.get(f"/comments/lessons/{lesson.pk}/more/").content.decode()


def post_for_json(client, lesson, **form):
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(f"/comments/lessons/{lesson.pk}/", form, headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.content
    return answer.json(), [query["sql"] for query in queries if not is_cache_query(query["sql"])]


def test_a_comment_posted_from_the_page_comes_back_as_its_own_html_alone(lesson):
    learner = Client()
    learner.force_login(verified(UserFactory(display_name="Grace")))
    root = Comment.objects.get(body_html__contains="Thread 3<")

    post_for_json(learner, lesson, body="My first comment, which unlocks an achievement")
    answer, queries = post_for_json(learner, lesson, body="An answer", parent=root.pk, submission="a" * 32)

    reply = Comment.objects.get(body="An answer")
    assert answer["anchor"] == f"comment-{reply.pk}" and answer["holder"] == f"comment-{root.pk}"
    assert answer["comment"].strip().startswith(f'<li class="comment" id="comment-{reply.pk}">')
    assert "Grace" in answer["comment"] and "Thread 1<" not in answer["comment"]
    assert answer["title"] == f"{THREADS * 2 + 2} comments"
    assert re.fullmatch(r"[0-9a-f]{32}", answer["submission"]) and answer["submission"] != "a" * 32
    # The session, the learner, the lesson, an earlier post of this form (once), the parent, whether they may
    # comment, the comment, following and its notifications (one statement), their progress (locked and counted
    # in one) and achievements, and the thread sent back with its counts (the levels from the shared cache).
    assert len(queries) <= 12, "\n".join(queries)
    assert sum("comments_notification" in query for query in queries) == 1

    again, _ = post_for_json(learner, lesson, body="An answer", parent=root.pk, submission="a" * 32)
    assert again["anchor"] == answer["anchor"] and Comment.objects.filter(body="An answer").count() == 1

    first, _ = post_for_json(learner, lesson, body="A new thread", submission="b" * 32)
    assert first["holder"] is None


def test_the_lesson_pages_queries_do_not_grow_with_its_threads(lesson):
    quiet = LessonFactory(course=lesson.course, slug="two")
    counts = []
    for shown in (quiet, lesson):
        keep_ladder()
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(shown.get_absolute_url()).status_code == 200
        counts.append(sum(not is_cache_query(query["sql"]) for query in queries))
    assert counts[0] == counts[1]
