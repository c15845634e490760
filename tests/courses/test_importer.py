import os
import subprocess
import sys
import tempfile
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import translation
from django.utils.text import slugify

from courses.importer import MAX_FILE_BYTES, MAX_LESSONS, CourseImportError, read_course_folder
from courses.models import Course, Lesson, LessonLink, Status, Tag
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "content" / "asyncio"

COURSE = """---
title: Async Python
slug: async-python
summary: Learn asyncio.
---
A course about **asyncio**.
"""

LESSON = """---
title: {title}
slug: {slug}
position: {position}
tags: [asyncio, basics]
xp: 30
links:
  - title: asyncio docs
    url: https://docs.python.org/3/library/asyncio.html
exercise: |
  Write a `main()` coroutine.
---
## Coroutines

```python title="Hello"
print("hi")
```
"""


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    (tmp_path / "course.md").write_text(COURSE)
    (tmp_path / "01-first.md").write_text(LESSON.format(title="First", slug="first", position=1))
    (tmp_path / "02-second.md").write_text(LESSON.format(title="Second", slug="second", position=2))
    return tmp_path


def lesson_file(body: str = "Some words.\n", **meta: str) -> str:
    """A lesson file with the given front matter lines (values written as YAML)."""
    meta = {"title": "X", "slug": "x", **meta}
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in meta.items()) + "---\n" + body


def snapshot() -> dict[str, list]:
    """Every row the importer writes, to show that a refused import wrote nothing."""
    return {
        "courses": list(
            Course.objects.order_by("pk").values_list(
                "pk", "slug", "title", "summary", "language", "position", "status", "description_html"
            )
        ),
        "lessons": list(
            Lesson.objects.order_by("pk").values_list(
                "pk", "title", "slug", "position", "status", "xp", "summary", "minutes", "exercise_html", "body_html"
            )
        ),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "name", "slug")),
        "lesson_tags": list(Lesson.tags.through.objects.order_by("pk").values_list("lesson_id", "tag_id")),
        "links": list(LessonLink.objects.order_by("pk").values_list("pk", "lesson_id", "position", "title", "url")),
    }


def import_error(directory: Path) -> str:
    with pytest.raises(CommandError) as error:
        call_command("import_course", str(directory))
    return str(error.value)


def test_import_creates_the_course_and_its_lessons(course_dir):
    call_command("import_course", str(course_dir))
    course = Course.objects.get(slug="async-python")
    assert course.title == "Async Python"
    assert course.summary == "Learn asyncio."
    assert "<strong>asyncio</strong>" in course.description_html
    first, second = course.lessons.order_by("position")
    assert (first.title, second.title) == ("First", "Second")
    assert first.xp == 30
    assert first.is_published()
    assert '<span class="code-title">Hello</span>' in first.body_html
    assert "<code>main()</code>" in first.exercise_html
    assert sorted(first.tags.values_list("name", flat=True)) == ["asyncio", "basics"]
    assert [link.url for link in first.links.all()] == ["https://docs.python.org/3/library/asyncio.html"]


def test_importing_again_updates_in_place_without_duplicates(course_dir):
    call_command("import_course", str(course_dir))
    before = snapshot()
    call_command("import_course", str(course_dir))
    after = snapshot()
    # The links are written anew on each import; everything else is the same row.
    assert {key: value for key, value in after.items() if key != "links"} == {
        key: value for key, value in before.items() if key != "links"
    }
    assert [link[1:] for link in after["links"]] == [link[1:] for link in before["links"]]

    (course_dir / "01-first.md").write_text(LESSON.format(title="First, revised", slug="first", position=1))
    call_command("import_course", str(course_dir))
    assert Lesson.objects.count() == 2
    assert Lesson.objects.get(slug="first").title == "First, revised"


