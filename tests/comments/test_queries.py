"""The lesson page costs the same queries with 200 comments as with none, and shows deep replies flat."""

import re
from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments import services
from comments.management.commands.build_comments_bench import build_threads
from comments.models import Comment, Notification
from progress.models import LearnerProgress
from tests.comments.conftest import verified
from tests.conftest import is_cache_query, keep_ladder
from tests.factories import LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

CODE_BLOCKS = "".join(f'```python title="Step {n}"\nprint({n})\n```\n\n' for n in range(1, 4))


def lesson_page_queries(client, lesson) -> int:
    keep_ladder()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(lesson.get_absolute_url())
    assert response.status_code == 200
    return sum(not is_cache_query(query["sql"]) for query in queries)


@pytest.fixture
def lessons():
    """A lesson without comments, and one of the same course with 200 comments in 50 threads.

    The threads are half chains of four replies each answering the one before, half a comment
    with two replies; a quarter of the comments are on the lesson's three code blocks. Their 40
    authors are at different levels; one of them has since deleted their account, one comment is
    hidden by a moderator and one deleted while it has replies.
    """
    quiet = LessonFactory(body=CODE_BLOCKS)
    busy = LessonFactory(course=quiet.course, body=CODE_BLOCKS)
    authors = [UserFactory(display_name=f"Author {n}") for n in range(40)]
    LearnerProgress.objects.bulk_create(LearnerProgress(learner=author, xp=25 * n) for n, author in enumerate(authors))
    comments = build_threads(lesson=busy, authors=authors)
    assert len(comments) == 200
    assert Comment.objects.filter(lesson=busy, parent__isnull=True).count() == 50
    assert Comment.objects.filter(lesson=busy, code_block__isnull=False).count() == 50
    assert {comment.code_block for comment in comments} == {None, 1, 2, 3}
    chain = [comment for comment in comments if comment.depth == 2]
    assert Comment.objects.filter(parent__in=chain).exists()  # replies beyond the third level
    Comment.objects.filter(pk=comments[1].pk).update(hidden_at=timezone.now())
    Comment.objects.filter(pk=comments[5].pk).update(deleted_at=timezone.now(), body="", body_html="")
    authors[-1].delete()
    return quiet, busy


def test_a_visitor_gets_200_comments_in_as_many_queries_as_none(client, lessons):
    quiet, busy = lessons

    assert lesson_page_queries(client, busy) == lesson_page_queries(client, quiet)
    assert "198 comments" in client.get(busy.get_absolute_url()).text  # less the hidden and the deleted one


@pytest.mark.parametrize("role", ["learner", "author", "staff"])
def test_a_signed_in_reader_gets_200_comments_in_as_many_queries_as_none(client, lessons, role):
    quiet, busy = lessons
    if role == "author":
        reader = Comment.objects.filter(lesson=busy).exclude(author=None).first().author
        EmailAddress.objects.update_or_create(user=reader, email=reader.email, defaults={"verified": True})
    else:
        reader = verified(StaffFactory() if role == "staff" else UserFactory())
    services.follow(learner=reader, lesson=busy)
    for comment in Comment.objects.filter(lesson=busy)[:3]:
        Notification.objects.create(recipient=reader, kind=Notification.Kind.COMMENT, comment=comment)
    client.force_login(reader)

    assert lesson_page_queries(client, busy) == lesson_page_queries(client, quiet)
    assert f'action="/comments/lessons/{busy.pk}/"' in client.get(busy.get_absolute_url()).text


