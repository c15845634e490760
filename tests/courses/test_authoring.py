"""The Markdown an author expects (callouts, aligned columns, figures, keys, footnotes), and the problems in it
that the admin and the importer report by line before learners see them."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from courses.lint import lint
from courses.markdown import render_markdown
from courses.models import Lesson, Status
from courses.revisions import save_revision
from tests.factories import CourseFactory, LessonFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "source",
    ["> [!TIP]\n> Await it.\n", "!!! tip\n    Await it.\n", "::: tip\nAwait it.\n:::\n", "> [!tip]\n> Await it.\n"],
)
def test_every_spelling_of_a_callout_renders_one_callout(source):
    html = render_markdown(source).html
    assert html.startswith('<div class="callout callout-tip" role="note">\n<p class="callout-title">Tip</p>')
    assert "<p>Await it.</p>" in html and "blockquote" not in html and ":::" not in html


def test_callout_titles_are_in_the_lessons_language_and_an_author_may_name_one():
    with translation.override("ko"):
        assert '<p class="callout-title">경고</p>' in render_markdown("> [!WARNING]\n> 조심하세요.\n").html
    assert '<p class="callout-title">Mind the loop</p>' in render_markdown('!!! danger "Mind the loop"\n    x\n').html
    assert "callout-danger" in render_markdown("> [!CAUTION]\n> x\n").html


def test_table_columns_are_aligned_by_class_not_by_style():
    html = render_markdown("| a | b | c |\n|:-:|--:|---|\n| 1 | 2 | 3 |\n").html
    assert "style=" not in html
    assert '<th class="align-center">a</th>' in html and '<td class="align-right">2</td>' in html
    assert "<td>3</td>" in html


def test_an_image_with_a_title_alone_in_its_paragraph_is_a_figure_with_a_caption():
    html = render_markdown('![The event loop](/media/loop.png "One loop, many tasks")\n').html
    assert html.strip() == (
        '<figure class="lesson-figure"><img src="/media/loop.png" alt="The event loop" />'
        "<figcaption>One loop, many tasks</figcaption></figure>"
    )
    assert "<figure" not in render_markdown('Text and ![x](/media/x.png "t")\n').html


def test_keys_are_marked_and_c_plus_plus_is_left_alone():
    html = render_markdown("Press ++Ctrl+C++ to stop; C++ and C++/C++ stay text.\n").html
    assert '<kbd class="keys"><kbd>Ctrl</kbd>+<kbd>C</kbd></kbd>' in html
    assert "C++ and C++/C++ stay text." in html


def test_footnotes_link_both_ways_with_a_named_way_back():
    html = render_markdown("Tasks run at once.[^1]\n\n[^1]: On one thread.\n").html
    assert '<a href="#fn1" id="fnref1">[1]</a>' in html
    assert 'class="footnote-backref" aria-label="Back to the text"' in html


def problems(text: str, **kwargs) -> list[tuple[int, bool, str]]:
    return [(problem.line, problem.error, problem.message) for problem in lint(text, **kwargs)]


def test_an_unclosed_code_fence_is_an_error_on_its_line():
    found = problems("## Start\n\nText.\n\n```python\nprint(1)\n\n## Next\n")
    assert found == [(5, True, found[0][2])]
    assert "never closed with ```" in found[0][2]
    assert problems("```python\nprint(1)\n```\n") == []
    assert problems("> ```\n> code\n> ```\n") == []


def test_images_must_be_served_by_the_site_and_described():
    found = problems("Text.\n\n![](https://example.com/cat.png)\n")
    assert [(line, error) for line, error, _ in found] == [(3, True), (3, True)]
    assert "not on this site" in found[0][2] and "no alt text" in found[1][2]
    assert problems("![A cat](/media/lessons/cat.png)\n") == []


def test_unknown_callouts_are_errors_in_every_spelling():
    for source in ("> [!HINT]\n> x\n", "!!! hint\n    x\n", "::: hint\nx\n:::\n"):
        [(line, error, message)] = problems(source)
        assert (line, error) == (1, True) and "“hint”" in message.lower() and "note, tip" in message


def test_skipped_heading_levels_and_a_second_title_are_warnings():
    found = problems("# Title again\n\n## Part\n\n#### Too deep\n")
    assert [(line, error) for line, error, _ in found] == [(1, False), (5, False)]
    assert "jumps from level 2 to level 4" in found[1][2]


def test_a_link_to_no_lesson_is_a_warning():
    LessonFactory(course__slug="asyncio", slug="tasks")
    from courses.models import lesson_address_exists

    text = "See [tasks](/courses/asyncio/tasks/) and [gone](/courses/asyncio/gone/).\n"
    assert problems(text, lesson_exists=lesson_address_exists) == [
        (1, False, "The link to /courses/asyncio/gone/ leads to no lesson.")
    ]


def test_the_demo_course_has_no_problems():
    for path in (Path(__file__).resolve().parents[2] / "content" / "asyncio").glob("0*.md"):
        body = path.read_text().split("\n---\n", 1)[1]
        assert [problem for problem in lint(body) if problem.error] == [], path.name


# The admin: as strict as the importer.


def lesson_post(course, **overrides) -> dict:
    data = {
        "course": course.pk,
        "title": "Timeouts",
        "slug": "timeouts",
        "position": 1,
        "status": Status.PUBLISHED,
        "summary": "",
        "body": "## Why\n\nText.\n",
        "exercise": "",
        "xp": 10,
        "exercise_xp": 10,
        "links-TOTAL_FORMS": 0,
        "links-INITIAL_FORMS": 0,
        "links-MIN_NUM_FORMS": 0,
        "links-MAX_NUM_FORMS": 1000,
    }
    return data | overrides


def test_the_admin_refuses_a_lesson_with_an_unclosed_fence_by_line_and_keeps_the_text(staff_client):
    course = CourseFactory()
    body = "## Why\n\n```python\nprint('never closed')\n"
    response = staff_client.post("/admin/courses/lesson/add/", lesson_post(course, body=body))
    assert response.status_code == 200
    assert "Line 3: This code block is never closed with ```" in response.text
    assert "print(&#x27;never closed&#x27;)" in response.text
    assert not Lesson.objects.exists()


def test_the_admin_refuses_a_published_lesson_without_a_body(staff_client):
    response = staff_client.post("/admin/courses/lesson/add/", lesson_post(CourseFactory(), body="  "))
    assert "This field is required." in response.text or "A published lesson needs a body." in response.text
    assert not Lesson.objects.exists()


def test_the_admin_refuses_a_body_over_the_importers_limit_with_a_message(staff_client):
    body = "## Long\n\n" + "word " * 120_000  # 600 KB
    response = staff_client.post("/admin/courses/lesson/add/", lesson_post(CourseFactory(), body=body))
    assert response.status_code == 200
    assert "A lesson&#x27;s body may be at most 512 KB; this one is 585 KB." in response.text
    assert not Lesson.objects.exists()


def test_the_admin_shows_warnings_and_saves(staff_client):
    course = CourseFactory(slug="asyncio")
    body = "## Why\n\n#### Deep\n\nSee [gone](/courses/asyncio/gone/).\n"
    response = staff_client.post("/admin/courses/lesson/add/", lesson_post(course, body=body), follow=True)
    assert "Body · Line 3: This heading jumps from level 2 to level 4" in response.text
    assert "Body · Line 5: The link to /courses/asyncio/gone/ leads to no lesson." in response.text
    assert Lesson.objects.get().revision is not None


def test_the_course_page_adds_no_lessons_that_would_skip_the_lesson_form(staff_client):
    """Regression: a lesson added in the course's inline rows, published with an empty body, paid XP."""
    course = CourseFactory()
    data = {
        "title": course.title,
        "slug": course.slug,
        "summary": "",
        "language": course.language,
        "description": "",
        "position": 0,
        "status": course.status,
        "lessons-TOTAL_FORMS": 1,
        "lessons-INITIAL_FORMS": 0,
        "lessons-MIN_NUM_FORMS": 0,
        "lessons-MAX_NUM_FORMS": 1000,
        "lessons-0-position": 1,
        "lessons-0-slug": "sneaked-in",
        "lessons-0-course": course.pk,
    }
    staff_client.post(f"/admin/courses/course/{course.pk}/change/", data)
    assert not Lesson.objects.exists()


