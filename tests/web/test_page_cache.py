"""Public pages served to visitors from the shared cache: fresh after every change, never someone else's."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comments.models import Comment
from tests.comments.conftest import hide, verified
from tests.conftest import is_cache_query
from tests.factories import LessonFactory, StaffFactory, UserFactory
from web.page_cache import csrf_placeholder

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson():
    return LessonFactory(course__slug="asyncio", slug="one", title="Async basics")


def page(client, url: str, **headers):
    """The response and the queries it made, but for the cache's own."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, [query["sql"] for query in queries if not is_cache_query(query["sql"])]


def comment_on(lesson, body: str) -> Comment:
    """A comment posted through the form by a new learner."""
    author = verified(UserFactory())
    client = Client()
    client.force_login(author)
    assert client.post(f"/comments/lessons/{lesson.pk}/", {"body": body}).status_code == 302
    return Comment.objects.get(author=author)


def csrf_token_in(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("url", ["/", "/courses/asyncio/", "/courses/asyncio/one/"])
def test_a_second_visitor_is_answered_from_the_cache_without_a_query(lesson, url):
    first, rendering = page(Client(), url)
    assert first.status_code == 200 and rendering
    second, queries = page(Client(), url)
    assert second.status_code == 200
    assert queries == []
    assert without_tokens(second) == without_tokens(first)


def without_tokens(response) -> bytes:
    """The page without what is new in each copy sent: the CSRF token and the forms' submission keys."""
    content = response.content.replace(csrf_token_in(response).encode(), b"")
    return re.sub(rb'name="submission" value="[0-9a-f]{32}"', b"", content)


def test_visitors_see_a_new_comment_and_a_changed_lesson_at_once(lesson):
    url = lesson.get_absolute_url()
    assert "Well explained" not in Client().get(url).content.decode()
    comment_on(lesson, "Well explained")
    assert "Well explained" in Client().get(url).content.decode()

    lesson.title = "Async in depth"
    lesson.save()
    assert "Async in depth" in Client().get(url).content.decode()
    assert "Async in depth" in Client().get("/courses/asyncio/").content.decode()


def test_a_hidden_comment_leaves_the_visitors_page_at_once(lesson):
    comment = comment_on(lesson, "Buy my course")
    assert "Buy my course" in Client().get(lesson.get_absolute_url()).content.decode()
    hide(comment, by=StaffFactory())
    assert "Buy my course" not in Client().get(lesson.get_absolute_url()).content.decode()


def test_an_unpublished_lesson_is_gone_for_visitors_at_once(lesson, staff_client):
    url = lesson.get_absolute_url()
    assert Client().get(url).status_code == 200
    staff_client.post("/admin/courses/lesson/", {"action": "unpublish", "_selected_action": [lesson.pk]})
    assert Client().get(url).status_code == 404


def test_each_visitor_gets_a_token_of_their_own_that_the_forms_accept(lesson):
    url = lesson.get_absolute_url()
    Client().get(url)  # now cached
    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        response = visitor.get(url)
        token = csrf_token_in(response)
        assert csrf_placeholder() not in response.content.decode()
        assert "csrftoken" in response.cookies
        switched = visitor.post("/i18n/setlang/", {"language": "ko", "next": url, "csrfmiddlewaretoken": token})
        assert switched.status_code == 302
        tokens.append(visitor.cookies["csrftoken"].value)
    assert tokens[0] != tokens[1]


def test_the_placeholder_depends_on_the_secret_key(settings):
    before = csrf_placeholder()
    csrf_placeholder.cache_clear()
    settings.SECRET_KEY = "another-secret-key-0123456789-0123456789-0123456789"
    try:
        assert csrf_placeholder() != before
    finally:
        csrf_placeholder.cache_clear()


def test_signed_in_readers_and_staff_never_get_the_visitors_page(lesson, learner, staff):
    Client().get("/")  # now cached for visitors
    reader = Client()
    reader.force_login(learner)
    assert "Sign out" in reader.get("/").content.decode()
    draft = LessonFactory(course=lesson.course, slug="draft", title="Secret draft", status="draft")
    Client().get("/courses/asyncio/")
    staff_reader = Client()
    staff_reader.force_login(staff)
    assert "Secret draft" in staff_reader.get("/courses/asyncio/").content.decode()
    assert "Secret draft" not in Client().get("/courses/asyncio/").content.decode()
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_the_page_is_cached_per_language(lesson):
    Client().get("/")
    korean = Client().get("/", headers={"accept-language": "ko"})
    assert korean["Content-Language"] == "ko"
    assert "강의" in korean.content.decode()
    assert "강의" not in Client().get("/").content.decode()


def test_a_visitor_with_a_message_waiting_is_not_answered_from_the_cache(lesson, learner):
    Client().get("/")
    reader = Client()
    reader.force_login(learner)
    reader.post("/accounts/logout/")
    assert "You have signed out." in reader.get("/").content.decode()


def test_a_query_string_other_than_the_page_is_not_kept(lesson):
    Client().get("/?utm_source=mail")
    _, queries = page(Client(), "/?utm_source=mail")
    assert queries  # rendered again: arbitrary query strings cannot fill the cache


def test_a_repeat_visit_is_answered_304_until_the_page_changes(lesson):
    visitor = Client()
    url = lesson.get_absolute_url()
    first = visitor.get(url)
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"]
    again, queries = page(visitor, url, if_none_match=etag)
    assert again.status_code == 304 and again.content == b""
    assert queries == []
    comment_on(lesson, "New here")
    changed = visitor.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert "New here" in changed.content.decode()
    # Another visitor's copy holds another token: it is not theirs to keep.
    assert Client().get(url, headers={"if-none-match": changed["ETag"]}).status_code == 200


def test_visitors_see_an_edited_comment_at_once(lesson):
    comment = comment_on(lesson, "First words")
    assert "First words" in Client().get(lesson.get_absolute_url()).content.decode()
    author = Client()
    author.force_login(comment.author)
    assert author.post(f"/comments/{comment.pk}/edit/", {"body": "Second thoughts"}).status_code == 302
    page = Client().get(lesson.get_absolute_url()).content.decode()
    assert "Second thoughts" in page and "First words" not in page


# Signed-in readers: a copy each, stale after any change to what is theirs on the page


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def xp_on(response) -> str:
    return re.search(r'<dd data-field="xp">(\d+)</dd>', response.content.decode()).group(1)


def test_a_signed_in_reader_is_answered_from_the_cache_with_their_session_and_user_only(lesson):
    learner = UserFactory(display_name="Cached Reader")
    reader = signed_in(learner)
    url = lesson.get_absolute_url()
    _, rendering = page(reader, url)
    response, queries = page(reader, url)
    assert response.status_code == 200 and learner.display_name in response.content.decode()
    assert len(queries) == 1 < len(rendering)  # the session (in the database here), not even the user


def test_each_reader_gets_their_own_copy(lesson):
    url = lesson.get_absolute_url()
    signed_in(UserFactory(display_name="First Reader")).get(url)
    page = signed_in(UserFactory(display_name="Someone Else")).get(url).content.decode()
    assert "Someone Else" in page and "First Reader" not in page


def test_completing_a_lesson_shows_at_once_on_the_cached_page(lesson, learner):
    reader = signed_in(learner)
    url = lesson.get_absolute_url()
    assert xp_on(reader.get(url)) == "0"
    assert reader.post(f"/progress/lessons/{lesson.pk}/complete/").status_code == 302
    reader.get(url)  # shows the "completed" message, so it is rendered afresh
    assert int(xp_on(reader.get(url))) >= lesson.xp > 0


def test_a_reply_rings_the_bell_on_the_cached_page_and_reading_it_stops_it(lesson):
    url = lesson.get_absolute_url()
    comment = comment_on(lesson, "A question")
    author = signed_in(comment.author)
    assert "unread" not in author.get(url).content.decode()
    replier = signed_in(verified(UserFactory()))
    replier.post(f"/comments/lessons/{lesson.pk}/", {"body": "An answer", "parent": comment.pk})
    assert '1<span class="visually-hidden"> unread' in author.get(url).content.decode()
    author.post("/notifications/read/")
    assert "unread" not in author.get(url).content.decode()


def test_a_new_display_name_shows_at_once(lesson, learner):
    reader = signed_in(learner)
    reader.get("/")
    learner.display_name = "Renamed Reader"
    learner.save()
    assert "Renamed Reader" in reader.get("/").content.decode()


def test_a_signed_in_readers_message_is_shown_not_a_cached_copy(lesson, learner):
    reader = signed_in(learner)
    reader.get("/")
    form = {"display_name": "Ada", "time_zone": "UTC", "on_leaderboard": "on"}
    assert reader.post("/accounts/settings/", form).status_code == 302
    assert "Your settings are saved." in reader.get("/").content.decode()
    assert "Your settings are saved." not in reader.get("/").content.decode()


def test_my_progress_is_kept_per_reader_and_shows_a_completion_at_once(lesson, learner):
    reader = signed_in(learner)
    _, rendering = page(reader, "/me/")
    response, queries = page(reader, "/me/")
    assert response.status_code == 200
    assert len(queries) == 1 < len(rendering)
    assert reader.post(f"/progress/lessons/{lesson.pk}/complete/").status_code == 302
    reader.get("/me/")  # shows the "completed" message, so it is rendered afresh
    assert lesson.title in reader.get("/me/").content.decode()  # in the XP history


def test_a_session_ended_by_a_new_password_gets_no_copy_of_the_readers_page(lesson, learner):
    stolen = signed_in(learner)
    assert "Sign out" in stolen.get("/").content.decode()  # a copy kept for this session
    learner.set_password("a-new-password-0123")
    learner.save()
    assert "Sign out" in signed_in(learner).get("/").content.decode()  # the owner's new session, and its copy
    page = stolen.get("/").content.decode()
    assert "Sign out" not in page and "Sign in" in page


def test_a_deactivated_readers_session_gets_no_copy(lesson, learner):
    reader = signed_in(learner)
    reader.get("/")
    learner.is_active = False
    learner.save()
    assert "Sign out" not in reader.get("/").content.decode()


def test_a_cached_copy_costs_a_signed_in_reader_no_query_with_the_session_in_the_cache(lesson, learner, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    reader = signed_in(learner)
    reader.get(lesson.get_absolute_url())
    response, queries = page(reader, lesson.get_absolute_url())
    assert response.status_code == 200 and "Sign out" in response.content.decode()
    assert queries == []


def test_no_copies_are_kept_when_the_setting_is_zero_as_in_development(lesson, settings):
    settings.PAGE_CACHE_SECONDS = 0
    Client().get("/")
    _, queries = page(Client(), "/")
    assert queries  # rendered again: a template just edited shows at once


# Only what changed goes stale (web/page_cache.py's table)


def from_the_cache(client, url: str) -> bool:
    """Whether ``url`` was answered from a kept copy: no query but, for a signed-in reader, the session's."""
    response, queries = page(client, url)
    assert response.status_code == 200
    return len(queries) <= (1 if settings.SESSION_COOKIE_NAME in client.cookies else 0)


def test_a_comment_on_one_lesson_leaves_the_other_lessons_copies_fresh_for_every_reader(lesson, learner):
    other = LessonFactory(course=lesson.course, slug="two")
    visitor, reader = Client(), signed_in(learner)
    for client in (visitor, reader):
        for url in (lesson.get_absolute_url(), other.get_absolute_url(), "/", "/courses/asyncio/"):
            client.get(url)
    comment = comment_on(lesson, "Only here")
    hide(comment, by=StaffFactory())
    for client in (visitor, reader):
        assert from_the_cache(client, other.get_absolute_url())
        assert from_the_cache(client, "/") and from_the_cache(client, "/courses/asyncio/")
        assert not from_the_cache(client, lesson.get_absolute_url())


def test_a_completion_leaves_other_readers_copies_fresh(lesson, learner):
    someone_else = signed_in(UserFactory())
    visitor = Client()
    for client in (someone_else, visitor):
        client.get(lesson.get_absolute_url())
    completing = signed_in(learner)
    assert completing.post(f"/progress/lessons/{lesson.pk}/complete/").status_code == 302
    assert from_the_cache(someone_else, lesson.get_absolute_url())
    assert from_the_cache(visitor, lesson.get_absolute_url())


def test_a_follow_changes_the_followers_copy_alone(lesson, learner):
    verified(learner)
    follower, visitor = signed_in(learner), Client()
    for client in (follower, visitor):
        client.get(lesson.get_absolute_url())
    assert follower.post(f"/comments/lessons/{lesson.pk}/follow/", {"follow": "1"}).status_code == 302
    follower.get(lesson.get_absolute_url())  # the message beside the button
    assert 'aria-pressed="true"' in follower.get(lesson.get_absolute_url()).content.decode()
    assert from_the_cache(visitor, lesson.get_absolute_url())
