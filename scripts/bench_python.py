"""Time Python's start in the learner's browser: the first Run on a lesson page, on a second one, and a later Run.

    make bench                                   # after scripts/bench_pages.py
    .venv/bin/python scripts/bench_python.py [--rounds 5] [--reading 5]

The demo course (``--course``: ``asyncio``) must be in the configured database (``make bench`` loads it).
The static files are collected and the site is served as ``make serve`` serves it (gunicorn, DEBUG off,
WhiteNoise with hashed names, compressed copies and far-future cache headers) on a free loopback port;
headless Chromium ($CHROMIUM_PATH, or what scripts/find-chromium finds) is the learner. Each round starts
with an empty browser profile of its own (on disk, as a learner's), so the three figures are:

- first Run, first page: a lesson opened with nothing cached, Run pressed on its first Python block that
  neither sleeps nor asks for input: Pyodide is fetched, compiled and started, then the program runs;
- first Run, second page: after ``--reading`` seconds on the first page (a learner reads before going on;
  meanwhile the browser keeps the compiled WebAssembly in its code cache and the worker stores its snapshot
  of the started Python), the next such lesson in the same profile: the files come from the HTTP cache, the
  compiled code from V8's code cache, and Python from the snapshot (static/js/python-worker.js);
- a later Run: Run pressed again on that page, with Python started.

Each is timed in the page, from the click's event to the status line saying "Finished.", and the medians
over the rounds are printed against the targets, with the status line's phases ("Loading Python…",
"Starting Python…", "Running…") of the first two.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import ROOT, free_port, wait_until_serving

TARGETS = {"first Run, first page": 5.0, "first Run, second page": 1.5, "a later Run": 0.3}  # seconds
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
RUN_TIMEOUT_MS = 120_000

# Installed in every page: times a Run of one block, from the click to the end, with the status line's phases.
RECORDER = """
window.streamBench = (id) => {
  const block = document.getElementById(id);
  const labels = document.getElementById("python-config").dataset;
  const ends = new Map([
    [labels.finishedLabel, "finished"], [labels.errorLabel, "error"], [labels.failedLabel, "failed"],
  ]);
  const status = block.querySelector(".run-status");
  let started = null;
  const phases = [];
  const run = block.querySelector(".run-button");
  run.addEventListener("click", (event) => { started = event.timeStamp; }, { capture: true, once: true });
  window.streamBenchResult = new Promise((resolve) => {
    new MutationObserver((records, observer) => {
      const text = status.textContent.trim();
      if (started === null || (phases.length && phases.at(-1)[0] === text)) return;
      phases.push([text, performance.now() - started]);
      if (ends.has(text)) {
        observer.disconnect();
        resolve({ outcome: ends.get(text), elapsed: performance.now() - started, phases });
      }
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });
};
"""

# The id of the first Python block of the page whose program neither sleeps nor waits for input.
QUICK_BLOCK = """
() => {
  for (const block of document.querySelectorAll(".lesson-content figure.code-block")) {
    const code = block.querySelector("pre")?.innerText || "";
    if (block.querySelector(".run-button") && !/sleep\\(|input\\(/.test(code)) return block.id;
  }
  return null;
}
"""


def chromium() -> str:
    if path := os.environ.get("CHROMIUM_PATH"):
        return path
    finder = [str(ROOT / "scripts" / "find-chromium")]
    return subprocess.run(finder, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def lesson_urls(course: str) -> list[str]:
    """The course's published lessons with Python, in order."""
    import django

    django.setup()
    from courses.models import Lesson

    lessons = Lesson.objects.published().filter(course__slug=course).order_by("position")
    urls = [lesson.get_absolute_url() for lesson in lessons if 'data-language="python"' in lesson.body_html]
    if len(urls) < 2:
        sys.exit(f"The course {course!r} has fewer than two lessons with Python: run `make demo` (or `make bench`).")
    return urls


@contextmanager
def serving() -> Iterator[str]:
    """Collect the static files and serve the site with gunicorn as `make serve` does; yields its URL."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "false",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env=env, check=True, cwd=ROOT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [*gunicorn, "--workers", "2", "--no-control-socket"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(server, log, base + "/healthz")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def time_run(page, block_id: str) -> dict:
    page.evaluate("id => window.streamBench(id)", block_id)
    page.locator(f"#{block_id} .run-button").click()
    result = page.evaluate("() => window.streamBenchResult")
    if result["outcome"] != "finished":
        sys.exit(f"The run of #{block_id} on {page.url} did not finish: {result}")
    return result


def open_lesson(page, url: str) -> str | None:
    """Open the lesson; the id of its first Python block that neither sleeps nor asks for input, if it has one."""
    response = page.goto(url)
    if not response.ok:
        sys.exit(f"{url}: HTTP {response.status}")
    return page.evaluate(QUICK_BLOCK)


def one_round(playwright, executable: str, base: str, urls: list[str], reading: float) -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="bench-python-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS, base_url=base
        )
        try:
            context.add_init_script(RECORDER)
            context.set_default_timeout(RUN_TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            # Each lesson in turn, opened, until one has a quick block (the demo's second such is its last).
            quick = (block_id for url in urls if (block_id := open_lesson(page, url)))
            results = {}
            block_id = next(quick, None)
            if block_id is None:
                sys.exit("No lesson has a Python block that runs without sleeping or asking for input.")
            results["first Run, first page"] = time_run(page, block_id)
            time.sleep(reading)
            block_id = next(quick, None)
            if block_id is None:
                sys.exit("No second lesson has a Python block that runs without sleeping or asking for input.")
            results["first Run, second page"] = time_run(page, block_id)
            results["a later Run"] = time_run(page, block_id)
            return results
        finally:
            context.close()


def phases_summary(rounds: list[dict[str, dict]], name: str) -> str:
    """The median time at which the status line first said each thing, in order."""
    at: dict[str, list[float]] = {}
    for results in rounds:
        for text, elapsed in results[name]["phases"]:
            at.setdefault(text, []).append(elapsed)
    return ", ".join(f"{text} at {statistics.median(times) / 1000:.2f} s" for text, times in at.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each in a new browser profile")
    parser.add_argument("--reading", type=float, default=5, help="seconds on the first page before the second")
    parser.add_argument("--course", default="asyncio", help="the course whose lessons are opened (the demo's)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    urls = lesson_urls(args.course)
    executable = chromium()
    rounds = []
    with serving() as base, sync_playwright() as playwright:
        for number in range(1, args.rounds + 1):
            results = one_round(playwright, executable, base, urls, args.reading)
            rounds.append(results)
            figures = ", ".join(f"{name} {result['elapsed'] / 1000:.2f} s" for name, result in results.items())
            print(f"round {number}: {figures}", flush=True)
    print(f"\nPython in the browser ({executable}), median of {args.rounds} rounds, from the click to 'Finished.':")
    for name, target in TARGETS.items():
        median = statistics.median(results[name]["elapsed"] for results in rounds) / 1000
        passed = median <= target
        print(f"  {name:<24} {median:6.2f} s   target ≤ {target:g} s   {'pass' if passed else 'FAIL'}")
    for name in list(TARGETS)[:2]:
        print(f"  {name}: {phases_summary(rounds, name)}")


if __name__ == "__main__":
    main()
