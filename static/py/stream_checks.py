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
import traceback

LEARNER_FILE = "<exercise>"
CHECKS_FILE = "<checks>"


def assertion_message(node: ast.Assert) -> str:
    """The message an author gave an assert: its string literal (or its source, if it is no literal)."""
    if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str):
        return node.msg.value
    return ast.unparse(node.msg if node.msg is not None else node.test)


def _error(error: BaseException, filename: str) -> str:
    """The last lines of the traceback, from the frames of ``filename`` on (none of this module's)."""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename in (LEARNER_FILE, CHECKS_FILE)
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()


def run_checks(code: str, checks: str) -> dict:
    """``{"error": <the learner's code failed, or "">, "checks": [{"message", "passed", "detail"}]}``."""
    tree = ast.parse(checks, CHECKS_FILE)
    asserts = [node for node in tree.body if isinstance(node, ast.Assert)]
    results = [{"message": assertion_message(node), "passed": False, "detail": ""} for node in asserts]
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