def test_the_staff_course_page_says_scheduled_and_archived_not_draft(staff_client):
    from datetime import timedelta

    from django.utils import timezone

    course = CourseFactory(slug="asyncio")
    LessonFactory(course=course, title="Later", published_at=timezone.now() + timedelta(days=2))
    LessonFactory(course=course, title="Gone", status=Status.ARCHIVED)
    page = staff_client.get("/courses/asyncio/").text
    assert "Scheduled for" in page and "Archived" in page and ">Draft<" not in page


# The importer: the same checks, with the file's own line numbers.

COURSE = "---\ntitle: Async\nslug: async\n---\n"


def write_course(tmp_path: Path, lesson: str) -> Path:
    (tmp_path / "course.md").write_text(COURSE)
    (tmp_path / "01-one.md").write_text(lesson)
    return tmp_path


def test_the_importer_refuses_an_unclosed_fence_naming_the_files_line(tmp_path):
    folder = write_course(tmp_path, "---\ntitle: One\nslug: one\n---\n\n## Start\n\n```python\nprint(1)\n")
    with pytest.raises(CommandError, match=r"01-one.md: line 8: This code block is never closed with ```"):
        call_command("import_course", str(folder))
    assert not Lesson.objects.exists()


def test_the_importer_prints_warnings_and_imports(tmp_path):
    folder = write_course(
        tmp_path, "---\ntitle: One\nslug: one\n---\n## Start\n\n#### Deep\n\n[two](/courses/async/two/)\n"
    )
    (folder / "02-two.md").write_text("---\ntitle: Two\nslug: two\n---\nText.\n")
    out = StringIO()
    call_command("import_course", str(folder), stdout=out)
    assert "warning: 01-one.md: line 7: This heading jumps from level 2 to level 4" in out.getvalue()
    assert "leads to no lesson" not in out.getvalue()  # /courses/async/two/ is in the same folder
    assert Lesson.objects.count() == 2