def test_the_threads_are_two_queries_with_the_ladder_the_panel_already_read(lessons, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    from comments.selectors import lesson_thread
    from progress.models import Level

    _, busy = lessons
    ladder = Level.objects.ladder()
    reader = verified(UserFactory())
    with django_assert_num_queries(2):  # the comments of the threads shown, and the counts of them all
        assert lesson_thread(lesson=busy, user=AnonymousUser(), ladder=ladder).count == 198
    with django_assert_num_queries(3):  # and whether the reader follows the lesson
        lesson_thread(lesson=busy, user=reader, ladder=ladder)
    keep_ladder()
    with CaptureQueriesContext(connection) as queries:  # the ladder, where the page has not read it: from the cache
        lesson_thread(lesson=busy, user=AnonymousUser())
    assert sum(not is_cache_query(query["sql"]) for query in queries) == 2


# How threads are shown


class CommentNesting(HTMLParser):
    """For each comment on the page: the comment it is shown under (None at the top) and how deep."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[int | None] = []  # the <li> elements we are inside; None for those not comments
        self.shown_under: dict[int, int | None] = {}
        self.level: dict[int, int] = {}

    def handle_starttag(self, tag, attrs) -> None:
        if tag != "li":
            return
        attributes = dict(attrs)
        pk = None
        if attributes.get("class") == "comment":
            pk = int(attributes["id"].removeprefix("comment-"))
            enclosing = [open_pk for open_pk in self.open if open_pk is not None]
            self.shown_under[pk] = enclosing[-1] if enclosing else None
            self.level[pk] = len(enclosing)
        self.open.append(pk)

    def handle_endtag(self, tag) -> None:
        if tag == "li":
            self.open.pop()


def comment_html(page: str, comment: Comment) -> str:
    start = page.index(f'<li class="comment" id="comment-{comment.pk}">')
    return page[start : page.index("</header>", start)]


def test_replies_nest_three_levels_and_deeper_ones_show_flat_under_the_third_naming_whom_they_answer(client, lesson):
    ada, grace, alan, edsger, barbara = (
        verified(UserFactory(display_name=name)) for name in ["Ada", "Grace", "Alan", "Edsger", "Barbara"]
    )
    root = services.post_comment(author=ada, lesson=lesson, body="Level one.")
    second = services.post_comment(author=grace, lesson=lesson, body="Level two.", parent=root)
    third = services.post_comment(author=alan, lesson=lesson, body="Level three.", parent=second)
    fourth = services.post_comment(author=edsger, lesson=lesson, body="Level four.", parent=third)
    fifth = services.post_comment(author=barbara, lesson=lesson, body="Level five.", parent=fourth)
    other = services.post_comment(author=grace, lesson=lesson, body="Another thread.")
    sibling = services.post_comment(author=ada, lesson=lesson, body="A second reply.", parent=second)

    page = client.get(lesson.get_absolute_url()).text
    nesting = CommentNesting()
    nesting.feed(page)

    assert [comment.depth for comment in (root, second, third, fourth, fifth)] == [0, 1, 2, 2, 2]
    assert nesting.shown_under == {
        root.pk: None,
        second.pk: root.pk,
        third.pk: second.pk,
        fourth.pk: second.pk,
        fifth.pk: second.pk,
        sibling.pk: second.pk,
        other.pk: None,
    }
    assert nesting.level[fifth.pk] == 2
    # Under the second level, in the order they were written.
    order = [pk for pk in nesting.shown_under if nesting.shown_under[pk] == second.pk]
    assert order == [third.pk, fourth.pk, fifth.pk, sibling.pk]
    assert "in reply to <bdi>Alan</bdi>" in comment_html(page, fourth)
    assert "in reply to <bdi>Edsger</bdi>" in comment_html(page, fifth)
    for nested in (root, second, third, sibling, other):
        assert "in reply to" not in comment_html(page, nested)


def test_comment_and_notification_times_are_valid_html_dates(client, lesson, commenter, other_commenter):
    """Regression: the ISO format with microseconds is not a valid datetime attribute (the Nu checker's error)."""
    question = services.post_comment(author=commenter, lesson=lesson, body="Question.")
    services.post_comment(author=other_commenter, lesson=lesson, body="Answer.", parent=question)
    client.force_login(commenter)

    for url in (lesson.get_absolute_url(), "/notifications/"):
        times = re.findall(r'<time[^>]* datetime="([^"]*)"', client.get(url).text)
        assert times
        for value in times:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", value), (url, value)


def notifications_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/notifications/")
    assert response.status_code == 200
    return [query["sql"] for query in queries if not is_cache_query(query["sql"])]


def test_the_notifications_page_runs_as_many_queries_for_30_rows_as_for_1_and_reads_no_bodies(client, lesson):
    reader = UserFactory(display_name="Reader")
    question = Comment.objects.create(author=reader, lesson=lesson, body="Question.")
    writers = [UserFactory(display_name=f"Writer {n}") for n in range(31)]

    def notify(writer, kind) -> None:
        answer = Comment.objects.create(author=writer, lesson=lesson, body="Answer " * 200, parent=question)
        Notification.objects.create(recipient=reader, kind=kind, comment=answer)

    notify(writers[0], Notification.Kind.REPLY)
    client.force_login(reader)
    few = notifications_queries(client)
    for n, writer in enumerate(writers[1:]):
        notify(writer, Notification.Kind.REPLY if n % 2 else Notification.Kind.COMMENT)
    writers[5].delete()  # a row whose author has since left

    many = notifications_queries(client)

    assert len(many) == len(few)
    assert not any('"body' in sql or '"text"' in sql for sql in many)  # neither the comments' nor the lessons'
    page = client.get("/notifications/").text
    assert page.count('<li class="notification') == 30 and "deleted learner" in page
