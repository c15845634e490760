"""The learner's code editor (static/js/code-editor.js): CodeMirror in a shadow root over the text area.

The `page` fixture fails a test on any console error, so each test here also says that the editor's styles
got in under the Content-Security-Policy (no nonce on lesson pages, which are cached).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import serious_axe_violations
from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The first run loads Python (about 13 MB, compiled by the browser): seconds on a busy machine.
LOADING = 90_000
# Words enough to put the exercise below the fold of a window 720 pixels high.
FILLER = "\n\n".join(f"Paragraph {n} of the lesson, which the learner reads before the exercise." for n in range(40))
BODY = f"""\
```python title="Greeting"
import sys


def greet(name):
    return f"Hello, {{name}}!"


print(greet("Ada"), file=sys.stdout)
```

{FILLER}
"""
STARTER = "def double(n):\n    ...\n"
CHECKS = 'assert double(2) == 4, "double(2) is 4"\n'
EDITOR_MODULE = re.compile(r"/static/(js/code-editor|vendor/)")


@pytest.fixture
def lesson(db):
    return LessonFactory(
        course__slug="python",
        slug="editing",
        body=BODY,
        exercise="Write `double(n)`, which returns twice `n`.",
        exercise_starter=STARTER,
        exercise_checks=CHECKS,
        exercise_xp=5,
    )


def greeting(page):
    return page.locator("figure.code-block", has=page.locator(".code-title", has_text="Greeting"))


def open_editor(page):
    """Edit pressed on the Greeting block; its editor, once it is there and focused."""
    greeting(page).get_by_role("button", name="Edit").click()
    editor = greeting(page).get_by_role("textbox", name="Edit the code: Greeting")
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))
    expect(editor).to_be_focused()
    return editor


def exercise_editor(page, name: str = "Your solution"):
    """The exercise's editor, once it has taken the text area's place (it does when it comes into view)."""
    workspace = page.locator(".exercise-workspace")
    workspace.scroll_into_view_if_needed()
    editor = workspace.get_by_role("textbox", name=name)
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))
    return editor


def focus_in_editor(page, within=None) -> bool:
    """Whether the focus is in an editor (in its shadow root: the page sees its host), or in the one ``within``."""
    host = (within or page).locator(".code-editor-host").first
    if within is not None:
        return host.evaluate("host => document.activeElement === host")
    return page.evaluate("document.activeElement?.classList.contains('code-editor-host') ?? false")


def test_edit_opens_a_python_editor_with_line_numbers_and_highlighting(page, lesson):
    page.goto(lesson.get_absolute_url())
    editor = open_editor(page)
    block = greeting(page)
    lines = BODY.split("```python", 1)[1].split("```", 1)[0].strip("\n").split("\n")[1:]
    numbers = block.locator(".cm-lineNumbers .cm-gutterElement").filter(visible=True)  # not the width's spacer
    expect(numbers).to_have_text([str(number) for number in range(1, len(lines) + 1)])
    expect(block.locator(".tok-keyword", has_text="def")).to_be_visible()
    expect(block.locator(".tok-keyword", has_text="import")).to_be_visible()
    expect(block.locator(".tok-function", has_text="greet")).to_be_visible()
    expect(block.locator(".tok-string").first).to_be_visible()
    hint = block.locator(".keys")
    expect(hint).to_have_text(re.compile(r"Escape, then Tab.*Ctrl\+Enter"))
    assert editor.get_attribute("aria-describedby") == hint.get_attribute("id")
    # The text area stays, hidden: it holds what Run, Copy and the stored edit read.
    textarea = block.locator("textarea.code-editor")
    expect(textarea).to_be_hidden()
    expect(textarea).to_have_value("\n".join(lines))
    expect(block.locator(".highlight")).to_be_hidden()


def test_typing_indents_and_ctrl_enter_runs_what_the_text_area_holds(page, lesson):
    page.goto(lesson.get_absolute_url())
    open_editor(page)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("for n in range(2):\nprint(n * 10)")  # Enter after the colon indents the next line
    textarea = greeting(page).locator("textarea.code-editor")
    expect(textarea).to_have_value("for n in range(2):\n    print(n * 10)")
    page.keyboard.press("ControlOrMeta+Enter")
    block = greeting(page)
    expect(block.locator(".run-status")).to_have_text("Finished.", timeout=LOADING)
    assert block.locator(".run-output").inner_text().split() == ["0", "10"]
    # Run from the editor leaves the focus there, to go on typing.
    assert focus_in_editor(page)
    assert textarea.input_value() == "for n in range(2):\n    print(n * 10)"
    stored = page.evaluate("Object.entries(localStorage).filter(([key]) => key.startsWith('stream.code:'))")
    assert [value for _, value in stored] == ["for n in range(2):\n    print(n * 10)"]
    block.get_by_role("button", name="Copy").click()  # site.js copies what the text area holds
    expect(block.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "for n in range(2):\n    print(n * 10)"


def test_the_editor_is_used_by_keyboard_alone_and_escape_then_tab_leaves_it(page, lesson):
    page.goto(lesson.get_absolute_url())
    edit = greeting(page).get_by_role("button", name="Edit")
    for _ in range(60):
        page.keyboard.press("Tab")
        if edit.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Edit button")
    page.keyboard.press("Enter")
    editor = greeting(page).get_by_role("textbox", name="Edit the code: Greeting")
    expect(editor).to_have_class(re.compile(r"\bcm-content\b"))  # not the text area it takes over from
    expect(editor).to_be_focused()
    page.keyboard.press("ControlOrMeta+Home")
    page.keyboard.press("Tab")  # indents the line, and the focus stays
    textarea = greeting(page).locator("textarea.code-editor")
    expect(textarea).to_have_value(re.compile(r"^    import sys\n"))
    assert focus_in_editor(page, within=greeting(page))
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not focus_in_editor(page, within=greeting(page))
    expect(textarea).to_have_value(re.compile(r"^    import sys\n"))  # that Tab did not indent
    # It reached the exercise's editor, the next thing to focus; Escape, then Shift+Tab, comes back.
    assert focus_in_editor(page, within=page.locator(".exercise-workspace"))
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")
    assert focus_in_editor(page, within=greeting(page))
    expect(page.locator("#exercise-code")).to_have_value(STARTER)


def test_selecting_all_and_typing_over_highlighted_lines_breaks_no_content_security_policy(page, lesson):
    """The browser's own editing would copy the highlighting's colours into style attributes, which the CSP refuses."""
    page.goto(lesson.get_absolute_url())
    open_editor(page)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("x")
    textarea = greeting(page).locator("textarea.code-editor")
    expect(textarea).to_have_value("x")
    page.keyboard.press("ControlOrMeta+z")
    expect(textarea).to_have_value(re.compile(r"^import sys"))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text("print('안녕')")
    expect(textarea).to_have_value("print('안녕')")
    editor = exercise_editor(page)
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("y")
    expect(page.locator("#exercise-code")).to_have_value("y")
    page.wait_for_timeout(300)  # a report of a violation would come as a console error meanwhile


def test_the_exercise_gets_the_editor_in_view_and_ctrl_enter_checks_it(page, lesson):
    page.goto(lesson.get_absolute_url())
    editor = exercise_editor(page)
    workspace = page.locator(".exercise-workspace")
    expect(workspace.locator(".keys")).to_have_text(re.compile(r"Escape, then Tab.*checks your solution"))
    textarea = workspace.locator("#exercise-code")
    expect(textarea).to_be_hidden()
    page.locator("label[for=exercise-code]").click()  # the label still leads to the code
    expect(editor).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("def double(n):\nreturn n * 2")
    expect(textarea).to_have_value("def double(n):\n    return n * 2")
    page.keyboard.press("ControlOrMeta+Enter")
    expect(workspace.locator(".run-status")).to_have_text("All checks passed.", timeout=LOADING)
    expect(workspace.locator(".check-passed")).to_have_count(1)
    assert focus_in_editor(page)

    page.reload()
    exercise_editor(page)
    expect(page.locator("#exercise-code")).to_have_value("def double(n):\n    return n * 2")
    expect(page.locator(".exercise-workspace .cm-content")).to_contain_text("return n * 2")
    page.get_by_role("button", name="Start over from the starter code").click()
    expect(page.locator("#exercise-code")).to_have_value(STARTER)
    expect(page.locator(".exercise-workspace .cm-line").nth(1)).to_have_text("    ...")
    assert focus_in_editor(page)


def test_the_editors_pass_axe_in_light_and_dark(page, lesson):
    page.goto(lesson.get_absolute_url())
    open_editor(page)
    exercise_editor(page)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_axe_violations(page) == [], scheme


def test_the_editors_colours_follow_the_colour_scheme(page, lesson):
    """The site's highlighted code's colours (Pygments' default in light, monokai in dark), on --code-bg."""
    page.goto(lesson.get_absolute_url())
    open_editor(page)
    block = greeting(page)
    colours = {
        "light": ("rgb(246, 245, 241)", "rgb(0, 128, 0)", "rgb(186, 33, 33)"),
        "dark": ("rgb(39, 40, 34)", "rgb(102, 217, 239)", "rgb(230, 219, 116)"),
    }
    for scheme, (background, keyword, string) in colours.items():
        page.emulate_media(color_scheme=scheme)
        expect(block.locator(".cm-editor")).to_have_css("background-color", background)
        expect(block.locator(".tok-keyword").first).to_have_css("color", keyword)
        expect(block.locator(".tok-string").first).to_have_css("color", string)


@pytest.mark.parametrize("width", [320, 390])
def test_on_a_phone_in_korean_the_editors_fit_the_screen(page, live_server, lesson, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    page.goto(lesson.get_absolute_url())
    greeting(page).get_by_role("button", name="수정").click()
    editor = greeting(page).get_by_role("textbox", name="코드 편집: Greeting")
    expect(editor).to_be_focused()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type("\nprint('" + "긴 줄 " * 40 + "')")
    exercise = exercise_editor(page, name="내 풀이")
    exercise.click()
    page.keyboard.type("# " + "x" * 200)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The long lines scroll inside each editor instead.
    scroller = greeting(page).locator(".cm-scroller")
    assert scroller.evaluate("element => element.scrollWidth > element.clientWidth")


def test_a_page_view_fetches_no_editor_until_one_is_wanted(page, lesson):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(lesson.get_absolute_url())
    page.wait_for_load_state("networkidle")
    expect(greeting(page).get_by_role("button", name="Edit")).to_be_visible()
    assert not [url for url in fetched if EDITOR_MODULE.search(url) or "code-editor.css" in url]
    open_editor(page)
    assert [url for url in fetched if "/static/js/code-editor" in url]
    assert [url for url in fetched if "/static/css/code-editor" in url]


def test_the_exercise_comes_into_view_with_its_editor_and_without_python(page, lesson):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(lesson.get_absolute_url())
    page.wait_for_load_state("networkidle")
    assert not [url for url in fetched if EDITOR_MODULE.search(url)]
    page.mouse.wheel(0, 20_000)  # scrolled down to it, touching nothing on the way
    expect(page.locator(".exercise-workspace .cm-content")).to_be_visible()
    assert [url for url in fetched if "/static/js/code-editor" in url]
    assert not [url for url in fetched if "/static/pyodide/" in url or "python-worker" in url]
