"""Runs a learner's exercise code, then the author's checks against it.

The same file runs in the learner's browser (Pyodide, static/js/python-worker.js loads it) and under
CPython in the tests of the demo course's checks (tests/courses/test_demo_exercises.py), so the two
cannot disagree about what passing means.

Checks are Python. Each top-level ``assert condition, "message"`` is one check, shown to the learner
by its message (a string literal, which ``courses`` requires when a lesson is saved) with a pass or a
fail; any other top-level statement prepares the checks after it (imports, calling the learner's
function). The learner's code runs first, as a module named ``__learner__`` (so a demo under
``if __name__ == "__main__":`` stays quiet), and the checks run in its namespace.
"""

import ast
import operator
import reprlib
import traceback

LEARNER_FILE = "<exercise>"
CHECKS_FILE = "<checks>"


def assertion_message(node: ast.Assert) -> str:
    """The message an author gave an assert: its string literal (or its source, if it is no literal)."""
    if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str):
        return node.msg.value
    return ast.unparse(node.msg if node.msg is not None else node.test)


# The comparisons whose two sides a failed check shows, as what the check expected and what the code gave.
COMPARISONS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda left, right: left in right,
    ast.NotIn: lambda left, right: left not in right,
}

# Values are shown short: a long list or text is cut with "...".
_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 160
_shown.maxlist = _shown.maxtuple = _shown.maxset = 12
_shown.maxdict = 8


def _compiled(node: ast.expr):
    return compile(ast.Expression(body=node), CHECKS_FILE, "eval")


def _compare(node: ast.Assert, namespace: dict) -> tuple[bool, dict]:
    """Run ``assert <left> <op> <right>`` with each side evaluated once, as Python would; on a failure, both sides.

    Returns whether it passed and, if not, ``{"actual": <left>, "expected": <right>, "op": <the operator>}``
    as text. Raises what evaluating a side raises.
    """
    test = node.test
    left = eval(_compiled(test.left), namespace)
    right = eval(_compiled(test.comparators[0]), namespace)
    if COMPARISONS[type(test.ops[0])](left, right):
        return True, {}
    op = ast.unparse(ast.Compare(left=ast.Name("a"), ops=test.ops, comparators=[ast.Name("b")]))[2:-2]
    return False, {"actual": _shown.repr(left), "expected": _shown.repr(right), "op": op}


def _is_comparison(node: ast.Assert) -> bool:
    test = node.test
    return isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in COMPARISONS


def _error(error: BaseException, filename: str) -> str:
    """The last lines of the traceback, from the frames of ``filename`` on (none of this module's)."""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename in (LEARNER_FILE, CHECKS_FILE)
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()


def run_checks(code: str, checks: str) -> dict:
    """``{"error": <the learner's code failed, or "">, "checks": [{"message", "passed", "detail", "compared"}]}``.

    ``compared`` is set for a failed check of the form ``assert <left> <op> <right>``: both sides, as
    ``{"actual", "expected", "op"}``, the learner's value being the left one by convention
    (``assert add(2, 3) == 5``).
    """
    tree = ast.parse(checks, CHECKS_FILE)
    asserts = [node for node in tree.body if isinstance(node, ast.Assert)]
    results = [
        {"message": assertion_message(node), "passed": False, "detail": "", "compared": None} for node in asserts
    ]
    namespace = {"__name__": "__learner__", "__builtins__": __builtins__}
    try:
        exec(compile(code, LEARNER_FILE, "exec"), namespace)
    except BaseException as error:  # SystemExit and KeyboardInterrupt included: the learner's code ends here
        return {"error": _error(error, LEARNER_FILE), "checks": results}
    number = 0
    for node in tree.body:
        statement = compile(ast.Module(body=[node], type_ignores=[]), CHECKS_FILE, "exec")
        if isinstance(node, ast.Assert):
            result = results[number]
            number += 1
            try:
                if _is_comparison(node):
                    passed, compared = _compare(node, namespace)
                    if not passed:
                        result["compared"] = compared
                        continue
                else:
                    exec(statement, namespace)
            except AssertionError:
                continue
            except BaseException as error:
                result["detail"] = _error(error, CHECKS_FILE)
                continue
            result["passed"] = True
        else:
            try:
                exec(statement, namespace)
            except BaseException as error:
                # The checks after a preparation that failed cannot run: each says why.
                for result in results[number:]:
                    result["detail"] = _error(error, CHECKS_FILE)
                break
    return {"error": "", "checks": results}
