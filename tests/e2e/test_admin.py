import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from courses.models import Lesson, Status
from courses.revisions import save_revision
from tests.e2e.axe import serious_axe_violations
from tests.factories import CourseFactory, LessonFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_writes_a_lesson_in_admin_previews_and_publishes_it(page):
    """The admin works under the site's Content-Security-Policy (no console errors)."""
    editor = StaffFactory(email="editor@example.com")
    EmailAddress.objects.create(user=editor, email=editor.email, primary=True, verified=True)
    CourseFactory(title="Async Python", slug="asyncio")

    # Staff sign in through the site's own (rate-limited) sign-in page, then land in the admin.
    page.goto("/admin/login/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email").fill("editor@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto("/admin/courses/lesson/add/")
    page.get_by_label("Course").select_option(label="Async Python")
    page.locator("#id_title").press_sequentially("Timeouts")
    expect(page.get_by_label("Slug")).to_have_value("timeouts")
    page.locator("#id_position").fill("1")
    body_editor(page).fill('## Why\n\n```python title="A timeout"\nimport asyncio\n```\n')
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Lesson.objects.get(slug="timeouts").status == Status.DRAFT

    page.get_by_role("link", name="Preview the lesson").click()
    expect(page.locator(".code-title")).to_have_text("A timeout")

    page.goto("/admin/courses/lesson/")
    page.get_by_role("checkbox", name="Select this object for an action - Timeouts").check()
    page.locator("select[name=action]").select_option("publish")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("1 lesson published.")

    page.goto("/courses/asyncio/timeouts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeouts")
    expect(page.locator(".lesson-state")).to_contain_text("published")


def staff_cookie(live_server) -> dict:
    client = Client()
    client.force_login(StaffFactory())
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url}  # fmt: skip


def body_editor(page):
    """The body's code editor (CodeMirror), which stands in for the text box the form sends."""
    return page.get_by_role("textbox", name="Body")


def sent_body(page):
    """The body's text box: hidden behind the editor, it holds what the form sends."""
    return page.locator("#id_body")


def test_an_author_changes_a_published_lesson_as_a_draft_compares_restores_and_publishes(page, browser, live_server):
    lesson = LessonFactory(
        course__slug="asyncio", slug="timeouts", title="Timeouts", body="## Start\n\nThe old words.\n"
    )
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    page.context.add_cookies([staff_cookie(live_server)])
    learner = browser.new_context(base_url=live_server.url).new_page()

    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    assert serious_axe_violations(page) == []
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)  # two buttons say what happens
    body_editor(page).fill("## Start\n\nThe new words.\n")
    page.get_by_label("Note for the history").fill("Clearer words")
    page.get_by_role("button", name="Save draft of changes").click()
    expect(page.locator(".messagelist")).to_contain_text("a draft of changes")
    expect(page.locator(".lesson-draft-note")).to_contain_text("This form shows a draft of changes: revision 2 (")
    expect(sent_body(page)).to_have_value("## Start\n\nThe new words.")
    expect(body_editor(page)).to_contain_text("The new words.")

    learner.goto("/courses/asyncio/timeouts/")
    expect(learner.locator(".lesson-body")).to_contain_text("The old words.")

    page.get_by_role("link", name="Preview the draft").first.click()
    expect(page.locator(".lesson-draft-note")).to_contain_text("Draft of changes — not yet public.")
    expect(page.locator(".lesson-preview-body")).to_contain_text("The new words.")
    assert serious_axe_violations(page) == []

    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    page.get_by_role("link", name="See what changed").click()
    expect(page.locator(".diff-removed")).to_have_text(re.compile("The old words."))
    expect(page.locator(".diff-added")).to_have_text(re.compile("The new words."))
    assert serious_axe_violations(page) == []

    page.get_by_role("link", name="Revision 1", exact=True).click()
    expect(page.locator(".revision-fields")).to_contain_text("The old words.")
    assert serious_axe_violations(page) == []

    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    page.get_by_role("button", name="Publish changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Published revision 2: learners now read it.")
    learner.reload()
    expect(learner.locator(".lesson-body")).to_contain_text("The new words.")

    page.goto(f"/admin/courses/lesson/{lesson.pk}/revisions/1/")
    page.get_by_role("button", name="Restore this revision").click()
    expect(page.locator(".messagelist")).to_contain_text("Revision 1 is restored as revision 3, a draft of changes")
    expect(body_editor(page)).to_contain_text("The old words.")
    learner.reload()
    expect(learner.locator(".lesson-body")).to_contain_text("The new words.")
    learner.context.close()