def test_importing_again_applies_every_changed_key(course_dir):
    call_command("import_course", str(course_dir))
    first = Lesson.objects.get(slug="first")
    (course_dir / "course.md").write_text(
        "---\ntitle: Async, revised\nslug: async-python\nposition: 7\nstatus: draft\nlanguage: ko\n"
        "summary: New summary.\n---\nA *new* description.\n"
    )
    (course_dir / "01-first.md").write_text(
        lesson_file(
            "## Renamed\n",
            title="First, revised",
            slug="first",
            position=3,
            status="draft",
            xp=50,
            minutes=12,
            summary="New lesson summary.",
            exercise="Try *this*.",
            tags="[basics, '  Events  ']",
            links="[{title: Docs, url: 'https://example.com/a'}, {title: More, url: 'https://example.com/b'}]",
        )
    )
    call_command("import_course", str(course_dir))
    course = Course.objects.get()
    assert (course.title, course.position, course.status, course.language, course.summary) == (
        "Async, revised",
        7,
        Status.DRAFT,
        "ko",
        "New summary.",
    )
    assert "<em>new</em>" in course.description_html
    lesson = Lesson.objects.get(slug="first")
    assert lesson.pk == first.pk
    assert (lesson.title, lesson.position, lesson.status, lesson.xp, lesson.minutes, lesson.summary) == (
        "First, revised",
        3,
        Status.DRAFT,
        50,
        12,
        "New lesson summary.",
    )
    assert lesson.reading_minutes == 12
    assert "<em>this</em>" in lesson.exercise_html
    assert 'id="renamed"' in lesson.body_html
    assert sorted(lesson.tags.values_list("name", "slug")) == [("Events", "events"), ("basics", "basics")]
    assert list(lesson.links.values_list("title", "url")) == [
        ("Docs", "https://example.com/a"),
        ("More", "https://example.com/b"),
    ]


def test_importing_again_removes_tags_and_links_dropped_from_the_front_matter(course_dir):
    """Regression: re-import must make a lesson's tags and links those of its file, not add to them."""
    call_command("import_course", str(course_dir))
    (course_dir / "01-first.md").write_text(
        LESSON.format(title="First", slug="first", position=1)
        .replace("[asyncio, basics]", "[basics]")
        .replace("  - title: asyncio docs\n    url: https://docs.python.org/3/library/asyncio.html\n", "")
        .replace("links:\n", "links: []\n")
    )
    call_command("import_course", str(course_dir))
    first = Lesson.objects.get(slug="first")
    assert list(first.tags.values_list("slug", flat=True)) == ["basics"]
    assert not first.links.exists()
    assert Lesson.objects.get(slug="second").tags.count() == 2


def test_keys_left_out_or_left_empty_take_their_defaults(tmp_path):
    (tmp_path / "course.md").write_text("---\ntitle: C\nslug: c\nsummary:\n---\n")
    (tmp_path / "a.md").write_text("---\ntitle: A\nslug: a\nxp:\nminutes:\ntags:\n---\nWords.\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\nslug: b\nstatus:\n---\nWords.\n")
    call_command("import_course", str(tmp_path))
    course = Course.objects.get()
    assert (course.summary, course.position, course.status, course.language) == ("", 0, Status.PUBLISHED, "en")
    assert [(lesson.slug, lesson.position) for lesson in course.lessons.order_by("position")] == [("a", 1), ("b", 2)]
    a = course.lessons.get(slug="a")
    assert (a.xp, a.minutes, a.status, a.summary, a.exercise) == (10, None, Status.PUBLISHED, "", "")
    assert not a.tags.exists()


def test_lessons_can_swap_positions_on_reimport(course_dir):
    call_command("import_course", str(course_dir))
    (course_dir / "01-first.md").write_text(LESSON.format(title="First", slug="first", position=2))
    (course_dir / "02-second.md").write_text(LESSON.format(title="Second", slug="second", position=1))
    call_command("import_course", str(course_dir))
    assert list(Lesson.objects.order_by("position").values_list("slug", flat=True)) == ["second", "first"]


def test_a_lesson_removed_from_the_folder_is_archived_not_deleted(course_dir):
    call_command("import_course", str(course_dir))
    (course_dir / "02-second.md").unlink()
    out = StringIO()
    call_command("import_course", str(course_dir), stdout=out)
    assert dict(Lesson.objects.values_list("slug", "status")) == {"first": "published", "second": "archived"}
    assert "archived: second (its file is gone" in out.getvalue()
    assert not Lesson.objects.published().filter(slug="second").exists()


