"""Every page fits a phone: nothing scrolls sideways, wide things scroll in their own box
and can be reached by keyboard, and every link and button is big enough to tap."""

from itertools import pairwise

import pytest
from django.test import Client
from playwright.sync_api import expect

from comments.notification_mail import unsubscribe_token
from courses.markdown import CODE_COLUMNS_THAT_ALWAYS_FIT
from courses.models import Lesson, LessonLink
from progress import services
from tests.factories import CourseFactory, LessonFactory, StaffFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [320, 390, 1280]
# Their status makes the browser log "Failed to load resource", which is expected here.
ERROR_PAGES = ["/no-such-page/", "/?page=%00"]
SIGNED_IN_PAGES = ["/accounts/settings/", "/accounts/password/change/", "/accounts/email/", "/admin/", "/me/"]
LONG_URL = "https://docs.python.org/3/library/asyncio-task.html#asyncio.TaskGroup.create_task.and.then.some.more.path"
CONTENT = {
    "en": {
        "title": "Waiting for everything at once with a rather long lesson title",
        "word": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2,
        "code": "results = await asyncio.gather(*(fetch(session, url, retries=3) for url in urls))",
        "comment": "# wait for all of them",
    },
    "ko": {
        "title": "여러 작업을 한꺼번에 기다리는 방법과 그 밖의 긴 레슨 제목",
        "word": "비동기프로그래밍에서이벤트루프가코루틴을번갈아실행하는방식" * 2,
        "code": "results = await asyncio.gather(*tasks)  # 모든 작업이 끝날 때까지 기다립니다",
        "comment": "# 모두 끝날 때까지",
    },
}


def wide_body(language: str) -> str:
    content = CONTENT[language]
    columns = ", ".join(f"column {n}" for n in range(1, 11))
    return (
        f"An unbroken word: {content['word']}. A long address: {LONG_URL} and [a link]({LONG_URL}).\n\n"
        f"## {content['title']}\n\n"
        f'```python title="{content["title"]}"\n{content["code"]}\n```\n\n'
        f"### Fits\n\n"
        f"```text\n{'x' * CODE_COLUMNS_THAT_ALWAYS_FIT}\n{'가' * (CODE_COLUMNS_THAT_ALWAYS_FIT // 2)}\n```\n\n"
        f"| {columns.replace(', ', ' | ')} |\n|{'---|' * 10}\n| {' | '.join(['value'] * 10)} |\n"
    )


@pytest.fixture
def site(db):
    """A course per content language, each with a lesson full of wide things between two others."""
    tag = TagFactory(slug="asyncio", name="asyncio")
    pages = [
        "/",
        "/tags/asyncio/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/confirm-email/no-such-key/",
        "/leaderboard/",
        "/xp/",
        *ERROR_PAGES,
        # Search results with long titles and unbroken words in their passages; a refused query's form.
        f"/search/?q={CONTENT['en']['word'][:20]}",
        f"/search/?q={CONTENT['ko']['word'][:6]}",
        "/search/?q=" + "x" * 201,
    ]
    leader = UserFactory(display_name="A learner with a rather long display name indeed")
    for language, content in CONTENT.items():
        course = CourseFactory(slug=f"course-{language}", language=language, title=content["title"])
        for position in (1, 3):
            LessonFactory(course=course, position=position, slug=f"lesson-{position}", title=content["title"])
        lesson = LessonFactory(
            course=course,
            position=2,
            slug="wide",
            title=content["title"],
            summary=content["word"],
            body=wide_body(language),
            exercise=f"```python\n{content['code']}\n```\n",
        )
        lesson.tags.set([tag])
        LessonLink.objects.create(lesson=lesson, title=content["title"], url=LONG_URL)
        pages += [f"/courses/course-{language}/", f"/courses/course-{language}/wide/"]
        services.complete_lesson(learner=leader, lesson=lesson)
    subscribed = UserFactory(email_notifications=True)
    pages.append(f"/notifications/unsubscribe/{unsubscribe_token(user_id=subscribed.pk)}/")
    return pages


