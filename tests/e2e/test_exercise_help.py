"""Help when stuck, in Chromium: hints one at a time, what a failed check compared, and the reference solution
offered after three failed checks, which halves what a pass then pays."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from progress.models import Achievement, SolutionView, XPEntry
from tests.e2e.axe import serious_axe_violations
from tests.e2e.test_python import LOADING, replace_code, solution_editor
from tests.factories import LessonFactory, UserFactory

SOLUTION = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def lesson(db):
    Achievement.objects.all().delete()
    return LessonFactory(
        exercise="Write `add(a, b)`.",
        exercise_starter="def add(a, b):\n    return a - b\n",
        exercise_checks='assert add(2, 3) == 5, "add adds"\nassert add(0, 0) == 0, "zero"\n',
        exercise_xp=15,
        exercise_hints="Think of **plus**.\n\n---\n\nReturn `a + b`.\n",
        exercise_solution=SOLUTION,
    )


def sign_in(page, live_server, learner) -> None:
    client = Client()
    client.force_login(learner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def press_check(page, name: str = "Check my solution") -> None:
    workspace = page.locator(".exercise-workspace")
    workspace.get_by_role("button", name=name).click()
    expect(workspace.get_by_role("button", name=name)).to_be_visible(timeout=LOADING)
    expect(workspace.locator(".check-results")).to_be_visible()


def test_hints_open_one_at_a_time_by_keyboard(page, lesson):
    page.goto(lesson.get_absolute_url())
    hints = page.locator("#exercise-hints")
    first, second = hints.locator("summary", has_text="Hint 1"), hints.locator("summary", has_text="Hint 2")
    expect(first).to_be_visible()
    expect(second).to_be_hidden()
    expect(hints.get_by_text("Think of")).to_be_hidden()
    first.focus()
    page.keyboard.press("Enter")
    expect(hints.get_by_text("Think of")).to_be_visible()
    expect(second).to_be_visible()
    expect(hints.get_by_text("Return")).to_be_hidden()
    page.keyboard.press("Tab")
    expect(second).to_be_focused()
    page.keyboard.press("Enter")
    expect(hints.get_by_text("Return")).to_be_visible()


def test_a_failed_check_shows_expected_and_actual_and_three_failures_offer_the_solution(page, live_server, lesson):
    learner = UserFactory()
    sign_in(page, live_server, learner)
    page.goto(lesson.get_absolute_url())
    solution_editor(page)
    solution = page.locator("#exercise-solution")
    press_check(page)
    failed = page.locator(".exercise-workspace .check-failed").first
    expect(failed.locator(".check-compared")).to_have_text("Expected5Your code gave-1")
    expect(solution).to_be_hidden()
    press_check(page)
    expect(solution).to_be_hidden()
    press_check(page)
    expect(solution).to_be_visible()
    expect(solution).to_contain_text("A pass after seeing it pays half this exercise's XP: 7 instead of 15.")
    assert "return a + b" not in page.content()

    solution.get_by_role("button", name="Show the solution").click()
    expect(solution.locator(".exercise-solution-code")).to_contain_text("return a + b")
    expect(solution.get_by_role("heading", name="Reference solution")).to_be_focused()
    assert SolutionView.objects.filter(learner=learner, lesson=lesson).count() == 1
    assert serious_axe_violations(page) == []

    replace_code(page, solution_editor(page), SOLUTION)
    press_check(page)
    expect(page.locator(".exercise-result")).to_contain_text(
        "Exercise passed after seeing the solution: +7 XP, half the exercise's XP."
    )
    assert XPEntry.objects.get(learner=learner, source=f"exercise:{lesson.pk}").amount == 7


def test_a_visitor_who_saw_the_solution_keeps_half_in_the_browser_in_korean(page, live_server, lesson):
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(lesson.get_absolute_url())
    page.evaluate(f"localStorage.setItem('stream.exercise-fails:{lesson.pk}', '3')")  # three failed presses
    page.reload()
    solution = page.locator("#exercise-solution")
    solution.get_by_role("button", name="답안 보기").click()
    expect(solution.locator(".exercise-solution-code")).to_contain_text("return a + b")
    replace_code(page, solution_editor(page, name="내 풀이"), "def add(a, b):\n    return 0\n")
    press_check(page, name="풀이 검사하기")
    expect(page.locator(".check-compared").first).to_contain_text("기대한 값")
    replace_code(page, solution_editor(page, name="내 풀이"), SOLUTION)
    press_check(page, name="풀이 검사하기")
    expect(page.locator(".exercise-done")).to_be_visible()
    expect(page.locator(".exercise-result")).to_have_text("답안을 본 뒤 연습 문제 통과: +7 XP (연습 문제 XP의 절반).")
    stored = page.evaluate("JSON.parse(localStorage.getItem('stream.progress'))")
    assert stored["exercises"] == {str(lesson.pk): {"xp": 7}}
    assert stored["solutions"] == {str(lesson.pk): {}}
    assert not SolutionView.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_after_a_pass_the_solution_is_there_to_compare(page, live_server, lesson):
    learner = UserFactory()
    sign_in(page, live_server, learner)
    page.goto(lesson.get_absolute_url())
    replace_code(page, solution_editor(page), SOLUTION)
    press_check(page)
    solution = page.locator("#exercise-solution")
    expect(solution).to_contain_text("You passed: compare your code with the author's solution.")
    expect(solution.get_by_text("7 instead of 15")).to_be_hidden()
    assert XPEntry.objects.get(learner=learner, source=f"exercise:{lesson.pk}").amount == 15