LONG = "x" * 201
NUL = "\\0"  # a YAML escape: the file holds no NUL byte, the value does


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("no front matter\n", "must start with a front matter block"),
        ("---\ntitle: X\nslug: x\n", "the front matter block is not closed"),
        ("---\n- a list\n---\nbody\n", "the front matter must be a mapping"),
        ("---\ntitle: [unclosed\n---\nbody\n", "invalid YAML front matter"),
        (b"---\ntitle: X\nslug: x\n---\n\xff\n", "is not UTF-8 text (line 5)"),
        ("---\nslug: x\n---\nbody\n", "'title' is required"),
        ("---\ntitle: '  '\nslug: x\n---\nbody\n", "'title' is required"),
        (lesson_file(xp="lots"), "'xp' must be a whole number"),
        (lesson_file(minutes="1.5"), "'minutes' must be a whole number"),
        (lesson_file(position="-1"), "'position' must be a whole number"),
        (lesson_file(xp="true"), "'xp' must be a whole number"),
        (lesson_file(xp="9999999999"), "xp: Ensure this value is less than or equal to 2147483647"),
        (lesson_file(status="maybe"), "'status' must be one of draft, published"),
        (lesson_file(colour="red"), "unknown front matter keys: colour"),
        (lesson_file(language="ko"), "unknown front matter keys: language"),
        (lesson_file(slug="'not a slug!'"), "slug: Enter a valid “slug”"),
        (lesson_file(slug="s" * 101), "slug: Ensure this value has at most 100 characters"),
        (lesson_file(title=LONG), "title: Ensure this value has at most 200 characters"),
        (lesson_file(slug="first", position=3), "slug 'first' is also used by 01-first.md"),
        (lesson_file(position=2), "position 2 is also used by 02-second.md"),
        # Every text key must be text: YAML would otherwise hand over a list, a mapping, a number, a date…
        (lesson_file(exercise="[a, b]"), "'exercise' must be text, not a list"),
        (lesson_file(summary="{a: 1}"), "'summary' must be text, not a mapping"),
        (lesson_file(title="12"), "'title' must be text, not a number"),
        (lesson_file(title="2024-01-01"), "'title' must be text, not a date"),
        (lesson_file(slug="[x]"), "'slug' must be text, not a list"),
        (lesson_file(status="[draft]"), "'status' must be text, not a list"),
        (lesson_file(summary="yes"), "'summary' must be text, not true/false"),
        # Values PostgreSQL cannot store, in the body and in every text value of the front matter.
        (lesson_file("Some\x00words.\n"), "contains a NUL character on line 5"),
        (lesson_file(title=f'"A{NUL}B"'), "'title' contains a NUL character"),
        (lesson_file(summary=f'"A{NUL}B"'), "'summary' contains a NUL character"),
        (lesson_file(exercise=f'"A{NUL}B"'), "'exercise' contains a NUL character"),
        (lesson_file(tags=f'["a{NUL}b"]'), "'tags' contains a NUL character"),
        (lesson_file(links=f'[{{title: "a{NUL}", url: "https://a.example"}}]'), "link 1: 'title' contains a NUL"),
        (lesson_file(links=f'[{{title: a, url: "https://a.example/{NUL}"}}]'), "link 1: 'url' contains a NUL"),
        (lesson_file(title='"\\ud800"'), "'title' contains a character that is not valid Unicode"),
        # Tags: text, with letters or digits, and within Tag.name and Tag.slug (60 characters).
        (lesson_file(tags="asyncio"), "'tags' must be a list of names, not text"),
        (lesson_file(tags="[1]"), "'tags' must be a list of names, and entry 1 is a number"),
        (lesson_file(tags="['!!']"), "tag '!!' has no letters or digits"),
        (lesson_file(tags=f"[{'t' * 61}]"), "name: Ensure this value has at most 60 characters (it has 61)"),
        (lesson_file(tags="[ﷺﷺﷺﷺ]"), "slug: Ensure this value has at most 60 characters (it has 72)"),
        # Links: a list of {title, url}, both text, the URL an http(s) address within URLField's limits.
        (lesson_file(links="[nope]"), "'links' must be a list of entries with a 'title' and a 'url'"),
        (lesson_file(links="[{title: a, url: 'https://a.example', x: 1}]"), "'links' must be a list of entries"),
        (lesson_file(links="[{title: [a], url: 'https://a.example'}]"), "link 1: 'title' must be text, not a list"),
        (lesson_file(links="[{title: a, url: 42}]"), "link 1: 'url' must be text, not a number"),
        (lesson_file(links="[{title: a, url: 'javascript:alert(1)'}]"), "must start with http:// or https://"),
        (lesson_file(links="[{title: a, url: 'ftp://files.example/a'}]"), "must start with http:// or https://"),
        (lesson_file(links="[{title: a, url: 'https://'}]"), "link 1: url: Enter a valid URL"),
        (lesson_file(links=f"[{{title: {LONG}, url: 'https://a.example'}}]"), "link 1: title: Ensure this value"),
        (
            lesson_file(links=f"[{{title: a, url: 'https://a.example/{'u' * 500}'}}]"),
            "link 1: url: Ensure this value has at most 500 characters",
        ),
        # YAML that PyYAML turns into Python errors instead of YAMLError.
        (lesson_file(minutes="2024-13-45"), "invalid YAML front matter"),
        (lesson_file(xp="1" * 5000), "invalid YAML front matter"),
        (lesson_file(summary="[" * 5000 + "]" * 5000), "invalid YAML front matter: it is nested too deeply"),
    ],
)
def test_a_malformed_lesson_names_itself_and_changes_nothing(course_dir, content, problem):
    call_command("import_course", str(course_dir))
    before = snapshot()
    (course_dir / "01-first.md").write_text(LESSON.format(title="First, changed", slug="first", position=1))
    broken = course_dir / "03-broken.md"
    broken.write_bytes(content if isinstance(content, bytes) else content.encode())
    message = import_error(course_dir)
    assert message.startswith(f"{broken}: ")
    assert problem in message
    assert message.endswith(" Nothing was changed.")
    assert ".. Nothing" not in message
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("---\ntitle: C\nslug: c\nlanguage: xx\n---\n", "'language' must be a language code Django knows"),
        ("---\ntitle: C\nslug: c\nlanguage: [ko]\n---\n", "'language' must be text, not a list"),
        ("---\ntitle: C\nslug: c\nxp: 3\n---\n", "unknown front matter keys: xp"),
        ("---\ntitle: C\nslug: c\nposition: 9999999999\n---\n", "position: Ensure this value is less than"),
        (f"---\ntitle: C\nslug: c\nsummary: '{'s' * 10}'\n---\nDescription\x00\n", "contains a NUL character"),
        (f'---\ntitle: C\nslug: c\nsummary: "{NUL}"\n---\n', "'summary' contains a NUL character"),
        (f"---\ntitle: {LONG}\nslug: c\n---\n", "title: Ensure this value has at most 200 characters"),
    ],
)
def test_a_malformed_course_file_names_itself_and_changes_nothing(course_dir, content, problem):
    call_command("import_course", str(course_dir))
    before = snapshot()
    (course_dir / "course.md").write_text(content)
    message = import_error(course_dir)
    assert message.startswith(f"{course_dir / 'course.md'}: ")
    assert problem in message
    assert snapshot() == before


