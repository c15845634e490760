"""Python in the learner's browser: Run, Stop, input(), editing, and no Python until it is asked for.

Pyodide is served from the site's own static files (fetched by `make`); these tests load it for real.
"""

import ast
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

from courses.models import Lesson
from progress.models import ExerciseCompletion, XPEntry
from tests.e2e.axe import serious_axe_violations
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parents[2] / "content" / "asyncio"
# The first run loads Python (about 13 MB, compiled by the browser): seconds on a busy machine.
LOADING = 90_000
PYODIDE_FILE = re.compile(r"/static/pyodide/")

PROGRAMS = """\
```python title="Endless"
import itertools
for number in itertools.count():
    print(number)
```

```python title="Greeting"
name = input("Your name? ")
print(f"Hello, {name}!")
```

```python title="Sleepy"
import time
for tick in range(3):
    print("tick", tick)
    time.sleep(0.2)
print("done")
```

```python title="Pause"
import time
print("before")
started = time.perf_counter()
time.sleep(1.5)
print(f"after {time.perf_counter() - started:.1f} s")
```

```python title="Blocking"
import asyncio
import time


async def main():
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    loop.call_later(0.05, lambda: print("timer", "after" if time.perf_counter() - started >= 0.5 else "during"))
    time.sleep(0.5)  # blocks the loop: the timer waits
    print("slept", "enough" if time.perf_counter() - started >= 0.5 else "too little")
    await asyncio.sleep(0)


asyncio.run(main())
```

```python title="Exits"
import sys
print("leaving")
sys.exit(0)
```

```python title="Meddles"
import builtins
import fractions
builtins.print = lambda *args, **kwargs: None
fractions.Fraction = None
```

```python title="Logs"
from fractions import Fraction
print(Fraction(1, 3))
```

```python title="Network"
import js
from pyodide.ffi import run_sync
try:
    run_sync(js.fetch("/"))
except Exception as error:
    print("refused:", error)
```

```python title="Broken"
def divide():
    return 1 / 0

divide()
```
"""


def block(page, title: str):
    return page.locator("figure.code-block", has=page.locator(".code-title", has_text=title))


def run(page, title: str) -> None:
    block(page, title).get_by_role("button", name="Run").click()


def solution_editor(page, name: str = "Your solution"):
    """The exercise's code editor (static/js/code-editor.js), which takes its text area's place once in view."""
    workspace = page.locator(".exercise-workspace")
    workspace.scroll_into_view_if_needed()
    editor = workspace.get_by_role("textbox", name=name)
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))
    return editor


def replace_code(page, editor, code: str) -> None:
    """All of the editor's code replaced, as a learner would: select all, then put the text in.

    Not Playwright's fill(), whose selection of a contenteditable in a shadow root the editor may not see yet.
    """
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)


def finished(page, title: str, status: str = "Finished.") -> str:
    expect(block(page, title).locator(".run-status")).to_have_text(status, timeout=LOADING)
    return block(page, title).locator(".run-output").inner_text().rstrip("\n")


@pytest.fixture
def programs(db):
    return LessonFactory(course__slug="python", slug="programs", body=PROGRAMS)


def test_the_first_code_block_of_every_demo_lesson_prints_what_the_lesson_says(page, db):
    """The demo course shows each program's output in the block after it: running it gives the same."""
    call_command("import_course", str(DEMO), verbosity=0)
    for lesson in Lesson.objects.order_by("position"):
        page.goto(lesson.get_absolute_url())
        first = page.locator(".lesson-content figure.code-block").first
        expected = first.locator("xpath=following-sibling::figure[1]")
        assert expected.get_attribute("data-language") in {"console", "text"}, lesson.slug
        first.get_by_role("button", name="Run").click()
        expect(first.locator(".run-status")).to_have_text("Finished.", timeout=LOADING)
        printed = first.locator(".run-output").inner_text().strip()
        assert printed == expected.locator("pre").inner_text().strip(), lesson.slug