def test_the_lesson_form_works_at_phone_width_by_keyboard(page, live_server):
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body="## Start\n\nWords.\n")
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    page.context.add_cookies([staff_cookie(live_server)])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/admin/courses/lesson/{lesson.pk}/revisions/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    body_editor(page).focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\nTyped by keyboard.")
    publish = page.get_by_role("button", name="Publish changes")
    publish.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("Published revision 2")
    lesson.refresh_from_db()
    assert "Typed by keyboard." in lesson.body_html


def test_enter_in_a_field_of_a_published_lesson_saves_a_draft_and_publishes_nothing(page, live_server):
    """Regression: the first button, which Enter presses, was "Publish changes"."""
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body="## Start\n\nWords.\n")
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    page.context.add_cookies([staff_cookie(live_server)])
    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    page.locator("#id_title").fill("Timeouts, renamed")
    page.locator("#id_title").press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("a draft of changes")
    lesson.refresh_from_db()
    assert lesson.title == "Timeouts" and lesson.draft.content["title"] == "Timeouts, renamed"


def test_the_lesson_form_previews_the_text_as_it_is_typed_with_its_problems(page, live_server):
    CourseFactory(title="Async Python", slug="asyncio")
    page.context.add_cookies([staff_cookie(live_server)])
    page.goto("/admin/courses/lesson/add/")
    page.get_by_label("Course").select_option(label="Async Python")
    body = body_editor(page)
    body.fill('## Why\n\n> [!TIP]\n> Await it.\n\n```python title="A timeout"\nimport asyncio\n```\n')
    preview = page.locator(".lesson-live")
    expect(preview.locator(".callout-title")).to_have_text("Tip")
    expect(preview.locator(".code-title")).to_have_text("A timeout")
    expect(preview.locator(".lesson-live-status")).to_have_text("No problems found.")

    body.press("Control+End")
    body.press_sequentially("\n```\nnever closed\n")
    expect(preview.locator(".lesson-live-error")).to_contain_text("never closed with ```")
    assert serious_axe_violations(page) == []

    # Tab indents in the body; Escape, then Tab, moves on.
    body.fill("")
    body.press("Tab")
    body.press_sequentially("x")
    expect(sent_body(page)).to_have_value("    x")
    body.press("Escape")
    body.press("Tab")
    expect(body).not_to_be_focused()


def test_an_author_uploads_an_image_from_the_lesson_form_at_phone_width_and_learners_see_it(
    page, browser, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body="## Start\n\nWords.\n")
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    picture = tmp_path / "loop.png"
    Image.new("RGB", (60, 40), (20, 120, 90)).save(picture)
    page.context.add_cookies([staff_cookie(live_server)])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")

    body = body_editor(page)
    body.press("Control+End")
    page.get_by_label("Image (PNG, JPEG, WebP or GIF)").set_input_files(picture)
    page.get_by_label("Alt text: what the image shows").fill("The event loop")
    page.get_by_role("button", name="Upload and insert").click()
    expect(page.locator(".lesson-image-upload [role=status]")).to_contain_text("inserted at the cursor")
    expect(sent_body(page)).to_have_value(re.compile(r"!\[The event loop\]\(/media/lessons/[0-9a-f]{32}\.png\)"))
    expect(page.locator(".lesson-live img[alt='The event loop']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.get_by_role("button", name="Publish changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Published revision 2")

    learner = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}).new_page()
    errors = []
    learner.on("console", lambda message: message.type == "error" and errors.append(message.text))
    learner.goto("/courses/asyncio/timeouts/")
    figure = learner.get_by_role("img", name="The event loop")
    expect(figure).to_be_visible()
    assert figure.evaluate("image => image.naturalWidth") == 60
    assert errors == []
    learner.context.close()