def test_a_missing_course_file_is_reported(tmp_path):
    (tmp_path / "01-first.md").write_text(LESSON.format(title="First", slug="first", position=1))
    assert "course.md: is missing" in import_error(tmp_path)
    assert not Course.objects.exists()


def test_the_course_language_is_imported_and_the_demo_course_is_korean(course_dir):
    (course_dir / "course.md").write_text(COURSE.replace("slug:", "language: ko\nslug:"))
    call_command("import_course", str(course_dir))
    assert Course.objects.get().language == "ko"
    call_command("import_course", str(DEMO))
    assert Course.objects.get(slug="asyncio").language == "ko"


def test_the_demo_course_imports_cleanly():
    call_command("import_course", str(DEMO))
    course = Course.objects.get()
    lessons = list(course.lessons.order_by("position"))
    assert len(lessons) == 5
    for lesson in lessons:
        assert lesson.is_published()
        assert lesson.body_html.count('class="code-title"') >= 3
        assert lesson.links.exists()
        assert lesson.exercise_html


def test_tags_that_differ_only_in_case_are_one_tag(course_dir):
    (course_dir / "02-second.md").write_text(
        LESSON.format(title="Second", slug="second", position=2).replace("[asyncio, basics]", "[AsyncIO]")
    )
    call_command("import_course", str(course_dir))
    assert Tag.objects.filter(slug="asyncio").count() == 1
    assert Lesson.objects.get(slug="second").tags.get().slug == "asyncio"


