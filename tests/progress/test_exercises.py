"""Passing an exercise: the page's script reports that the learner's code passed the checks (which ran in their
browser), and the exercise pays its XP once, like a lesson; signed out, the browser keeps the pass for the sync."""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from courses.models import Status
from progress import services
from progress.models import Achievement, ActivityDay, ExerciseCompletion, LearnerProgress, Reason, Rule, XPEntry
from tests.conftest import keep_ladder
from tests.factories import AchievementFactory, LessonFactory, StaffFactory, UserFactory
from tests.progress.test_pages import heatmap_squares, main_html, section, text

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
CHECKS = 'assert add(2, 3) == 5, "add adds"\n'


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_achievements():
    Achievement.objects.all().delete()


def exercise(**fields):
    """A published lesson whose exercise has checks."""
    return LessonFactory(**{"exercise": "Write add(a, b).", "exercise_checks": CHECKS, "xp": 20, **fields})


def done_url(lesson) -> str:
    return f"/progress/exercises/{lesson.pk}/done/"


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


# The service


def test_passing_an_exercise_pays_its_xp_once_under_its_own_source(learner, no_achievements, assert_ledger_balances):
    lesson = exercise(exercise_xp=15)
    first = services.complete_exercise(learner=learner, lesson=lesson)
    assert (first.completed, first.lesson_xp, first.xp_awarded, first.xp_total) == (True, 15, 15, 15)
    again = services.complete_exercise(learner=learner, lesson=lesson)
    assert (again.completed, again.xp_awarded, again.xp_total) == (False, 0, 15)
    [entry] = XPEntry.objects.filter(learner=learner)
    assert (entry.reason, entry.source, entry.amount, entry.lesson) == (
        Reason.EXERCISE,
        f"exercise:{lesson.pk}",
        15,
        lesson,
    )
    assert ExerciseCompletion.objects.filter(learner=learner, lesson=lesson).count() == 1
    assert_ledger_balances()


def test_the_lesson_and_its_exercise_pay_separately(learner, no_achievements):
    lesson = exercise(exercise_xp=15)
    services.complete_exercise(learner=learner, lesson=lesson)
    services.complete_lesson(learner=learner, lesson=lesson)
    assert LearnerProgress.objects.get(learner=learner).xp == 35
    assert sorted(XPEntry.objects.values_list("source", flat=True)) == [f"exercise:{lesson.pk}", f"lesson:{lesson.pk}"]


def test_the_exercise_pays_what_the_database_says_not_what_the_caller_holds(learner, no_achievements):
    lesson = exercise(exercise_xp=15)
    lesson.exercise_xp = 500  # a stale or tampered copy
    assert services.complete_exercise(learner=learner, lesson=lesson).xp_awarded == 15


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.DRAFT, "published_at": None},
        {"published_at": timezone.now() + timedelta(days=1)},
        {"course__status": Status.DRAFT},
    ],
    ids=["draft", "scheduled", "draft-course"],
)
def test_an_exercise_of_a_lesson_that_is_not_published_is_refused(learner, fields):
    with pytest.raises(services.LessonNotCompletable):
        services.complete_exercise(learner=learner, lesson=exercise(**fields))
    assert not ExerciseCompletion.objects.exists() and not XPEntry.objects.exists()


@pytest.mark.parametrize("checks", ["", "  \n"])
def test_an_exercise_without_checks_is_refused(learner, checks):
    with pytest.raises(services.ExerciseWithoutChecks):
        services.complete_exercise(learner=learner, lesson=exercise(exercise_checks=checks))
    assert not ExerciseCompletion.objects.exists() and not XPEntry.objects.exists()


def test_an_exercise_worth_no_xp_is_recorded_and_counts_the_day(learner, no_achievements):
    outcome = services.complete_exercise(learner=learner, lesson=exercise(exercise_xp=0))
    assert outcome.completed and outcome.xp_awarded == 0
    assert ExerciseCompletion.objects.count() == 1 and not XPEntry.objects.exists()
    assert ActivityDay.objects.get(learner=learner).exercises == 1


