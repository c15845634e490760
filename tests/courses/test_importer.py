from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courses.models import Course, Lesson, Tag

pytestmark = pytest.mark.django_db

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


def snapshot() -> list:
    return list(Lesson.objects.order_by("pk").values_list("pk", "title", "slug", "position", "body_html", "xp"))


def test_import_creates_the_course_and_its_lessons(course_dir):
    call_command("import_course", str(course_dir))
    course = Course.objects.get(slug="async-python")
    assert course.title == "Async Python"
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
    assert snapshot() == before
    assert Course.objects.count() == 1
    assert Tag.objects.count() == 2
    assert Lesson.objects.get(slug="first").links.count() == 1

    (course_dir / "01-first.md").write_text(LESSON.format(title="First, revised", slug="first", position=1))
    call_command("import_course", str(course_dir))
    assert Lesson.objects.count() == 2
    assert Lesson.objects.get(slug="first").title == "First, revised"


def test_lessons_can_swap_positions_on_reimport(course_dir):
    call_command("import_course", str(course_dir))
    (course_dir / "01-first.md").write_text(LESSON.format(title="First", slug="first", position=2))
    (course_dir / "02-second.md").write_text(LESSON.format(title="Second", slug="second", position=1))
    call_command("import_course", str(course_dir))
    assert list(Lesson.objects.order_by("position").values_list("slug", flat=True)) == ["second", "first"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("no front matter\n", "must start with a front matter block"),
        ("---\ntitle: [unclosed\n---\nbody\n", "invalid YAML front matter"),
        ("---\nslug: x\n---\nbody\n", "'title' is required"),
        ("---\ntitle: X\nslug: x\nxp: lots\n---\nbody\n", "'xp' must be a whole number"),
        ("---\ntitle: X\nslug: x\nstatus: maybe\n---\nbody\n", "'status' must be one of"),
        ("---\ntitle: X\nslug: x\ncolour: red\n---\nbody\n", "unknown front matter keys: colour"),
        ("---\ntitle: X\nslug: x\nlinks: [nope]\n---\nbody\n", "'links' must be a list"),
        ("---\ntitle: X\nslug: not a slug!\n---\nbody\n", "slug"),
        ("---\ntitle: X\nslug: first\nposition: 3\n---\nbody\n", "slug 'first' is also used by 01-first.md"),
    ],
)
def test_a_malformed_file_names_itself_and_changes_nothing(course_dir, content, problem):
    call_command("import_course", str(course_dir))
    before = snapshot()
    (course_dir / "01-first.md").write_text(LESSON.format(title="First, changed", slug="first", position=1))
    (course_dir / "03-broken.md").write_text(content)
    with pytest.raises(CommandError) as error:
        call_command("import_course", str(course_dir))
    assert "03-broken.md" in str(error.value)
    assert problem in str(error.value)
    assert "Nothing was changed" in str(error.value)
    assert snapshot() == before


def test_a_missing_course_file_is_reported(tmp_path):
    (tmp_path / "01-first.md").write_text(LESSON.format(title="First", slug="first", position=1))
    with pytest.raises(CommandError, match=r"course\.md"):
        call_command("import_course", str(tmp_path))
    assert not Course.objects.exists()


def test_the_demo_course_imports_cleanly():
    call_command("import_course", str(Path(__file__).resolve().parents[2] / "content" / "asyncio"))
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


def test_a_position_taken_by_a_lesson_outside_the_folder_is_reported(course_dir):
    call_command("import_course", str(course_dir))
    (course_dir / "02-second.md").unlink()
    (course_dir / "03-third.md").write_text(LESSON.format(title="Third", slug="third", position=2))
    before = snapshot()
    with pytest.raises(CommandError, match="lesson positions clash"):
        call_command("import_course", str(course_dir))
    assert snapshot() == before