def test_an_existing_tag_is_found_by_its_slug_and_keeps_its_name(course_dir):
    """Regression: tags must be matched by slug (the URL), not by the name written in the file."""
    TagFactory(name="AsyncIO", slug="asyncio")
    call_command("import_course", str(course_dir))
    assert list(Tag.objects.order_by("slug").values_list("name", "slug")) == [
        ("AsyncIO", "asyncio"),
        ("basics", "basics"),
    ]
    assert sorted(Lesson.objects.get(slug="first").tags.values_list("name", flat=True)) == ["AsyncIO", "basics"]


def test_a_tag_named_like_an_existing_tag_with_another_slug_is_that_tag(course_dir):
    """An admin may give a tag a slug of their own; a file naming that tag must not clash with its name."""
    tag = TagFactory(name="asyncio", slug="python-asyncio")
    call_command("import_course", str(course_dir))
    assert Tag.objects.filter(name="asyncio").get() == tag
    assert tag in Lesson.objects.get(slug="first").tags.all()


@pytest.mark.parametrize(("existing", "written"), [("C++", "C#"), ("C", "C++"), ("F#", "F*")])
def test_tags_whose_names_differ_by_more_than_case_are_never_one_tag(course_dir, existing, written):
    """Review finding: a lesson tagged "C#" was shown as tagged "C++" and listed on the C++ tag page.

    slugify drops "#", "+" and "*", so C, C++, C# and F#, F* have one slug each, and a tag is found
    by its slug. Refusing the import (naming the tag) or keeping the tags apart would both do.
    """
    TagFactory(name=existing, slug=slugify(existing))
    (course_dir / "02-second.md").write_text(
        LESSON.format(title="Second", slug="second", position=2).replace("[asyncio, basics]", f'["{written}"]')
    )
    try:
        call_command("import_course", str(course_dir))
    except CommandError as error:
        assert written in str(error)
        return
    assert list(Lesson.objects.get(slug="second").tags.values_list("name", flat=True)) == [written]


def test_a_new_file_takes_the_position_of_a_removed_one_whose_lesson_moves_after_the_others(course_dir):
    """Regression: the import was refused ("lesson positions clash with lessons that are not in the folder")."""
    call_command("import_course", str(course_dir))
    (course_dir / "02-second.md").unlink()
    third = LESSON.format(title="Third", slug="third", position=2).replace("## Coroutines", "## Tasks")
    (course_dir / "03-third.md").write_text(third)
    call_command("import_course", str(course_dir))
    assert list(Lesson.objects.order_by("position").values_list("slug", "position", "status")) == [
        ("first", 1, "published"),
        ("third", 2, "published"),
        ("second", 3, "archived"),
    ]


# The files of a course folder: which are read, which are refused, and why.


def test_a_byte_order_mark_at_the_start_of_a_file_is_accepted(course_dir):
    (course_dir / "course.md").write_text("\ufeff" + COURSE)
    (course_dir / "01-first.md").write_text("\ufeff" + LESSON.format(title="First", slug="first", position=1))
    call_command("import_course", str(course_dir))
    assert Course.objects.get().title == "Async Python"
    assert Lesson.objects.get(slug="first").title == "First"


def test_dotfiles_and_editor_files_are_ignored(course_dir):
    (course_dir / ".hidden.md").write_text(lesson_file(slug="hidden", position=9))
    (course_dir / ".01-first.md.swp").write_bytes(b"\x00binary")
    (course_dir / ".#01-first.md").symlink_to("someone@host.1234")  # Emacs' lock file: a dangling symlink
    (course_dir / "01-first.md~").write_text("a backup")
    call_command("import_course", str(course_dir))
    assert sorted(Lesson.objects.values_list("slug", flat=True)) == ["first", "second"]


def test_a_folder_named_like_a_lesson_is_refused(course_dir):
    (course_dir / "03-extra.md").mkdir()
    message = import_error(course_dir)
    assert message.startswith(f"{course_dir / '03-extra.md'}: is a folder")
    assert not Course.objects.exists()