def test_an_exercise_keeps_the_streak_going_and_counts_as_an_exercise_not_a_lesson(no_achievements):
    learner = UserFactory(time_zone="Asia/Seoul")
    now = timezone.now()
    services.complete_lesson(learner=learner, lesson=LessonFactory(), at=now - timedelta(days=1))
    hours = LearnerProgress.objects.values_list("early_lessons", "late_lessons").get(learner=learner)
    services.complete_exercise(learner=learner, lesson=exercise(), at=now)
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.current_streak, progress.best_streak) == (2, 2)
    today = ActivityDay.objects.get(learner=learner, day=timezone.localdate(now, timezone=learner.zone))
    assert (today.completions, today.exercises) == (0, 1)
    assert (progress.early_lessons, progress.late_lessons) == hours, "the early and late hours count lessons"


def test_an_exercise_unlocks_the_achievements_its_xp_reaches(learner, no_achievements):
    AchievementFactory(rule=Rule.XP_REACHED, threshold=10, bonus_xp=5, title_en="Ten")
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=1, title_en="A lesson")
    outcome = services.complete_exercise(learner=learner, lesson=exercise(exercise_xp=10))
    assert [achievement.title_en for achievement in outcome.unlocked] == ["Ten"]
    assert outcome.xp_awarded == 15 and LearnerProgress.objects.get(learner=learner).xp == 15


# The endpoint


def test_passing_an_exercise_answers_the_new_panel_and_what_it_paid(learner_client, learner, no_achievements):
    lesson = exercise(exercise_xp=120)
    response = learner_client.post(done_url(lesson), **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"panel", "messages", "xp_awarded"}
    assert answer["messages"] == ["Exercise passed: +120 XP.", "You reached level 1: First Steps!"]
    assert answer["xp_awarded"] == 120
    assert '<dd data-field="xp">120</dd>' in answer["panel"]
    assert 'id="learner-panel"' in answer["panel"]

    again = learner_client.post(done_url(lesson), **JSON).json()
    assert again["messages"] == ["You passed this exercise already; it pays its XP once."]
    assert again["xp_awarded"] == 0
    assert LearnerProgress.objects.get(learner=learner).xp == 120


def test_an_exercise_worth_no_xp_says_it_passed(learner_client, no_achievements):
    answer = learner_client.post(done_url(exercise(exercise_xp=0)), **JSON).json()
    assert answer["messages"] == ["Exercise passed."] and answer["xp_awarded"] == 0


def test_the_answer_names_the_achievements_the_exercise_unlocked(learner_client, no_achievements):
    AchievementFactory(rule=Rule.XP_REACHED, threshold=10, bonus_xp=5, icon="💯", title_en="Ten")
    answer = learner_client.post(done_url(exercise(exercise_xp=10)), **JSON).json()
    assert answer["messages"] == ["Exercise passed: +10 XP.", "Achievement unlocked: 💯 Ten (+5 XP)"]
    assert answer["xp_awarded"] == 15


def test_the_answer_is_json_whatever_the_request_accepts(learner_client, no_achievements):
    response = learner_client.post(done_url(exercise()))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_a_visitor_is_answered_401_in_json(client):
    lesson = exercise()
    response = client.post(done_url(lesson))
    assert response.status_code == 401
    assert response.json() == {"error": "Your session has ended. Sign in again to save your progress."}
    assert not ExerciseCompletion.objects.exists()


def test_a_lesson_the_learner_cannot_see_is_not_found(learner_client):
    assert learner_client.post(done_url(exercise(status=Status.DRAFT, published_at=None))).status_code == 404
    assert learner_client.post(f"/progress/exercises/{10**30}/done/").status_code == 404


def test_staff_are_refused_a_draft_and_everyone_an_exercise_without_checks(client, learner_client):
    client.force_login(StaffFactory())
    draft = client.post(done_url(exercise(status=Status.DRAFT, published_at=None)), **JSON)
    assert draft.status_code == 409
    assert draft.json() == {"error": "Only the exercises of published lessons earn XP."}
    unchecked = learner_client.post(done_url(exercise(exercise_checks="")), **JSON)
    assert unchecked.status_code == 409
    assert unchecked.json() == {"error": "This exercise has no checks to pass."}
    assert not ExerciseCompletion.objects.exists() and not XPEntry.objects.exists()


