import json
import re

import pytest
from django.core.cache import cache

from courses.models import Lesson, Status
from progress import services
from progress.models import Achievement, Completion, LearnerProgress, Level, Rule, Unlock, XPEntry
from tests.conftest import keep_ladder
from tests.factories import AchievementFactory, LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


def complete_url(lesson) -> str:
    return f"/progress/lessons/{lesson.pk}/complete/"


def test_mark_complete_without_javascript_pays_xp_and_says_so_on_the_lesson_page(learner_client, learner):
    Achievement.objects.exclude(code="first-lesson").delete()
    lesson = LessonFactory(xp=25)
    response = learner_client.post(complete_url(lesson))
    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#lesson-completion"
    page = learner_client.get(response["Location"]).content.decode()
    # Beside the button that earned it (the redirect's anchor), not at the top of the page.
    beside = page[page.index('id="completion-result"') :]
    assert "Lesson complete: +25 XP." in beside
    assert "Achievement unlocked: 🌱 First Lesson Completed (+5 XP)" in beside
    top = page[page.index('id="messages"') : page.index('id="main"')]
    assert "Lesson complete" not in top
    assert "Completed ✓" in page and "Mark as not complete" in page
    assert LearnerProgress.objects.get(learner=learner).xp == 30


def test_a_reload_that_posts_again_pays_nothing_more(learner_client, learner):
    lesson = LessonFactory(xp=25)
    learner_client.post(complete_url(lesson), follow=True)
    xp = LearnerProgress.objects.get(learner=learner).xp
    page = learner_client.post(complete_url(lesson), follow=True).content.decode()
    assert "Lesson complete" not in page
    assert "You completed this lesson already; it pays its XP once." in page
    assert LearnerProgress.objects.get(learner=learner).xp == xp
    assert XPEntry.objects.filter(learner=learner, reason="lesson").count() == 1


def test_mark_complete_with_javascript_answers_the_new_panel_and_button(learner_client):
    Achievement.objects.all().delete()
    lesson = LessonFactory(xp=120)
    answer = learner_client.post(complete_url(lesson), **JSON).json()
    assert answer["completed"] is True
    assert answer["messages"] == ["Lesson complete: +120 XP.", "You reached level 1: First Steps!"]
    assert 'data-field="level-title">First Steps<' in answer["panel"]
    assert 'data-completion="uncomplete"' in answer["completion"] and "Completed ✓" in answer["completion"]


def test_unmarking_keeps_the_xp(learner_client, learner):
    Achievement.objects.all().delete()
    lesson = LessonFactory(xp=10)
    learner_client.post(complete_url(lesson))
    response = learner_client.post(f"/progress/lessons/{lesson.pk}/uncomplete/", follow=True)
    assert "The XP it earned stays yours." in response.content.decode()
    assert "Mark complete" in response.content.decode()
    assert not Completion.objects.filter(learner=learner).exists()
    assert LearnerProgress.objects.get(learner=learner).xp == 10


def test_a_visitor_without_javascript_is_asked_to_sign_in(client):
    lesson = LessonFactory()
    response = client.post(complete_url(lesson))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not Completion.objects.exists()
    answer = client.post(complete_url(lesson), **JSON)
    assert answer.status_code == 401 and "Sign in again" in answer.json()["error"]


def test_drafts_are_hidden_from_learners_and_refused_to_staff(learner_client, client):
    draft = LessonFactory(status=Status.DRAFT, published_at=None)
    assert learner_client.post(complete_url(draft)).status_code == 404
    client.force_login(StaffFactory())
    response = client.post(complete_url(draft), **JSON)
    assert response.status_code == 409
    assert response.json() == {"error": "Only published lessons can be completed."}
    assert "Only published lessons can be completed." in client.get(draft.get_absolute_url()).content.decode()
    assert not Completion.objects.exists()