def test_a_course_md_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "course.md").mkdir()
    assert f"{tmp_path / 'course.md'}: is a folder" in import_error(tmp_path)


def test_a_dangling_symlink_is_refused(course_dir):
    (course_dir / "03-gone.md").symlink_to("drafts/03-gone.md")
    message = import_error(course_dir)
    assert "03-gone.md: is a symbolic link to drafts/03-gone.md, which leads to no file" in message
    assert not Course.objects.exists()


def test_a_symlink_to_a_file_outside_the_course_folder_is_refused(course_dir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.md"
    outside.write_text(lesson_file(slug="secret", position=3))
    (course_dir / "03-secret.md").symlink_to(outside)
    message = import_error(course_dir)
    assert f"03-secret.md: is a symbolic link to {outside}, outside the course folder" in message
    assert not Lesson.objects.filter(slug="secret").exists()


def test_a_symlink_to_a_file_inside_the_course_folder_is_read(course_dir):
    (course_dir / "shared").mkdir()
    (course_dir / "shared" / "appendix.md").write_text(lesson_file(slug="appendix", position=3))
    (course_dir / "03-appendix.md").symlink_to(Path("shared") / "appendix.md")
    call_command("import_course", str(course_dir))
    assert Lesson.objects.filter(slug="appendix").exists()


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(course_dir):
    os.mkfifo(course_dir / "03-pipe.md")
    assert f"{course_dir / '03-pipe.md'}: is not a regular file" in import_error(course_dir)


def test_an_unreadable_file_is_reported():
    """Root reads every file, so as root (CI) the folder is read as the user 'nobody'."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        directory.chmod(0o755)
        (directory / "course.md").write_text(COURSE)
        lesson = directory / "01-first.md"
        lesson.write_text(LESSON.format(title="First", slug="first", position=1))
        # Read it once as ourselves: Python imports what reading needs (a codec), which
        # 'nobody' could not do where Python lives in a private folder such as /root.
        read_course_folder(directory)
        lesson.chmod(0)
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            with pytest.raises(CourseImportError) as error:
                read_course_folder(directory)
        finally:
            if as_root:
                os.seteuid(0)
    assert (error.value.path, error.value.problem) == (lesson, "cannot be read (Permission denied)")


def test_a_file_over_the_size_limit_is_refused_and_one_at_the_limit_is_read(course_dir):
    lesson = course_dir / "03-big.md"
    head = lesson_file("", slug="big", position=3)
    lesson.write_text(head + "word " * ((MAX_FILE_BYTES - len(head)) // 5) + "w" * ((MAX_FILE_BYTES - len(head)) % 5))
    assert lesson.stat().st_size == MAX_FILE_BYTES
    call_command("import_course", str(course_dir))
    assert Lesson.objects.filter(slug="big").exists()

    with lesson.open("a") as file:
        file.write("!")
    assert import_error(course_dir).startswith(
        f"{lesson}: is 524,289 bytes; a course file may be at most 524,288 bytes (512 KB)"
    )


def test_a_lesson_of_repeated_headings_at_the_size_limit_imports_in_seconds(course_dir):
    """Regression: making repeated heading ids unique was quadratic; 512 KB of "## Setup" took 192 s."""
    section = "## Setup\n\ntext\n\n"
    head = lesson_file("", slug="setups", position=3)
    count = (MAX_FILE_BYTES - len(head)) // len(section)
    (course_dir / "03-setups.md").write_text(head + section * count)
    started = time.perf_counter()
    call_command("import_course", str(course_dir))
    assert time.perf_counter() - started < 30
    assert Lesson.objects.get(slug="setups").toc[-1]["id"] == f"setup-{count - 1}"


def test_a_folder_may_hold_at_most_max_lessons(tmp_path):
    (tmp_path / "course.md").write_text(COURSE)
    for number in range(1, MAX_LESSONS + 1):
        (tmp_path / f"{number:03}.md").write_text(lesson_file(slug=f"l{number}"))
    assert len(read_course_folder(tmp_path).lessons) == MAX_LESSONS
    (tmp_path / "999.md").write_text(lesson_file(slug="one-too-many"))
    assert f"{tmp_path}: holds 201 lesson files; a course may have at most 200" in import_error(tmp_path)


# How the command reports problems.


def test_a_problem_is_one_line_on_stderr_with_a_failing_exit_status(course_dir):
    """Regression: a NUL byte in a lesson printed a DataError traceback."""
    (course_dir / "03-nul.md").write_text(lesson_file("a\x00b\n"))
    process = subprocess.run(
        [sys.executable, "manage.py", "import_course", str(course_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert process.stderr == (
        f"CommandError: {course_dir / '03-nul.md'}: contains a NUL character on line 5. Nothing was changed.\n"
    )


def test_messages_are_in_english_whatever_language_is_active(course_dir):
    """The command is for authors and speaks English; Django's validation messages must not follow the locale."""
    (course_dir / "03-long.md").write_text(lesson_file(title=LONG))
    with translation.override("ko"):
        assert "Ensure this value has at most 200 characters" in import_error(course_dir)


# Concurrent imports, on real connections.


def run_in_threads(*calls) -> list[str]:
    """Runs each import_course call in its own thread (and database connection), all at once."""
    barrier = threading.Barrier(len(calls))
    outputs: list[str] = [""] * len(calls)

    def run(index: int, directory: Path) -> None:
        out = StringIO()
        try:
            barrier.wait()
            call_command("import_course", str(directory), stdout=out)
        except Exception as error:  # reported by the assertion in the test
            out.write(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()
        outputs[index] = out.getvalue()

    threads = [threading.Thread(target=run, args=(index, directory)) for index, directory in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outputs


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_imports_of_a_course_both_succeed():
    """Regression: the second of two concurrent first imports died with a 100-line IntegrityError."""
    outputs = run_in_threads(DEMO, DEMO)
    assert sorted(output.splitlines()[0] for output in outputs) == [
        "Imported “파이썬 asyncio 입문”: lessons created: 0, changed: 0, renamed: 0, archived: 0, restored: 0, "
        "unchanged: 5.",
        "Imported “파이썬 asyncio 입문”: lessons created: 5, changed: 0, renamed: 0, archived: 0, restored: 0, "
        "unchanged: 0.",
    ]
    assert Course.objects.count() == 1
    assert Lesson.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_simultaneous_imports_of_courses_that_share_new_tags_both_succeed(tmp_path):
    """Regression: two courses naming the same new tags in opposite orders deadlocked creating them."""
    tags = [f"tag{number:02}" for number in range(40)]
    folders = []
    for name, order in (("one", tags), ("two", tags[::-1])):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "course.md").write_text(f"---\ntitle: {name}\nslug: {name}\n---\n")
        (folder / "1.md").write_text(lesson_file(slug="a", tags=f"[{', '.join(order[:20])}]"))
        (folder / "2.md").write_text(lesson_file(slug="b", tags=f"[{', '.join(order[20:])}]"))
        folders.append(folder)
    outputs = run_in_threads(*folders)
    assert [output.splitlines()[0] for output in outputs] == [
        "Imported “one”: lessons created: 2, changed: 0, renamed: 0, archived: 0, restored: 0, unchanged: 0.",
        "Imported “two”: lessons created: 2, changed: 0, renamed: 0, archived: 0, restored: 0, unchanged: 0.",
    ]
    assert sorted(Tag.objects.values_list("slug", flat=True)) == tags


def test_tags_that_would_share_one_page_are_refused_by_name(course_dir):
    (course_dir / "02-second.md").write_text(
        LESSON.format(title="Second", slug="second", position=2).replace("[asyncio, basics]", '["C#", "C sharp"]')
    )
    with pytest.raises(CommandError, match=r"the tags 'C#' and 'C sharp' would share one page, /tags/c-sharp/"):
        call_command("import_course", str(course_dir))
    assert not Tag.objects.exists()


def test_tag_pages_keep_symbols_apart_in_their_addresses(course_dir, client):
    (course_dir / "02-second.md").write_text(
        LESSON.format(title="Second", slug="second", position=2).replace("[asyncio, basics]", '["C++", "C#", "C"]')
    )
    call_command("import_course", str(course_dir))
    assert sorted(Tag.objects.filter(name__startswith="C").values_list("slug", flat=True)) == [
        "c",
        "c-plus-plus",
        "c-sharp",
    ]
    assert "Second" in client.get("/tags/c-plus-plus/").text