def test_the_endpoint_needs_a_post_with_a_csrf_token(learner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    lesson = exercise()
    assert strict.get(done_url(lesson)).status_code == 405
    refused = strict.post(done_url(lesson), **JSON)
    assert refused.status_code == 403 and "expired" in refused.json()["error"]
    assert not ExerciseCompletion.objects.exists()


def test_exercises_are_rate_limited_per_learner(learner_client, client):
    lessons = [exercise(exercise_xp=1) for _ in range(31)]
    statuses = [learner_client.post(done_url(lesson), **JSON).status_code for lesson in lessons]
    assert statuses == [200] * 30 + [429]
    assert "Wait a minute" in learner_client.post(done_url(lessons[30]), **JSON).json()["error"]
    assert ExerciseCompletion.objects.count() == 30
    client.force_login(UserFactory())
    assert client.post(done_url(lessons[30]), **JSON).status_code == 200


def test_the_cached_lesson_page_shows_the_xp_an_exercise_paid_at_once(learner_client, no_achievements):
    lesson = exercise(exercise_xp=15)
    assert '<dd data-field="xp">0</dd>' in learner_client.get(lesson.get_absolute_url()).text
    learner_client.post(done_url(lesson), **JSON)
    assert '<dd data-field="xp">15</dd>' in learner_client.get(lesson.get_absolute_url()).text


# The lesson page's state: panel.exercise_done

PANEL = Template("{% load progress %}{% learner_panel lesson as panel %}{{ panel.exercise_done }}")


def render(template: Template, lesson, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return template.render(Context({"request": request, "lesson": lesson}))


def test_the_panel_tells_whether_the_reader_passed_the_exercise(learner):
    from django.contrib.auth.models import AnonymousUser

    lesson, other = exercise(), exercise()
    services.complete_exercise(learner=learner, lesson=lesson)
    assert render(PANEL, lesson, learner) == "True"
    assert render(PANEL, other, learner) == "False"
    assert render(PANEL, lesson, AnonymousUser()) == "False"
    assert render(PANEL, lesson, UserFactory()) == "False"


def test_the_panel_reads_the_exercise_state_without_a_query_more(learner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lesson = exercise()

    def panel_queries() -> int:
        keep_ladder()
        with CaptureQueriesContext(connection) as queries:
            render(PANEL, lesson, learner)
        return len(queries)

    before = panel_queries()
    services.complete_exercise(learner=learner, lesson=lesson)
    assert panel_queries() == before == 2


# /me/ and /xp/


def test_xp_history_names_the_exercise_that_paid(client):
    learner = UserFactory()
    lesson = exercise(title="Tasks and gather", course__slug="asyncio", slug="tasks", exercise_xp=15)
    services.complete_exercise(learner=learner, lesson=lesson)
    gone = exercise(title="Deleted later")
    services.complete_exercise(learner=learner, lesson=gone)
    gone.delete()
    client.force_login(learner)
    history = section(main_html(client.get("/me/")), "history-title")
    rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]]
    assert rows[-1].startswith("Exercise: Tasks and gather ") and rows[-1].endswith(" +15")
    assert any(row.startswith("The exercise of a lesson that no longer exists ") for row in rows)
    assert '<a href="/courses/asyncio/tasks/" lang="en" dir="ltr">Tasks and gather</a>' in history


def test_the_heatmap_counts_exercises_beside_lessons(client, no_achievements):
    learner = UserFactory()
    today = timezone.localdate(timezone=learner.zone)
    services.complete_exercise(learner=learner, lesson=exercise())
    services.complete_exercise(learner=learner, lesson=exercise())
    services.complete_lesson(learner=learner, lesson=LessonFactory())
    client.force_login(learner)
    html = main_html(client.get("/me/"))
    assert heatmap_squares(html)[today][:2] == (
        "heat-3",
        f"Lessons completed: 1 · exercises passed: 2 · {today:%Y-%m-%d}",
    )
    assert "exercises passed per day over the last 12 weeks: 1 day active" in html


def test_how_xp_works_says_exercises_pay_once(client):
    html = text(main_html(client.get("/xp/")))
    assert "Passing an exercise pays its XP" in html and "Each exercise pays once." in html
    assert "from lessons, exercises and achievements" in html


# The sync of what a browser kept while signed out


def sync(client, body):
    return client.post("/progress/sync/", json.dumps(body), content_type="application/json", **JSON)


def test_sync_adds_passed_exercises_and_says_what_it_ignored(learner_client, learner, no_achievements):
    first, second = exercise(exercise_xp=10), exercise(exercise_xp=5)
    unchecked = exercise(exercise_checks="")
    draft = exercise(status=Status.DRAFT, published_at=None)
    done = exercise()
    services.complete_exercise(learner=learner, lesson=done)
    xp = LearnerProgress.objects.get(learner=learner).xp

    body = {"lessons": [first.pk], "exercises": [first.pk, second.pk, unchecked.pk, draft.pk, first.pk, done.pk, 4242]}
    answer = sync(learner_client, body)

    assert answer.status_code == 200
    result = answer.json()
    assert result["accepted"] == [first.pk] and result["ignored"] == []
    assert result["exercises"] == {
        "accepted": [first.pk, second.pk],
        "ignored": [
            {"lesson": unchecked.pk, "reason": "no_checks"},
            {"lesson": draft.pk, "reason": "unknown"},
            {"lesson": first.pk, "reason": "duplicate"},
            {"lesson": done.pk, "reason": "already_completed"},
            {"lesson": 4242, "reason": "unknown"},
        ],
    }
    assert result["messages"] == [
        "1 lesson from this browser was added to your account.",
        "2 exercises passed in this browser were added to your account.",
    ]
    assert result["xp_awarded"] == 20 + 10 + 5
    assert LearnerProgress.objects.get(learner=learner).xp == xp + 35
    assert set(ExerciseCompletion.objects.filter(learner=learner).values_list("lesson_id", flat=True)) == {
        first.pk,
        second.pk,
        done.pk,
    }

    again = sync(learner_client, body).json()
    assert again["exercises"]["accepted"] == [] and again["messages"] == [] and again["xp_awarded"] == 0


def test_a_sync_of_exercises_alone_unlocks_achievements(learner_client, no_achievements):
    AchievementFactory(rule=Rule.XP_REACHED, threshold=10, icon="💯", title_en="Ten")
    answer = sync(learner_client, {"lessons": [], "exercises": [exercise(exercise_xp=10).pk]}).json()
    assert answer["messages"] == [
        "1 exercise passed in this browser was added to your account.",
        "Achievement unlocked: 💯 Ten",
    ]


def test_a_sync_without_exercises_answers_as_before(learner_client):
    lesson = LessonFactory()
    answer = sync(learner_client, {"lessons": [lesson.pk]}).json()
    assert answer["accepted"] == [lesson.pk]
    assert answer["exercises"] == {"accepted": [], "ignored": []}
    assert not ExerciseCompletion.objects.exists()


@pytest.mark.parametrize(
    ("exercises", "status", "message"),
    [
        ("1,2", 400, 'Send "exercises" as a list of lesson numbers.'),
        ([1, "2"], 400, 'Send "exercises" as a list of lesson numbers.'),
        ([1, True], 400, 'Send "exercises" as a list of lesson numbers.'),
        (None, 400, 'Send "exercises" as a list of lesson numbers.'),
        (list(range(1001)), 413, "At most 1000 exercises can be added at once."),
    ],
    ids=["string", "string-item", "bool", "null", "too-many"],
)
def test_sync_refuses_bad_exercises_whole_and_awards_nothing(learner_client, exercises, status, message):
    lesson = exercise()
    if isinstance(exercises, list) and exercises[:1] == [1]:
        exercises[0] = lesson.pk
    answer = sync(learner_client, {"lessons": [lesson.pk], "exercises": exercises})
    assert answer.status_code == status
    assert answer.json() == {"error": message}
    assert not ExerciseCompletion.objects.exists() and not XPEntry.objects.exists()
