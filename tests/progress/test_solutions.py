"""Hints and the reference solution of an exercise: the page holds the hints, never the solution; asking for the
solution records that a signed-in learner saw it, and a pass after that pays half the exercise's XP."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from progress import services
from progress.models import Achievement, ExerciseCompletion, SolutionView, XPEntry
from tests.factories import LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SOLUTION = "def add(a, b):\n    return a + b  # the reference\n"


@pytest.fixture(autouse=True)
def fresh():
    cache.clear()
    Achievement.objects.all().delete()
    yield
    cache.clear()


def exercise(**fields):
    return LessonFactory(
        **{
            "exercise": "Write add(a, b).",
            "exercise_checks": 'assert add(2, 3) == 5, "add adds"\n',
            "exercise_xp": 15,
            "exercise_hints": "Use **+**.\n\n---\n\nReturn `a + b`.\n",
            "exercise_solution": SOLUTION,
            **fields,
        }
    )


def signed_in(learner) -> Client:
    client = Client()
    client.force_login(learner)
    return client


def solution_url(lesson) -> str:
    return f"/progress/exercises/{lesson.pk}/solution/"


def test_the_lesson_page_shows_the_hints_in_order_and_never_the_solution():
    lesson = exercise()
    page = Client().get(lesson.get_absolute_url()).content.decode()
    assert page.index("Hint 1") < page.index("<strong>+</strong>") < page.index("Hint 2") < page.index("a + b")
    assert page.count('class="exercise-hint"') == 2
    assert "the reference" not in page  # the solution's code is fetched when asked for, not sent with the page
    assert f'action="{solution_url(lesson)}"' in page
    assert "Show the solution" in page
    assert "7 instead of 15" in page  # what a pass pays after it: half, rounded down


def test_a_lesson_without_hints_or_solution_shows_neither():
    lesson = exercise(exercise_hints="", exercise_solution="")
    page = Client().get(lesson.get_absolute_url()).content.decode()
    assert "exercise-hints" not in page and "exercise-solution" not in page
    assert Client().post(solution_url(lesson), **JSON).status_code == 404


def test_asking_for_the_solution_answers_its_highlighted_code_and_records_a_signed_in_learner_once():
    lesson, learner = exercise(), UserFactory()
    client = signed_in(learner)
    for _ in range(2):
        response = client.post(solution_url(lesson), **JSON)
        assert response.status_code == 200
        html = response.json()["html"]
        assert html.startswith('<figure class="code-block" data-language="python">') and "the reference" in html
    assert SolutionView.objects.filter(learner=learner, lesson=lesson).count() == 1


def test_a_visitor_gets_the_solution_and_nothing_is_recorded():
    lesson = exercise()
    response = Client().post(solution_url(lesson), **JSON)
    assert response.status_code == 200 and "the reference" in response.json()["html"]
    assert not SolutionView.objects.exists()


def test_without_the_script_the_form_post_shows_a_page_with_the_solution_and_the_way_back():
    lesson = exercise()
    response = signed_in(UserFactory()).post(solution_url(lesson))
    page = response.content.decode()
    assert response.status_code == 200 and "<h1>Reference solution</h1>" in page and "the reference" in page
    assert f'href="{lesson.get_absolute_url()}#exercise"' in page


def test_the_solution_is_not_given_by_get_nor_for_a_lesson_the_reader_cannot_see():
    lesson = exercise()
    assert Client().get(solution_url(lesson)).status_code == 405
    draft = exercise(status="draft", published_at=None)
    assert signed_in(UserFactory()).post(solution_url(draft), **JSON).status_code == 404
    staff = StaffFactory()
    assert signed_in(staff).post(solution_url(draft), **JSON).status_code == 200
    assert not SolutionView.objects.filter(lesson=draft).exists()  # a draft's exercise cannot be passed


def test_a_pass_after_seeing_the_solution_pays_half_and_says_so():
    lesson, learner = exercise(), UserFactory()
    client = signed_in(learner)
    client.post(solution_url(lesson), **JSON)
    answer = client.post(f"/progress/exercises/{lesson.pk}/done/", **JSON).json()
    assert answer["xp_awarded"] == 7
    assert answer["messages"][0] == "Exercise passed after seeing the solution: +7 XP, half the exercise's XP."
    assert XPEntry.objects.get(learner=learner, source=f"exercise:{lesson.pk}").amount == 7


def test_a_pass_before_seeing_the_solution_keeps_its_full_xp():
    lesson, learner = exercise(), UserFactory()
    services.complete_exercise(learner=learner, lesson=lesson)
    signed_in(learner).post(solution_url(lesson), **JSON)  # to compare, afterwards
    assert XPEntry.objects.get(learner=learner, source=f"exercise:{lesson.pk}").amount == 15
    assert SolutionView.objects.filter(learner=learner, lesson=lesson).exists()


def test_another_learners_view_of_the_solution_changes_nothing_for_this_one():
    lesson, learner = exercise(), UserFactory()
    services.show_solution(learner=UserFactory(), lesson=lesson)
    assert services.complete_exercise(learner=learner, lesson=lesson).lesson_xp == 15


def test_a_visitors_solution_seen_in_the_browser_halves_the_synced_pass():
    seen, unseen, learner = exercise(), exercise(), UserFactory()
    body = {"lessons": [], "exercises": [seen.pk, unseen.pk], "solutions": [seen.pk, 999999]}
    response = signed_in(learner).post("/progress/sync/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["exercises"]["accepted"] == [seen.pk, unseen.pk]
    paid = dict(XPEntry.objects.filter(learner=learner).values_list("source", "amount"))
    assert paid == {f"exercise:{seen.pk}": 7, f"exercise:{unseen.pk}": 15}
    assert list(SolutionView.objects.values_list("lesson_id", flat=True)) == [seen.pk]
    assert ExerciseCompletion.objects.filter(learner=learner).count() == 2


@pytest.mark.parametrize(
    ("solutions", "status", "said"),
    [
        ("1", 400, '"solutions"'),
        ([1.5], 400, '"solutions"'),
        (["1"], 400, '"solutions"'),
        (list(range(1, 1002)), 413, "At most 1000"),
    ],
)
def test_a_sync_with_bad_solutions_is_refused_whole(solutions, status, said):
    lesson, learner = exercise(), UserFactory()
    body = {"lessons": [lesson.pk], "solutions": solutions}
    response = signed_in(learner).post("/progress/sync/", json.dumps(body), content_type="application/json")
    assert response.status_code == status
    assert said in response.json()["error"]
    assert not XPEntry.objects.filter(learner=learner).exists()
