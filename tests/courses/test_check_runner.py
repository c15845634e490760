"""What a failed check tells the learner (static/py/stream_checks.py, run here under CPython as in the browser)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "static" / "py"))

import stream_checks  # from static/py, put on the path above

LEARNER = "calls = []\ndef add(a, b):\n    calls.append((a, b))\n    print('adding', a, b)\n    return a - b\n"


def checks(source: str) -> list[dict]:
    return stream_checks.run_checks(LEARNER, source)["checks"]


def test_a_failed_equality_shows_what_was_expected_and_what_the_code_gave():
    [result] = checks('assert add(2, 3) == 5, "add adds"')
    assert result == {
        "message": "add adds",
        "passed": False,
        "detail": "",
        "compared": {"actual": "-1", "expected": "5", "op": "=="},
    }


def test_each_side_is_evaluated_once_as_python_would():
    results = checks('assert add(2, 3) == 5, "once"\nassert calls == [(2, 3)], "called once"')
    assert results[0]["compared"]["actual"] == "-1"
    assert results[1]["passed"], results[1]


def test_other_comparisons_show_both_sides_and_their_operator():
    results = checks('assert add(1, 1) in [2, 3], "in"\nassert add(5, 1) < 3, "less"\nassert add(1, 1) is None, "is"')
    assert [result["compared"] for result in results] == [
        {"actual": "0", "expected": "[2, 3]", "op": "in"},
        {"actual": "4", "expected": "3", "op": "<"},
        {"actual": "0", "expected": "None", "op": "is"},
    ]


def test_long_values_are_cut_and_passing_or_other_checks_compare_nothing():
    results = checks(
        'assert [add(i, 0) for i in range(100)] == [], "long"\n'
        'assert add(3, 1) == 2, "passes"\n'
        'assert 1 < add(3, 1) < 2, "chained"\n'
        'assert not add(1, 1) == 0, "not"'
    )
    assert results[0]["compared"]["actual"].endswith("...]") and len(results[0]["compared"]["actual"]) < 80
    assert results[1] == {"message": "passes", "passed": True, "detail": "", "compared": None}
    assert results[2]["compared"] is None and not results[2]["passed"]
    assert results[3]["compared"] is None and not results[3]["passed"]


def test_an_error_in_a_side_is_the_checks_detail_not_a_comparison():
    [result] = checks('assert add("a", 1) == 1, "text"')
    assert result["compared"] is None
    assert result["detail"].endswith("TypeError: unsupported operand type(s) for -: 'str' and 'int'")