def test_a_body_too_large_to_send_is_stopped_in_the_form_with_the_text_kept(page, live_server):
    """Regression: a 3 MB body ended on Django's RequestDataTooBig error page, and the text was gone."""
    CourseFactory(title="Async Python", slug="asyncio")
    page.context.add_cookies([staff_cookie(live_server)])
    page.goto("/admin/courses/lesson/add/")
    page.get_by_label("Course").select_option(label="Async Python")
    page.locator("#id_title").fill("Huge")
    page.locator("#id_position").fill("1")
    sent_body(page).evaluate(
        "(box, text) => { box.value = text; box.dispatchEvent(new Event('input')); }",
        "## Huge\n\n" + "word " * 600_000,
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("a lesson's body may be at most 512 KB")
    expect(page.locator(".lesson-live-status")).to_contain_text("may be at most 512 KB")
    assert page.url.endswith("/admin/courses/lesson/add/")
    assert sent_body(page).evaluate("box => box.value.length") > 3_000_000
    assert not Lesson.objects.exists()


def test_the_lesson_editors_number_lines_highlight_markdown_and_python_and_keep_their_styles_under_the_csp(
    page, live_server
):
    lesson = LessonFactory(
        course__slug="asyncio",
        slug="timeouts",
        body="## Start\n\nSome **strong** words.\n",
        exercise="Write add.",
        exercise_starter="def add(a, b):\n    ...\n",
        exercise_checks='assert add(2, 3) == 5, "add adds"\n',
    )
    page.context.add_cookies([staff_cookie(live_server)])
    response = page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    # The editors' styles are admitted by this page's nonce alone; no page gets 'unsafe-inline'.
    policy = response.headers["content-security-policy"]
    assert re.search(r"style-src 'self' 'nonce-[^']+'", policy) and "unsafe-inline" not in policy

    body = body_editor(page)
    expect(body).to_contain_text("Some **strong** words.")
    editor = page.locator(".lesson-code-editor-body")
    expect(editor.locator(".cm-lineNumbers .cm-gutterElement", has_text="3")).to_be_visible()
    expect(editor.locator(".tok-heading", has_text="Start")).to_be_visible()
    expect(editor.locator(".tok-strong", has_text="strong")).to_be_visible()
    assert editor.evaluate("e => getComputedStyle(e.querySelector('.cm-content')).fontFamily").find("mono") >= 0

    starter = page.get_by_role("textbox", name="Starter code")
    expect(starter).to_contain_text("def add(a, b):")
    expect(page.locator(".lesson-code-editor-exercise_starter .tok-keyword").first).to_have_text("def")
    starter.press("Control+End")
    starter.press_sequentially("return a + b")
    expect(page.locator("#id_exercise_starter")).to_have_value("def add(a, b):\n    ...\nreturn a + b")
    assert serious_axe_violations(page) == []

    # Everything selected and typed over: the text is replaced, and no style is refused by the policy (the
    # page fixture fails on any console error).
    body.press("Control+a")
    page.keyboard.type("New")
    expect(sent_body(page)).to_have_value("New")


def test_without_javascript_the_lesson_form_is_a_plain_text_box_that_saves(browser, live_server):
    lesson = LessonFactory(course__slug="asyncio", slug="timeouts", body="## Start\n\nWords.\n")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies([staff_cookie(live_server)])
    page = context.new_page()
    page.goto(f"/admin/courses/lesson/{lesson.pk}/change/")
    expect(page.locator(".cm-editor")).to_have_count(0)
    page.get_by_label("Body").fill("## Start\n\nWords typed without scripts.\n")
    page.get_by_role("button", name="Publish changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Published revision")
    lesson.refresh_from_db()
    assert "Words typed without scripts." in lesson.body_html
    context.close()