@pytest.fixture
def page(browser, live_server):
    """The suite's page, except that the 404 page's own "Failed to load resource" is expected."""
    context = browser.new_context(base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors = []

    def record(message):
        if message.type == "error" and not message.location["url"].endswith(
            ("/no-such-page/", "/?page=%00", "/admin/login/?next=/admin/")
        ):
            errors.append(message.text)

    page.on("console", record)
    yield page
    context.close()
    assert errors == [], f"the browser console reported errors (CSP violations show up here): {errors}"


@pytest.fixture
def reader(page, live_server):
    def switch(language: str, width: int) -> None:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.set_viewport_size({"width": width, "height": 800})

    return switch


@pytest.mark.parametrize("language", ["en", "ko"])
def test_no_page_scrolls_sideways(page, reader, site, language):
    """Pins lesson pages 690 to 750 px wide on a 390 px phone: the grid column grew to the widest code line."""
    too_wide = []
    for width in WIDTHS:
        reader(language, width)
        for url in site:
            page.goto(url)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide.append(f"{url} is {scroll_width} px wide at {width} px")
    assert too_wide == []


@pytest.mark.parametrize("language", ["en", "ko"])
def test_no_signed_in_page_scrolls_sideways(page, reader, site, live_server, language):
    learner = UserFactory(display_name="A learner with a rather long display name indeed", time_zone="Asia/Seoul")
    for lesson in Lesson.objects.all():  # long course and lesson titles in the learner's history and courses
        services.complete_lesson(learner=learner, lesson=lesson)
    client = Client()
    client.force_login(learner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    too_wide = []
    for width in WIDTHS:
        reader(language, width)
        for url in [*SIGNED_IN_PAGES, "/courses/course-ko/wide/", "/", "/courses/course-ko/", "/leaderboard/"]:
            page.goto(url)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide.append(f"{url} is {scroll_width} px wide at {width} px")
    assert too_wide == []


def test_a_long_unbroken_display_name_leaves_sign_out_on_one_line(page, reader, live_server, db):
    """Regression: a 50-letter name squeezed "Sign out" into a column of single letters on a 320 px phone."""
    learner = UserFactory(display_name="W" * 50)
    client = Client()
    client.force_login(learner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    reader("en", 320)
    page.goto("/xp/")
    sign_out = page.get_by_role("button", name="Sign out")
    one_line = page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").bounding_box()["height"]
    assert sign_out.bounding_box()["height"] <= one_line * 1.5
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [320, 390])
def test_code_and_tables_scroll_inside_their_own_box_with_the_copy_button_in_view(page, reader, site, width):
    reader("en", width)
    for language in CONTENT:
        page.goto(f"/courses/course-{language}/wide/")
        wide_code = page.locator("figure.code-block").first
        assert wide_code.locator(".highlight pre").evaluate("pre => pre.scrollWidth > pre.clientWidth")
        for box in [wide_code, page.locator(".table-scroll")]:
            bounds = box.bounding_box()
            assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width
        for name in ("Copy", "Run", "Edit"):
            for button in page.get_by_role("button", name=name, exact=True).all():
                bounds = button.bounding_box()
                assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width, name
        # Edited, the wide code scrolls inside its editor, and the page still does not.
        wide_code.get_by_role("button", name="Edit", exact=True).click()
        editor = wide_code.locator(".cm-scroller")  # the code editor (static/js/code-editor.js), in its shadow root
        expect(editor).to_be_visible()
        assert editor.evaluate("editor => editor.scrollWidth > editor.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        wide_code.get_by_role("button", name="Reset", exact=True).click()


SCROLLERS = """() => [...document.querySelectorAll("body *")]
  .filter(element => ["auto", "scroll"].includes(getComputedStyle(element).overflowX)
                     && element.scrollWidth > element.clientWidth)
  .map(element => ({tag: element.tagName, tabindex: element.tabIndex, role: element.getAttribute("role"),
                    name: element.getAttribute("aria-label")}))"""


def test_whatever_scrolls_sideways_is_a_named_region_reachable_by_keyboard(page, reader, site):
    """Pins axe's "scrollable region must be focusable" on wide code blocks."""
    reader("en", 320)
    for language in CONTENT:
        page.goto(f"/courses/course-{language}/wide/")
        scrollers = page.evaluate(SCROLLERS)
        assert {scroller["tag"] for scroller in scrollers} == {"PRE", "DIV"}
        for scroller in scrollers:
            assert scroller["tabindex"] == 0 and scroller["role"] == "region" and scroller["name"], scroller

    code = page.get_by_role("region", name=f"코드 1: {CONTENT['ko']['title']} (python)")
    for _ in range(50):
        page.keyboard.press("Tab")
        if code.evaluate("element => element === document.activeElement"):
            break
    expect(code).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("pre => pre.scrollLeft > 0", arg=code.element_handle())  # scrolling may be smooth


def test_a_code_block_judged_to_fit_a_phone_really_fits(page, reader, site):
    """courses/markdown.py leaves blocks of up to CODE_COLUMNS_THAT_ALWAYS_FIT columns out of the tab order."""
    reader("en", 320)
    page.goto("/courses/course-en/wide/")
    fits = page.locator("figure.code-block[data-language=text] pre")
    assert fits.get_attribute("tabindex") is None
    assert fits.evaluate("pre => pre.scrollWidth <= pre.clientWidth")


TARGETS = ", ".join(
    [
        ".site-header a",
        ".site-header button",
        ".breadcrumbs a",
        ".tag",
        ".toc a",
        ".header-anchor",
        ".copy-button",
        ".lesson-progress a",
    ]
)


@pytest.mark.parametrize("width", [320, 1280])
def test_lesson_page_links_and_buttons_are_at_least_24_px_square(page, reader, site, width):
    """Pins table-of-contents links and heading anchors under 24 px tall (WCAG 2.2, 2.5.8)."""
    reader("en", width)
    page.goto("/courses/course-en/wide/")
    sizes = page.eval_on_selector_all(
        TARGETS,
        """elements => elements.map(element => {
             const box = element.getBoundingClientRect();
             return {target: element.outerHTML.slice(0, 80), width: box.width, height: box.height};
           }).filter(size => size.width || size.height)""",  # not shown at this width (display: none)
    )
    assert len(sizes) > 12
    assert [size for size in sizes if size["width"] < 24 or size["height"] < 24] == []


# WCAG 2.5.8: a target is 24 by 24 CSS px, or a 24 px circle centred on it touches no other
# target nor another undersized target's circle; a link inside a sentence is exempt.
UNDERSIZED_AND_CROWDED = """() => {
  const isTarget = element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden";
  };
  const inSentence = element => {
    if (getComputedStyle(element).display !== "inline") return false;
    let block = element.parentElement;
    while (getComputedStyle(block).display.startsWith("inline")) block = block.parentElement;
    return /\\p{L}/u.test(block.textContent.replace(element.textContent, ""));
  };
  const targets = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex='0']")].filter(isTarget);
  const boxes = targets.map(element => element.getBoundingClientRect());
  const centre = box => [box.left + box.width / 2, box.top + box.height / 2];
  const undersized = targets.map((element, i) =>
    (boxes[i].width < 24 || boxes[i].height < 24) && !inSentence(element));
  const failures = [];
  targets.forEach((element, i) => {
    if (!undersized[i]) return;
    const [x, y] = centre(boxes[i]);
    targets.forEach((other, j) => {
      if (i === j || element.contains(other) || other.contains(element)) return;
      const box = boxes[j];
      const toBox = Math.hypot(Math.max(box.left - x, 0, x - box.right), Math.max(box.top - y, 0, y - box.bottom));
      const [ox, oy] = centre(box);
      if (toBox < 12 || (undersized[j] && Math.hypot(ox - x, oy - y) < 24)) {
        failures.push(element.outerHTML.slice(0, 80) + " is crowded by " + other.outerHTML.slice(0, 80));
      }
    });
  });
  return failures;
}"""


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_link_and_button_is_big_enough_or_spaced_enough_to_tap(page, reader, site, language, live_server):
    staff = StaffFactory()
    crowded = []
    for signed_in in (False, True):
        if signed_in:
            client = Client()
            client.force_login(staff)
            session = client.cookies["sessionid"].value
            page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        for width in (320, 1280):
            reader(language, width)
            for url in site:
                page.goto(url)
                crowded += [f"{url} at {width} px: {failure}" for failure in page.evaluate(UNDERSIZED_AND_CROWDED)]
    assert crowded == []


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_keyboard_focus_moves_through_the_header_in_the_order_it_is_shown(page, reader, site, width):
    """Review finding: on a phone the "Courses" link is shown on the header's third row (CSS order: 3)
    but focused second, between the brand and the language switch on the first row (WCAG 2.4.3)."""
    reader("en", width)
    page.goto("/")
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => { const element = document.activeElement;
                       if (!element.closest('.site-header')) return null;
                       const box = element.getBoundingClientRect();
                       return [element.textContent.trim(), box.top + box.height / 2]; }"""
        )
        if where is None and focused:
            break
        if where is not None:
            focused.append(where)
    rows = [round(middle) for _, middle in focused]
    assert all(later >= earlier - 10 for earlier, later in pairwise(rows)), focused