def test_nothing_of_python_is_fetched_until_run_is_reached_for(page, programs):
    """A page view fetches none of it; a pointer on Run, or the focus on it or on Edit, does (test_python_start.py)."""
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(programs.get_absolute_url())
    page.keyboard.press("End")
    page.wait_for_load_state("networkidle")
    assert not [url for url in fetched if PYODIDE_FILE.search(url) or "python-worker" in url]
    run(page, "Sleepy")
    finished(page, "Sleepy")
    assert [url for url in fetched if url.endswith("pyodide.asm.wasm")]


def test_output_is_streamed_and_time_sleep_really_waits(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Pause")
    output = block(page, "Pause").locator(".run-output")
    expect(output).to_have_text(re.compile(r"^before\s*$"), timeout=LOADING)  # shown while the program sleeps
    assert finished(page, "Pause") == "before\nafter 1.5 s"
    run(page, "Sleepy")
    assert finished(page, "Sleepy").split() == ["tick", "0", "tick", "1", "tick", "2", "done"]


def test_an_endless_loop_is_stopped_and_python_starts_afresh(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Endless")
    endless = block(page, "Endless")
    expect(endless.locator(".run-output")).to_contain_text("1000", timeout=LOADING)
    stop = endless.get_by_role("button", name="Stop")
    expect(stop).to_be_focused()
    stop.click()
    expect(endless.locator(".run-status")).to_have_text("Stopped.")
    expect(endless.get_by_role("button", name="Run")).to_be_visible()
    # The page answers at once, and the next program runs in a new Python.
    run(page, "Sleepy")
    assert "done" in finished(page, "Sleepy")


def test_input_asks_in_the_page(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Greeting")
    field = page.get_by_label("Your name?")
    expect(field).to_be_focused(timeout=LOADING)
    field.fill("Ada")
    field.press("Enter")
    assert finished(page, "Greeting") == "Your name? Ada\nHello, Ada!"


def test_time_sleep_blocks_the_event_loop_as_on_a_desktop(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Blocking")
    # Timings, not rounded figures: a busy machine makes them later, never earlier.
    assert finished(page, "Blocking") == "slept enough\ntimer after"


def test_a_program_that_exits_normally_finishes_without_a_traceback(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Exits")
    assert finished(page, "Exits") == "leaving"


def test_each_run_starts_with_python_as_it_was(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Meddles")
    finished(page, "Meddles")
    run(page, "Logs")
    assert finished(page, "Logs") == "1/3"


def test_programs_cannot_use_the_network(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Network")
    assert finished(page, "Network") == "refused: Error: Programs on this page cannot use the network."


def test_a_double_click_on_run_does_not_stop_the_program_it_started(page, programs):
    page.goto(programs.get_absolute_url())
    block(page, "Sleepy").get_by_role("button", name="Run").dblclick()
    assert "done" in finished(page, "Sleepy")


def test_a_traceback_shows_the_learners_own_lines(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Broken")
    output = finished(page, "Broken", status="Finished with an error.")
    assert 'File "main.py", line 4, in <module>' in output
    assert "return 1 / 0" in output
    assert output.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "pyodide" not in output.lower()


def test_edited_code_runs_is_kept_and_can_be_reset(page, programs):
    page.goto(programs.get_absolute_url())
    greeting = block(page, "Greeting")
    greeting.get_by_role("button", name="Edit").click()
    editor = greeting.get_by_role("textbox", name="Edit the code: Greeting")
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))  # the code editor (tests/e2e/test_code_editor.py)
    expect(editor).to_be_focused()
    replace_code(page, editor, 'print("edited")')
    run(page, "Greeting")
    assert finished(page, "Greeting") == "edited"
    page.reload()
    greeting = block(page, "Greeting")
    expect(greeting.locator("textarea")).to_have_value('print("edited")')  # what the editor shows, and Run runs
    greeting.get_by_role("button", name="Reset").click()
    expect(greeting.get_by_role("textbox")).to_have_count(0)
    expect(greeting.locator("pre").first).to_contain_text('input("Your name? ")')
    page.reload()
    expect(block(page, "Greeting").get_by_role("textbox")).to_have_count(0)


def test_run_is_reached_and_pressed_by_keyboard(page, programs):
    page.goto(programs.get_absolute_url())
    run_button = block(page, "Sleepy").get_by_role("button", name="Run")
    for _ in range(60):
        page.keyboard.press("Tab")
        if run_button.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Run button of the third block")
    page.keyboard.press("Enter")
    assert "done" in finished(page, "Sleepy")
    expect(block(page, "Sleepy").get_by_role("button", name="Run")).to_be_focused()


def test_a_page_with_output_passes_axe(page, programs):
    page.goto(programs.get_absolute_url())
    run(page, "Broken")
    finished(page, "Broken", status="Finished with an error.")
    assert serious_axe_violations(page) == []


def test_without_webassembly_stack_switching_the_code_is_shown_without_run(page, programs):
    page.add_init_script("delete WebAssembly.Suspending")
    page.goto(programs.get_absolute_url())
    expect(block(page, "Sleepy").get_by_role("button", name="Copy")).to_be_visible()
    expect(page.get_by_role("button", name="Run")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)


# The exercise: starter code in an editor, Check, each check's outcome, XP once.


@pytest.fixture
def demo_lesson(db):
    call_command("import_course", str(DEMO), verbosity=0)
    return Lesson.objects.get(slug="async-await")


def check(page) -> None:
    workspace = page.locator(".exercise-workspace")
    workspace.get_by_role("button", name="Check my solution").click()
    expect(workspace.get_by_role("button", name="Check my solution")).to_be_visible(timeout=LOADING)


def test_a_signed_in_learner_fails_then_passes_an_exercise_and_is_paid_once(page, live_server, demo_lesson):
    learner = UserFactory()
    client = Client()
    client.force_login(learner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(demo_lesson.get_absolute_url())
    workspace = page.locator(".exercise-workspace")
    editor = solution_editor(page)
    expect(page.locator("#exercise-code")).to_have_value(demo_lesson.exercise_starter)
    xp_before = int(page.locator('#learner-panel [data-field="xp"]').inner_text())

    check(page)  # the starter code: a skeleton, which fails
    results = workspace.locator(".check-results li")
    asserts = [node for node in ast.parse(demo_lesson.exercise_checks).body if isinstance(node, ast.Assert)]
    expect(results).to_have_count(len(asserts))
    expect(workspace.locator(".check-failed").first).to_be_visible()
    expect(workspace.locator(".run-status")).to_contain_text("checks passed")
    expect(workspace.locator(".exercise-done")).to_be_hidden()
    assert not ExerciseCompletion.objects.exists()

    replace_code(page, editor, demo_lesson.exercise_solution)
    check(page)
    expect(workspace.locator(".run-status")).to_have_text("All checks passed.")
    expect(workspace.locator(".check-failed")).to_have_count(0)
    expect(workspace.locator(".exercise-done")).to_be_visible()
    expect(page.locator('#learner-panel [data-field="xp"]')).to_have_text(str(xp_before + demo_lesson.exercise_xp))
    check(page)  # passing again pays nothing more
    expect(workspace.locator(".run-status")).to_have_text("All checks passed.")
    assert ExerciseCompletion.objects.filter(learner=learner, lesson=demo_lesson).count() == 1
    assert XPEntry.objects.filter(learner=learner, source=f"exercise:{demo_lesson.pk}").count() == 1
    page.reload()
    expect(page.locator(".exercise-done")).to_be_visible()


def test_a_visitors_passed_exercise_is_kept_in_the_browser_with_its_edit(page, demo_lesson):
    page.goto(demo_lesson.get_absolute_url())
    workspace = page.locator(".exercise-workspace")
    replace_code(page, solution_editor(page), demo_lesson.exercise_solution)
    check(page)
    expect(workspace.locator(".exercise-done")).to_be_visible()
    expect(page.locator('#learner-panel [data-field="xp"]')).to_have_text(str(demo_lesson.exercise_xp))
    expect(page.locator(".exercise-result")).to_have_text(f"Exercise passed: +{demo_lesson.exercise_xp} XP.")
    stored = page.evaluate("JSON.parse(localStorage.getItem('stream.progress'))")
    assert stored["exercises"] == {str(demo_lesson.pk): {"xp": demo_lesson.exercise_xp}}
    page.reload()
    workspace = page.locator(".exercise-workspace")
    expect(workspace.locator(".exercise-done")).to_be_visible()
    expect(workspace.locator("#exercise-code")).to_have_value(demo_lesson.exercise_solution)
    workspace.get_by_role("button", name="Start over from the starter code").click()
    expect(workspace.locator("#exercise-code")).to_have_value(demo_lesson.exercise_starter)
    assert not ExerciseCompletion.objects.exists()
    check(page)  # the starter fails: the results and the output pass axe
    expect(workspace.locator(".check-failed").first).to_be_visible()
    assert serious_axe_violations(page) == []


def test_an_exercise_that_never_ends_is_stopped(page, demo_lesson):
    page.goto(demo_lesson.get_absolute_url())
    workspace = page.locator(".exercise-workspace")
    replace_code(page, solution_editor(page), "while True:\n    pass\n")
    workspace.get_by_role("button", name="Check my solution").click()
    stop = workspace.get_by_role("button", name="Stop")
    expect(stop).to_be_focused()
    expect(workspace.locator(".run-status")).to_have_text("Running…", timeout=LOADING)
    stop.click()
    expect(workspace.locator(".run-status")).to_have_text("Stopped.")
    expect(workspace.locator(".check-results")).to_be_hidden()


def test_every_demo_exercise_passes_in_the_browser_with_its_reference_solution(page, db):
    """The checks are tested under CPython (tests/courses/test_demo_exercises.py); here, in Pyodide."""
    call_command("import_course", str(DEMO), verbosity=0)
    for lesson in Lesson.objects.order_by("position"):
        page.goto(lesson.get_absolute_url())
        workspace = page.locator(".exercise-workspace")
        replace_code(page, solution_editor(page), lesson.exercise_solution)
        check(page)
        expect(workspace.locator(".run-status")).to_have_text("All checks passed.", timeout=LOADING)
        expect(workspace.locator(".check-failed")).to_have_count(0)


def test_on_a_phone_in_korean_the_output_and_the_exercise_fit_the_screen(page, live_server, demo_lesson):
    page.set_viewport_size({"width": 320, "height": 800})
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    page.goto(demo_lesson.get_absolute_url())
    first = page.locator(".lesson-content figure.code-block").first
    first.get_by_role("button", name="실행").click()
    expect(first.locator(".run-status")).to_have_text("완료했습니다.", timeout=LOADING)
    workspace = page.locator(".exercise-workspace")
    replace_code(page, solution_editor(page, name="내 풀이"), "print('x' * 500)\n" + demo_lesson.exercise_starter)
    workspace.get_by_role("button", name="풀이 검사하기").click()
    expect(workspace.locator(".check-results li").first).to_be_visible(timeout=LOADING)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_a_visitors_passed_exercise_joins_the_account_on_sign_in(page, demo_lesson):
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    page.goto(demo_lesson.get_absolute_url())
    workspace = page.locator(".exercise-workspace")
    replace_code(page, solution_editor(page), demo_lesson.exercise_solution)
    check(page)
    expect(workspace.locator(".exercise-done")).to_be_visible()
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(learner.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("1 exercise passed in this browser was added to your account.")).to_be_visible()
    assert ExerciseCompletion.objects.filter(learner=learner, lesson=demo_lesson).exists()
    assert page.evaluate("localStorage.getItem('stream.progress')") is None
