"""The demo course's exercise checks, run under CPython by the runner the browser uses (static/py/stream_checks.py).

For every lesson: the reference solution (the lesson file's ``solution``, which learners may be shown) passes
every check, fast and on every run; the starter code runs but fails a check; and a solution with one typical
mistake fails the check about it, so each check tests what the exercise asks.
"""

import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from courses.importer import read_course_folder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "static" / "py"))

import stream_checks  # noqa: E402  (from static/py, put on the path above)

LESSONS = {plan.fields["slug"]: plan.fields for plan in read_course_folder(ROOT / "content" / "asyncio").lessons}
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Checks run in the learner's browser on each press of "Check": they must be quick.
MOST_SECONDS = 1.0

# One typical mistake per exercise (a change to the reference solution) and the check that must catch it.
MISTAKES = {
    "async-await": (
        "    await asyncio.sleep(delay)  # 기다리는 동안 이벤트 루프는 다른 일을 한다\n",
        "    time.sleep(delay)\n",
        "fetch_page가 기다리는 동안 이벤트 루프는 막히지 않고 0.01초 타이머를 제때 실행합니다",
    ),
    "tasks-and-gather": (
        ", return_exceptions=True",
        "",
        "fetch_all은 한 도시가 실패해도 예외를 올리지 않고 결과 리스트를 반환합니다(return_exceptions=True)",
    ),
    "taskgroup-and-cancellation": (
        "        raise  # 취소는 삼키지 않는다\n",
        "",
        "취소된 check는 CancelledError를 삼키지 않고 다시 올립니다",
    ),
    "timeouts": (
        "await asyncio.shield(task)",
        "await task",
        'respond: 시간이 초과되면 "처리 중"으로 답하고, shield 덕분에 기록은 취소되지 않고 끝까지 실행됩니다',
    ),
    "queues": (
        "        finally:\n            queue.task_done()\n",
        "        finally:\n            pass\n",
        "worker는 꺼낸 항목마다(센티널 포함) task_done()을 부릅니다",
    ),
}


def solution(slug: str) -> str:
    return LESSONS[slug]["exercise_solution"]


def run(code: str, slug: str) -> dict:
    """The runner's answer, from a thread of its own, as in the browser's worker: no event loop of the tests'."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(stream_checks.run_checks, code, LESSONS[slug]["exercise_checks"]).result()


def failed(result: dict) -> list[str]:
    return [check["message"] for check in result["checks"] if not check["passed"]]


def test_every_demo_lesson_has_an_exercise_with_a_starter_and_korean_checks():
    assert sorted(LESSONS) == sorted(MISTAKES)
    for slug, lesson in LESSONS.items():
        assert lesson["exercise"].strip() and lesson["exercise_starter"].strip(), slug
        result = run("", slug)  # nothing defined: every check fails, and says its name
        assert len(result["checks"]) >= 4, slug
        for check in result["checks"]:
            assert HANGUL.search(check["message"]), f"{slug}: {check['message']!r} is not in Korean"


@pytest.mark.parametrize("slug", sorted(MISTAKES))
def test_the_reference_solution_passes_every_check_quickly_each_time(slug):
    times = []
    for _ in range(3):  # the same answer each time: the checks do not depend on luck or timing
        started = time.perf_counter()
        result = run(solution(slug), slug)
        times.append(time.perf_counter() - started)
        assert result["error"] == "", result["error"]
        assert failed(result) == [], [check for check in result["checks"] if not check["passed"]]
    # Their own waiting is what counts; the fastest run leaves out a machine busy with other work.
    assert min(times) < MOST_SECONDS, f"{slug}: the checks took {', '.join(f'{t:.2f}' for t in times)} s"


@pytest.mark.parametrize("slug", sorted(MISTAKES))
def test_the_starter_code_runs_but_fails_a_check(slug):
    result = run(LESSONS[slug]["exercise_starter"], slug)
    assert result["error"] == "", "the starter is a skeleton that runs"
    assert failed(result), "the starter alone must not pass"


@pytest.mark.parametrize("slug", sorted(MISTAKES))
def test_a_typical_mistake_fails_the_check_about_it(slug):
    right, wrong, check = MISTAKES[slug]
    code = solution(slug)
    assert right in code, "the mistake is made on the reference solution"
    result = run(code.replace(right, wrong), slug)
    assert result["error"] == ""
    assert check in failed(result)
