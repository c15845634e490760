"""How Python starts in the learner's browser: on intent, never on a plain page view; what the status line says;
a second page that reuses what the first fetched, compiled and started (static/js/python-worker.js).

scripts/bench_python.py times it; these tests pin the behaviour.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM_FLAGS, chromium_path
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The first run loads Python (about 13 MB, compiled by the browser): seconds on a busy machine.
LOADING = 90_000
PYTHON_FILE = re.compile(r"/static/pyodide/|python-worker")
SNAPSHOTS = "stream-python-snapshots"

FIRST = """\
```python title="Dice"
import random
print(random.random())
```

```python title="Greeting"
name = input("Your name? ")
print(f"Hello, {name}!")
```
"""
SECOND = """\
```python title="Dice"
import random
print(random.random())
```

```python title="Greeting"
name = input("Your name? ")
print(f"Hello, {name}!")
```

```python title="Blocking"
import asyncio
import time


async def main():
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    loop.call_later(0.05, lambda: print("timer", "after" if time.perf_counter() - started >= 0.5 else "during"))
    time.sleep(0.5)
    print("slept", "enough" if time.perf_counter() - started >= 0.5 else "too little")
    await asyncio.sleep(0)


asyncio.run(main())
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
# Records every text the status line of each block shows, in order (the progress bar has no text).
STATUS_RECORDER = """
window.statusSeen = {};
new MutationObserver(() => {
  for (const block of document.querySelectorAll("figure.code-block")) {
    const status = block.querySelector(".run-status");
    if (!status) continue;
    const seen = (window.statusSeen[block.id] ??= []);
    const text = status.textContent.trim();
    if (text && seen.at(-1) !== text) seen.push(text);
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


@pytest.fixture
def lessons(db):
    course = CourseFactory(slug="python")
    return (
        LessonFactory(course=course, slug="first", position=1, body=FIRST),
        LessonFactory(course=course, slug="second", position=2, body=SECOND),
    )


@pytest.fixture
def profile_page(browser, live_server, tmp_path):
    """A page in a browser with a profile on disk, as a learner's: the incognito contexts of the `page` fixture
    keep their HTTP cache in memory, where an entry as big as pyodide.asm.wasm (9.6 MB) is not kept."""
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_path(), args=CHROMIUM_FLAGS, base_url=live_server.url
    )
    page = context.pages[0] if context.pages else context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{message.text} ({page.url})"))
    yield page
    context.close()
    assert errors == [], f"the browser console reported errors (CSP violations show up here): {errors}"


def block(page, title: str):
    return page.locator("figure.code-block", has=page.locator(".code-title", has_text=title))


def run(page, title: str, status: str = "Finished.") -> str:
    block(page, title).get_by_role("button", name="Run").click()
    expect(block(page, title).locator(".run-status")).to_have_text(status, timeout=LOADING)
    return block(page, title).locator(".run-output").inner_text().rstrip("\n")


def started_from(page) -> str:
    """How the page's Python started: "fresh", or "snapshot" (the worker says so, for these tests)."""
    [worker] = page.workers
    return worker.evaluate("self.startedFrom")


def snapshot_sizes(page) -> list[int]:
    return page.evaluate(
        f"""async () => {{
            const cache = await caches.open("{SNAPSHOTS}");
            const sizes = [];
            for (const request of await cache.keys()) {{
                sizes.push((await (await cache.match(request)).arrayBuffer()).byteLength);
            }}
            return sizes;
        }}"""
    )


def wait_for_snapshot(page) -> None:
    """The snapshot is stored while the first program runs; a second page is only fast once it is there."""
    for _ in range(600):
        if snapshot_sizes(page):
            return
        page.wait_for_timeout(100)
    pytest.fail("No snapshot of the started Python was stored")


def test_a_plain_page_view_starts_no_python_and_a_pointer_on_run_does(page, lessons):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(lessons[1].get_absolute_url())
    page.keyboard.press("End")  # read to the end, touching nothing
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    assert not [url for url in fetched if PYTHON_FILE.search(url)]
    assert page.workers == []
    with page.expect_request(lambda request: request.url.endswith("/pyodide.asm.wasm"), timeout=LOADING):
        block(page, "Dice").get_by_role("button", name="Run").hover()  # no click
    assert len(page.workers) == 1


def test_the_focus_on_edit_starts_python(page, lessons):
    page.goto(lessons[0].get_absolute_url())
    page.wait_for_load_state("networkidle")
    assert page.workers == []
    with page.expect_event("worker"):
        block(page, "Dice").get_by_role("button", name="Edit").focus()  # the focus alone, no press
    # Started ahead, it is ready, or nearly, when Run is pressed.
    assert re.fullmatch(r"0\.\d+", run(page, "Dice"))


def test_the_status_line_says_loading_then_starting_then_running(page, lessons):
    page.add_init_script(STATUS_RECORDER)
    page.goto(lessons[0].get_absolute_url())
    run(page, "Dice")
    seen = page.evaluate("window.statusSeen")[block(page, "Dice").get_attribute("id")]
    assert seen == ["Loading Python…", "Starting Python…", "Running…", "Finished."]
    run(page, "Dice")  # Python is there: straight to running
    seen = page.evaluate("window.statusSeen")[block(page, "Dice").get_attribute("id")]
    assert seen[4:] == ["Running…", "Finished."]


def test_a_second_page_starts_from_the_first_pages_files_and_snapshot(profile_page, lessons):
    """The HTTP cache gives the files, the snapshot Python as it was started; the programs behave the same."""
    page = profile_page
    page.add_init_script(STATUS_RECORDER)
    page.goto(lessons[0].get_absolute_url())
    first_number = run(page, "Dice")
    assert started_from(page) == "fresh"
    wait_for_snapshot(page)

    page.goto(lessons[1].get_absolute_url())
    second_number = run(page, "Dice")
    assert started_from(page) == "snapshot"
    # The snapshot holds the random generator too: it is seeded afresh, or every page would draw the same.
    assert float(second_number) != float(first_number)
    seen = page.evaluate("window.statusSeen")[block(page, "Dice").get_attribute("id")]
    assert seen == ["Loading Python…", "Starting Python…", "Running…", "Finished."]
    [worker] = page.workers
    sizes = worker.evaluate(
        """() => Object.fromEntries(performance.getEntriesByType("resource")
            .filter((entry) => /pyodide\\.asm\\.wasm|python_stdlib\\.zip|pyodide\\.asm\\.mjs/.test(entry.name))
            .map((entry) => [entry.name.split("/").pop(), entry.transferSize]))"""
    )
    assert sizes == {"pyodide.asm.wasm": 0, "python_stdlib.zip": 0, "pyodide.asm.mjs": 0}  # from the HTTP cache

    block(page, "Greeting").get_by_role("button", name="Run").click()
    field = page.get_by_label("Your name?")
    expect(field).to_be_focused(timeout=LOADING)
    field.fill("Ada")
    field.press("Enter")
    expect(block(page, "Greeting").locator(".run-status")).to_have_text("Finished.")
    assert block(page, "Greeting").locator(".run-output").inner_text().rstrip() == "Your name? Ada\nHello, Ada!"
    assert run(page, "Blocking") == "slept enough\ntimer after"
    assert run(page, "Network") == "refused: Error: Programs on this page cannot use the network."
    broken = run(page, "Broken", status="Finished with an error.")
    assert 'File "main.py", line 4, in <module>' in broken
    assert broken.endswith("ZeroDivisionError: division by zero")


def test_a_damaged_snapshot_is_dropped_and_python_starts_afresh(page, lessons):
    page.goto(lessons[0].get_absolute_url())
    page.evaluate(
        f"""async () => {{
            const config = document.getElementById("python-config").dataset;
            const key = new URL(config.indexUrl, location.href).href + "stream-memory-snapshot";
            await (await caches.open("{SNAPSHOTS}")).put(key, new Response(new Uint8Array(4096)));
        }}"""
    )
    page.reload()
    assert re.fullmatch(r"0\.\d+", run(page, "Dice"))
    assert started_from(page) == "fresh"
    for _ in range(600):
        if [size for size in snapshot_sizes(page) if size > 1_000_000]:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("The damaged snapshot was not replaced by a good one")