def test_completion_needs_a_post_with_a_csrf_token(learner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    lesson = LessonFactory()
    assert client.get(complete_url(lesson)).status_code == 405
    refused = client.post(complete_url(lesson), **JSON)
    assert refused.status_code == 403 and "expired" in refused.json()["error"]
    assert not Completion.objects.exists()


def test_completions_are_rate_limited_per_learner(learner_client, client):
    lessons = LessonFactory.create_batch(31, xp=1)
    statuses = [learner_client.post(complete_url(lesson), **JSON).status_code for lesson in lessons]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert "Wait a minute" in learner_client.post(complete_url(lessons[30]), **JSON).json()["error"]
    assert Completion.objects.count() == 30
    # Another learner is not held back.
    client.force_login(UserFactory())
    assert client.post(complete_url(lessons[30]), **JSON).status_code == 200


# The sync of a browser's signed-out completions


def sync(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/progress/sync/", data, content_type="application/json", **JSON, **extra)


def test_sync_adds_published_lessons_and_says_what_it_ignored(learner_client, learner):
    Achievement.objects.all().delete()
    lessons = LessonFactory.create_batch(3, xp=10)
    draft = LessonFactory(status=Status.DRAFT, published_at=None)
    ids = [lesson.pk for lesson in lessons]
    answer = sync(learner_client, {"lessons": [*ids, draft.pk, ids[0], 424242]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] == ids
    assert body["ignored"] == [
        {"lesson": draft.pk, "reason": "unknown"},
        {"lesson": ids[0], "reason": "duplicate"},
        {"lesson": 424242, "reason": "unknown"},
    ]
    assert body["messages"] == ["3 lessons from this browser were added to your account."]
    assert LearnerProgress.objects.get(learner=learner).xp == 30
    again = sync(learner_client, {"lessons": ids}).json()
    assert again["accepted"] == [] and again["messages"] == []
    assert LearnerProgress.objects.get(learner=learner).xp == 30


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        ([1, 2], 400, 'Send {"lessons": [...]}'),
        ({"lessons": "1,2"}, 400, 'Send {"lessons": [...]}'),
        ({"lessons": [1, "2"]}, 400, 'Send {"lessons": [...]}'),
        ({"lessons": [1, True]}, 400, 'Send {"lessons": [...]}'),
        ({"lessons": [1.5]}, 400, 'Send {"lessons": [...]}'),
        ({"lessons": list(range(1001))}, 413, "At most 1000 lessons"),
        ("[" * 100_000 + "]" * 100_000, 400, 'Send {"lessons": [...]}'),
        ('{"lessons": [1, ' + "[" * 100_000 + "]" * 100_000 + "]}", 400, 'Send {"lessons": [...]}'),
    ],
    ids=["text", "bytes", "list", "string", "string-item", "bool", "float", "too-many", "deep", "deep-item"],
)
def test_sync_refuses_bad_input_whole_and_awards_nothing(learner_client, body, status, message):
    lesson = LessonFactory()
    if isinstance(body, dict) and isinstance(body["lessons"], list) and body["lessons"][:1] == [1]:
        body["lessons"][0] = lesson.pk  # a valid id beside the bad one is not taken either
    answer = sync(learner_client, body)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert not Completion.objects.exists() and not XPEntry.objects.exists()


def test_a_sync_body_past_the_upload_limit_is_refused_in_json(learner_client, settings):
    """Regression: Django's own 400 page answered it, in HTML, which the page's script cannot read."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    lesson = LessonFactory()
    answer = sync(learner_client, {"lessons": [lesson.pk] * 400})
    assert answer.status_code == 413
    assert "At most 1000 lessons" in answer.json()["error"]
    assert not Completion.objects.exists()


def test_sync_needs_a_signed_in_learner_and_a_csrf_token(client, learner):
    from django.test import Client

    lesson = LessonFactory()
    answer = sync(client, {"lessons": [lesson.pk]})
    assert answer.status_code == 401 and "Sign in" in answer.json()["error"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert sync(strict, {"lessons": [lesson.pk]}).status_code == 403
    assert not Completion.objects.exists()


# Queries of the lesson page


def lesson_page_queries(client, lesson, django_assert_max_num_queries) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    keep_ladder()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(lesson.get_absolute_url()).status_code == 200
    return len(queries)


def test_the_lesson_page_costs_the_same_for_a_new_and_a_seasoned_learner(client, django_assert_max_num_queries):
    lessons = LessonFactory.create_batch(5)
    lesson = lessons[0]
    anonymous = lesson_page_queries(client, lesson, django_assert_max_num_queries)
    newcomer = UserFactory()
    client.force_login(newcomer)
    new = lesson_page_queries(client, lesson, django_assert_max_num_queries)
    seasoned = UserFactory()
    many = LessonFactory.create_batch(500, course=lesson.course, xp=1)
    Completion.objects.bulk_create(
        Completion(learner=seasoned, lesson=other, completed_at=other.published_at) for other in many
    )
    for achievement in Achievement.objects.all():
        Unlock.objects.create(learner=seasoned, achievement=achievement, unlocked_at=lesson.published_at)
    services.adjust_xp(learner=seasoned, amount=900, note="Imported", by=StaffFactory())
    client.force_login(seasoned)
    assert lesson_page_queries(client, lesson, django_assert_max_num_queries) == new
    assert new <= anonymous + 4
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert f"<dd>{Achievement.objects.count()}/{Achievement.objects.count()}</dd>" in page
    assert '<span data-field="lessons-completed">500</span>/505' in page


def test_the_panel_shows_the_top_level_without_a_bar(client, learner):
    from progress.models import Level

    top = Level.objects.order_by("-xp_required").first()
    services.adjust_xp(learner=learner, amount=top.xp_required + 5, note="Veteran", by=StaffFactory())
    client.force_login(learner)
    page = client.get(LessonFactory().get_absolute_url()).content.decode()
    assert f'<span data-field="level-title">{top.title_en}</span>' in page
    assert '<div class="panel-level" data-field="next-level" hidden>' in page
    assert '<p class="panel-top-level" data-field="top-level">Top level reached' in page


def test_the_panel_counts_the_learners_course_share(client, learner):
    Achievement.objects.filter(rule=Rule.COURSES_COMPLETED).delete()
    first = LessonFactory()
    others = LessonFactory.create_batch(3, course=first.course)
    services.complete_lesson(learner=learner, lesson=first)
    client.force_login(learner)
    page = client.get(others[0].get_absolute_url()).content.decode()
    assert '<span data-field="course-percent">25</span>% of this course complete' in page
    assert '<progress id="course-progress" max="4" value="1">' in page


def test_sync_ignores_numbers_that_name_no_lesson(learner_client):
    lesson = LessonFactory()
    answer = sync(learner_client, {"lessons": [10**30, -5, 0, 2**63, lesson.pk]}).json()
    assert answer["accepted"] == [lesson.pk]
    assert [item["reason"] for item in answer["ignored"]] == ["unknown"] * 4


def test_a_lesson_number_past_the_database_range_is_not_found(learner_client):
    assert learner_client.post(f"/progress/lessons/{10**30}/complete/").status_code == 404


def test_sync_takes_as_many_as_1000_lessons_at_once(learner_client):
    answer = sync(learner_client, {"lessons": list(range(1, 1001))})
    assert answer.status_code == 200
    assert len(answer.json()["ignored"]) == 1000


def test_a_completion_that_reaches_no_new_level_says_only_what_it_paid(learner_client):
    Achievement.objects.all().delete()
    answer = learner_client.post(complete_url(LessonFactory(xp=10)), **JSON).json()
    assert answer["messages"] == ["Lesson complete: +10 XP."]


def test_a_bonus_that_lifts_the_learner_a_level_is_announced(learner_client):
    """The level before is counted without the bonus too: here the bonus, not the lesson, crosses the threshold."""
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=1, bonus_xp=100, icon="🌱", title_en="First")
    answer = learner_client.post(complete_url(LessonFactory(xp=10)), **JSON).json()
    assert answer["messages"] == [
        "Lesson complete: +10 XP.",
        "Achievement unlocked: 🌱 First (+100 XP)",
        "You reached level 1: First Steps!",
    ]


def test_unmarking_needs_a_post(learner_client, learner):
    lesson = LessonFactory()
    services.complete_lesson(learner=learner, lesson=lesson)
    assert learner_client.get(f"/progress/lessons/{lesson.pk}/uncomplete/").status_code == 405
    assert Completion.objects.filter(learner=learner, lesson=lesson).exists()


def test_unmarking_a_lesson_that_was_not_marked_says_nothing(learner_client):
    lesson = LessonFactory()
    answer = learner_client.post(f"/progress/lessons/{lesson.pk}/uncomplete/", **JSON).json()
    assert answer["completed"] is False and answer["messages"] == []


def test_a_visitor_cannot_unmark_and_is_asked_to_sign_in(client):
    lesson = LessonFactory()
    response = client.post(f"/progress/lessons/{lesson.pk}/uncomplete/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    answer = client.post(f"/progress/lessons/{lesson.pk}/uncomplete/", **JSON)
    assert answer.status_code == 401 and "Sign in again" in answer.json()["error"]


def test_sync_says_which_achievements_the_added_lessons_unlocked(learner_client):
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=2, icon="📚", title_en="Two down")
    ids = [lesson.pk for lesson in LessonFactory.create_batch(2, xp=10)]
    answer = sync(learner_client, {"lessons": ids}).json()
    assert answer["messages"] == [
        "2 lessons from this browser were added to your account.",
        "Achievement unlocked: 📚 Two down",
    ]
    assert answer["xp_awarded"] == 20


def test_sync_needs_a_post(learner_client):
    assert learner_client.get("/progress/sync/").status_code == 405


def test_sync_is_rate_limited_per_learner(learner_client, client):
    lesson = LessonFactory()
    statuses = [sync(learner_client, {"lessons": [lesson.pk]}).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert "Wait a minute" in sync(learner_client, {"lessons": [lesson.pk]}).json()["error"]
    client.force_login(UserFactory())
    assert sync(client, {"lessons": [lesson.pk]}).status_code == 200


def test_the_panel_counts_only_published_lessons_and_the_learners_own_achievements(client, learner):
    Achievement.objects.filter(rule=Rule.COURSES_COMPLETED).delete()
    lesson = LessonFactory()
    later_draft = LessonFactory(course=lesson.course)
    LessonFactory(course=lesson.course, status=Status.DRAFT, published_at=None)
    services.complete_lesson(learner=learner, lesson=later_draft)
    Lesson.objects.filter(pk=later_draft.pk).update(status=Status.DRAFT)
    services.complete_lesson(learner=UserFactory(), lesson=lesson)  # unlocks an achievement for someone else
    elsewhere = LessonFactory()
    services.complete_lesson(learner=learner, lesson=elsewhere)
    unlocked = Unlock.objects.filter(learner=learner).count()
    client.force_login(learner)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert f'<span data-field="lessons-completed">1</span>/{Lesson.objects.published().count()}<' in page
    assert f"<dd>{unlocked}/{Achievement.objects.count()}</dd>" in page
    assert '<span data-field="course-percent">0</span>% of this course complete' in page


def test_a_course_without_published_lessons_shows_no_share_completed(client):
    client.force_login(StaffFactory())
    draft = LessonFactory(status=Status.DRAFT, published_at=None)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert '<span data-field="course-percent">0</span>% of this course complete' in page


def test_the_lesson_page_shows_only_the_button_for_the_lessons_state(client, learner):
    """Without the script nothing hides a form: the page itself must hide the one that does not apply."""
    lesson = LessonFactory()
    visitor = client.get(lesson.get_absolute_url()).content.decode()
    assert re.search(r'<form [^>]*data-completion="complete">', visitor)
    assert re.search(r'<form [^>]*data-completion="uncomplete" hidden>', visitor)  # the script shows it if need be
    client.force_login(learner)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert re.search(r'<form [^>]*data-completion="complete">', page)
    assert 'data-completion="uncomplete"' not in page
    services.complete_lesson(learner=learner, lesson=lesson)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert re.search(r'<form [^>]*data-completion="complete" hidden>', page)
    assert re.search(r'<form [^>]*data-completion="uncomplete">', page)


def test_the_panel_hides_the_top_level_note_below_the_top(client, learner):
    client.force_login(learner)
    page = client.get(LessonFactory().get_absolute_url()).content.decode()
    assert '<div class="panel-level" data-field="next-level">' in page
    assert '<p class="panel-top-level" data-field="top-level" hidden>' in page


class Clock:
    """Stands in for the ``time`` module of allauth's rate limits, so a test can let an hour pass at once."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_completions_are_limited_to_300_an_hour(learner_client, monkeypatch):
    from allauth.core.internal import ratelimit

    clock = Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    url = complete_url(LessonFactory())
    statuses = []
    for _ in range(10):
        statuses += [learner_client.post(url).status_code for _ in range(30)]
        clock.now += 61  # past the per-minute limit, still within the hour
    assert statuses == [302] * 300
    assert learner_client.post(url).status_code == 429
    clock.now += 3600
    assert learner_client.post(url).status_code == 302


def test_mark_complete_and_continue_goes_to_the_next_lesson_and_says_what_was_earned_there(learner_client):
    Achievement.objects.all().delete()
    first = LessonFactory(xp=10, title="First")
    second = LessonFactory(course=first.course, title="Second", position=first.position + 1)
    page = learner_client.get(first.get_absolute_url()).content.decode()
    assert '<button type="submit" name="continue" value="1">Mark complete and continue</button>' in page
    response = learner_client.post(complete_url(first), {"continue": "1"})
    assert response["Location"] == second.get_absolute_url()
    page = learner_client.get(response["Location"]).content.decode()
    top = page[page.index('id="messages"') : page.index('id="main"')]
    assert "Lesson complete: +10 XP." in top
    assert Completion.objects.filter(lesson=first).exists()


def test_the_script_is_sent_on_to_the_next_lesson_with_nothing_rendered_that_would_eat_the_messages(
    learner_client,
):
    Achievement.objects.all().delete()
    first = LessonFactory(xp=10)
    second = LessonFactory(course=first.course, position=first.position + 1)
    answer = learner_client.post(complete_url(first), {"continue": "1"}, **JSON).json()
    assert answer == {"messages": ["Lesson complete: +10 XP."], "next_url": second.get_absolute_url()}
    assert "Lesson complete: +10 XP." in learner_client.get(second.get_absolute_url()).content.decode()


def test_a_completed_lesson_offers_the_next_one_and_the_last_one_the_course_end(learner_client, learner):
    Achievement.objects.all().delete()
    first = LessonFactory(xp=10, exercise="Write add.", exercise_checks="assert True", exercise_xp=5)
    last = LessonFactory(course=first.course, xp=20, position=first.position + 1)
    later = LessonFactory(course__title="After", course__position=first.course.position + 1).course
    services.complete_lesson(learner=learner, lesson=first)
    page = learner_client.get(first.get_absolute_url()).content.decode()
    assert f'<a class="button next-lesson" href="{last.get_absolute_url()}">Next lesson:' in page
    assert 'id="course-end"' not in page  # a learner still on the way has no course end yet

    answer = learner_client.post(complete_url(last), **JSON).json()
    end = answer["completion"][answer["completion"].index('id="course-end"') :]
    assert "hidden" not in end[: end.index(">")]
    assert "Course complete:" in end and "2 lessons, 35 XP in all." in end
    certificate = learner.certificates.get()
    assert f'href="{certificate.get_absolute_url()}">Your certificate</a>' in end
    assert f'href="{later.get_absolute_url()}">Next course:' in end
    assert "Lesson complete: +20 XP." in answer["completion"]  # beside the button, in its live region


def test_the_catalogue_offers_a_learner_the_lesson_where_they_left_off(client, learner):
    Achievement.objects.all().delete()
    first = LessonFactory(title="First")
    second = LessonFactory(course=first.course, title="Second", position=first.position + 1)
    visitors = client.get("/").content.decode()  # the same for every visitor: their script fills it in
    assert (
        '<p class="continue-lesson" id="local-continue" data-outline-url="/courses/0/lessons.json" hidden>' in visitors
    )
    assert visitors.count('class="continue-lesson"') == 1  # no server-rendered Continue beside it
    client.force_login(learner)
    assert "Continue:" not in client.get("/").content.decode()  # nothing completed yet
    services.complete_lesson(learner=learner, lesson=first)
    page = client.get("/").content.decode()
    assert f'<a class="button" href="{second.get_absolute_url()}">Continue: <span' in page
    services.complete_lesson(learner=learner, lesson=second)
    assert "Continue:" not in client.get("/").content.decode()  # the course is done


def test_a_courses_outline_for_a_visitors_continue_holds_its_published_lessons_in_order(client):
    course = LessonFactory(title="First", position=1).course
    LessonFactory(course=course, title="Draft", position=2, status="draft", published_at=None)
    third = LessonFactory(course=course, title="Third", position=3)
    response = client.get(f"/courses/{course.pk}/lessons.json")
    assert response["Cache-Control"] == "public, max-age=60"
    outline = response.json()
    assert (outline["id"], outline["lang"], outline["dir"]) == (course.pk, course.language, "ltr")
    assert [lesson["title"] for lesson in outline["lessons"]] == ["First", "Third"]
    assert outline["lessons"][1] == {"id": third.pk, "title": "Third", "url": third.get_absolute_url()}
    course.status = "draft"
    course.save()
    assert client.get(f"/courses/{course.pk}/lessons.json").status_code == 404


def test_the_panel_says_how_much_xp_is_left_to_the_next_level(client, learner):
    from progress.models import Level

    Achievement.objects.all().delete()  # no bonus on the way
    following = Level.objects.filter(xp_required__gt=10).order_by("xp_required").first()
    services.adjust_xp(learner=learner, amount=following.xp_required - 7, note="Nearly there", by=StaffFactory())
    client.force_login(learner)
    page = client.get(LessonFactory().get_absolute_url()).content.decode()
    assert '<span data-field="xp-to-go">7</span> XP to go' in page


def shown_completion_button(page: str) -> str:
    """The text of the completion form's button that the page shows (the other form is there, hidden)."""
    forms = re.findall(r'<form class="completion-form"[^>]*?( hidden)?>(.*?)</form>', page, re.S)
    [shown] = [body for hidden, body in forms if not hidden]
    return re.search(r"<button[^>]*>([^<]+)</button>", shown).group(1)


def test_the_completion_buttons_say_the_right_thing_in_korean(client, learner):
    lesson = LessonFactory()
    client.force_login(learner)
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    assert shown_completion_button(client.get(lesson.get_absolute_url(), **korean).text) == "완료로 표시"
    services.complete_lesson(learner=learner, lesson=lesson)
    assert shown_completion_button(client.get(lesson.get_absolute_url(), **korean).text) == "완료 취소"


def test_a_level_renamed_in_the_admin_shows_at_once_on_the_pages_that_list_levels(client, learner):
    """The levels are kept in the shared cache; a change to one makes that copy stale like the cached pages."""
    client.force_login(learner)
    lowest = Level.objects.order_by("xp_required").first()
    assert lowest.title in client.get("/xp/").text and lowest.title in client.get("/me/").text  # now kept

    lowest.title_en = "Hatchling"
    lowest.save()

    assert "Hatchling" in client.get("/xp/").text
    assert "Hatchling" in client.get("/me/").text