def test_a_lesson_in_the_admin_and_in_a_file_meets_the_same_rules(tmp_path, staff_client):
    body = "## Start\n\n![](https://example.com/cat.png)\n"
    folder = write_course(tmp_path, f"---\ntitle: One\nslug: one\n---\n{body}")
    with pytest.raises(CommandError, match="not on this site"):
        call_command("import_course", str(folder))
    response = staff_client.post("/admin/courses/lesson/add/", lesson_post(CourseFactory(), body=body))
    assert "not on this site" in response.text


def test_a_published_lessons_revision_is_checked_before_it_goes_live(staff_client):
    lesson = LessonFactory()
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    lesson.refresh_from_db()
    data = lesson_post(lesson.course, title=lesson.title, slug=lesson.slug, position=lesson.position)
    data |= {"body": "```\nunclosed\n", "base_revision": 1, "_publish": "1"}
    response = staff_client.post(f"/admin/courses/lesson/{lesson.pk}/change/", data)
    assert response.status_code == 200 and "never closed" in response.text
    assert lesson.revisions.count() == 1


def test_the_writing_guide_in_the_admin_shows_each_feature_rendered(staff_client):
    form = staff_client.get("/admin/courses/lesson/add/").text
    assert 'href="/admin/courses/lesson/writing-lessons/">Writing lessons</a>' in form
    guide = staff_client.get("/admin/courses/lesson/writing-lessons/").text
    assert '<div class="callout callout-tip" role="note">' in guide
    assert '<p class="callout-title">Blocking calls</p>' in guide
    assert '<th class="align-center">Waits for</th>' in guide
    assert "<figcaption>One loop, many tasks</figcaption>" in guide
    assert '<kbd class="keys"><kbd>Ctrl</kbd>+<kbd>C</kbd></kbd>' in guide
    assert 'class="footnote-backref"' in guide


def test_a_korean_staff_member_reads_the_guide_in_korean(staff_client, settings):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    guide = staff_client.get("/admin/courses/lesson/writing-lessons/").text
    assert '<article class="lesson-preview-body prose" lang="ko">' in guide
    assert "<h1>레슨 작성 안내</h1>" in guide
    assert '<p class="callout-title">팁</p>' in guide  # the callouts' titles in the guide's language
    # The words an author types stay as they are.
    assert "<code>--dry-run</code>" in guide


@pytest.mark.parametrize("name", ["writing-lessons.md", "writing-lessons.ko.md"])
def test_the_guides_examples_have_no_errors(name):
    guide = Path(__file__).resolve().parents[2] / "docs" / "authors" / name
    assert [problem for problem in lint(guide.read_text()) if problem.error] == []


def test_the_live_preview_renders_as_a_save_would_and_stores_nothing(staff_client):
    course = CourseFactory(language="ko")
    response = staff_client.post(
        "/admin/courses/lesson/render/",
        {"course": course.pk, "body": "> [!WARNING]\n> 조심.\n\n```\nunclosed\n", "exercise_starter": "x = 1\n"},
    )
    result = response.json()
    assert '<p class="callout-title">경고</p>' in result["html"]  # in the course's language
    assert '<span class="code-title">시작 코드</span>' in result["exercise_html"]
    assert [problem["error"] for problem in result["problems"]] == [True]
    assert "Line 4" in result["problems"][0]["text"]
    assert not Lesson.objects.exists()


def test_the_live_preview_is_for_staff_who_may_write_lessons(client, learner):
    client.force_login(learner)
    assert client.post("/admin/courses/lesson/render/", {"body": "x"}).status_code == 302
    viewer = StaffFactory(is_superuser=False)
    client.force_login(viewer)
    assert client.post("/admin/courses/lesson/render/", {"body": "x"}).status_code == 403
    assert client.get("/admin/courses/lesson/render/").status_code in {403, 405}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[click](javascript:alert(1))\n", "A javascript: address is not allowed"),
        ("![x](javascript:alert(1))\n", "A javascript: address is not allowed"),
        ("[page](data:text/html,<b>x</b>)\n", "A data: address is not allowed"),
        ("![w](/media/../../etc/passwd)\n", "is not on this site"),
    ],
)
def test_addresses_markdown_would_leave_as_text_or_that_leave_the_site_are_errors(source, message):
    """Review finding: these were shown as raw text (or a broken image) with no problem reported."""
    [(line, error, found)] = problems(source)
    assert (line, error) == (1, True) and message in found
