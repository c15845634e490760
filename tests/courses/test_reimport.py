"""Re-importing a live course keeps its learners: renames redirect, removals archive, a dry run changes nothing."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from courses.models import Course, Lesson, LessonRedirect, Status
from progress import services as progress
from progress.models import Completion
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db

COURSE = "---\ntitle: Async Python\nslug: async-python\n---\nA course.\n"


def lesson_text(slug: str, position: int, body: str, *, source_id: str = "") -> str:
    identity = f"id: {source_id}\n" if source_id else ""
    return f"---\n{identity}title: {slug.title()}\nslug: {slug}\nposition: {position}\n---\n{body}\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    course = tmp_path / "async-python"
    course.mkdir()
    (course / "course.md").write_text(COURSE)
    (course / "01-basics.md").write_text(lesson_text("basics", 1, "## Basics\n\nCoroutines."))
    (course / "02-tasks.md").write_text(lesson_text("tasks", 2, "## Tasks\n\nRun them together."))
    return course


def run_import(folder: Path, *options: str) -> str:
    out = StringIO()
    call_command("import_course", str(folder), *options, stdout=out)
    return out.getvalue()


def test_a_renamed_file_and_slug_with_the_same_text_is_the_same_lesson_and_redirects(folder):
    run_import(folder)
    lesson = Lesson.objects.get(slug="tasks")
    learner = UserFactory()
    progress.complete_lesson(learner=learner, lesson=lesson)

    (folder / "02-tasks.md").unlink()
    (folder / "02-running-tasks.md").write_text(lesson_text("running-tasks", 2, "## Tasks\n\nRun them together."))
    out = run_import(folder)

    assert "renamed: tasks → running-tasks (the old address redirects)" in out
    renamed = Lesson.objects.get(slug="running-tasks")
    assert renamed.pk == lesson.pk and renamed.status == Status.PUBLISHED
    assert Completion.objects.filter(learner=learner, lesson=renamed).exists()
    assert Lesson.objects.filter(course__slug="async-python").count() == 2
    response = Client().get("/courses/async-python/tasks/")
    assert (response.status_code, response["Location"]) == (301, "/courses/async-python/running-tasks/")


def test_an_id_in_the_front_matter_keeps_a_lesson_whose_text_and_slug_both_change(folder):
    (folder / "02-tasks.md").write_text(lesson_text("tasks", 2, "## Tasks\n\nRun them.", source_id="tasks-lesson"))
    run_import(folder)
    lesson = Lesson.objects.get(slug="tasks")

    (folder / "02-tasks.md").write_text(
        lesson_text("gather", 2, "## Gather\n\nAll new words.", source_id="tasks-lesson")
    )
    run_import(folder)
    lesson.refresh_from_db()
    assert (lesson.slug, lesson.source_id, lesson.revision.number) == ("gather", "tasks-lesson", 2)
    assert "All new words." in lesson.body_html
    assert Client().get("/courses/async-python/tasks/")["Location"] == "/courses/async-python/gather/"


def test_two_lessons_can_swap_their_slugs_in_one_import(folder):
    (folder / "01-basics.md").write_text(lesson_text("basics", 1, "One.", source_id="one"))
    (folder / "02-tasks.md").write_text(lesson_text("tasks", 2, "Two.", source_id="two"))
    run_import(folder)
    (folder / "01-basics.md").write_text(lesson_text("tasks", 1, "One.", source_id="one"))
    (folder / "02-tasks.md").write_text(lesson_text("basics", 2, "Two.", source_id="two"))
    run_import(folder)
    assert dict(Lesson.objects.values_list("source_id", "slug")) == {"one": "tasks", "two": "basics"}


def test_a_removed_file_archives_its_lesson_and_keeps_its_learners_records(folder):
    run_import(folder)
    lesson = Lesson.objects.get(slug="tasks")
    learner = UserFactory()
    progress.complete_lesson(learner=learner, lesson=lesson)
    (folder / "02-tasks.md").unlink()
    run_import(folder)

    lesson.refresh_from_db()
    assert lesson.status == Status.ARCHIVED
    assert Completion.objects.filter(learner=learner, lesson=lesson).exists()
    assert Client().get("/courses/async-python/tasks/").status_code == 404
    course_page = Client().get("/courses/async-python/").text
    assert "Tasks" not in course_page


def test_an_archived_lesson_is_shown_to_staff_as_archived(folder, staff_client):
    run_import(folder)
    (folder / "02-tasks.md").unlink()
    run_import(folder)
    assert "archived — visible to staff only" in staff_client.get("/courses/async-python/tasks/").text


def test_a_file_brought_back_takes_its_archived_lesson_back(folder):
    run_import(folder)
    text = (folder / "02-tasks.md").read_text()
    (folder / "02-tasks.md").unlink()
    run_import(folder)
    (folder / "02-tasks.md").write_text(text)
    dry = run_import(folder, "--dry-run")
    assert "restored: 1" in dry and "  restored: tasks (its file is back" in dry
    run_import(folder)
    assert Lesson.objects.get(slug="tasks").status == Status.PUBLISHED
    assert Lesson.objects.count() == 2


def database_fingerprint() -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows: any write shows."""
    fingerprint = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table == "stream_cache":
                continue
            cursor.execute(f"SELECT COUNT(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t")
            fingerprint[table] = cursor.fetchone()
    return fingerprint


def test_a_dry_run_prints_the_plan_and_changes_nothing(folder):
    run_import(folder)
    (folder / "01-basics.md").write_text(lesson_text("basics", 1, "## Basics\n\nReworded."))
    (folder / "02-tasks.md").unlink()
    (folder / "03-queues.md").write_text(lesson_text("queues", 3, "## Queues"))
    before = database_fingerprint()

    out = run_import(folder, "--dry-run")

    assert database_fingerprint() == before
    assert "Dry run of “Async Python” (nothing was changed): lessons created: 1, changed: 1" in out
    assert "  created: queues" in out and "  changed: basics" in out and "  archived: tasks" in out

    real = run_import(folder)
    assert real.splitlines()[1:] == out.splitlines()[1:]


def test_a_folder_naming_a_course_imported_from_another_folder_is_refused_unless_merged(folder, tmp_path):
    run_import(folder)
    copy = tmp_path / "async-python-v2"
    copy.mkdir()
    (copy / "course.md").write_text(COURSE)
    (copy / "01-other.md").write_text(lesson_text("other", 1, "## Other"))
    before = database_fingerprint()

    with pytest.raises(CommandError, match=r"was imported from another source \(folder:async-python; this folder"):
        run_import(copy)
    assert database_fingerprint() == before

    run_import(copy, "--merge")
    assert Course.objects.get().source == "folder:async-python-v2"
    assert set(Lesson.objects.values_list("slug", "status")) == {
        ("other", "published"),
        ("basics", "archived"),
        ("tasks", "archived"),
    }


def test_a_lesson_renamed_in_the_admin_redirects_from_its_old_address(staff_client):
    lesson = LessonFactory(course__slug="asyncio", slug="old-name")
    lesson.slug = "new-name"
    lesson.save()
    response = Client().get("/courses/asyncio/old-name/")
    assert (response.status_code, response["Location"]) == (301, "/courses/asyncio/new-name/")
    assert LessonRedirect.objects.get().lesson == lesson


def test_a_renamed_course_redirects_its_page_and_its_lessons(staff_client):
    lesson = LessonFactory(course__slug="asyncio", slug="tasks")
    course = lesson.course
    course.slug = "python-asyncio"
    course.save()
    visitor = Client()
    assert visitor.get("/courses/asyncio/")["Location"] == "/courses/python-asyncio/"
    assert visitor.get("/courses/asyncio/tasks/")["Location"] == "/courses/python-asyncio/tasks/"


def test_a_new_lesson_at_an_old_address_wins_over_the_redirect():
    lesson = LessonFactory(course__slug="asyncio", slug="tasks")
    lesson.slug = "running-tasks"
    lesson.save()
    LessonFactory(course=lesson.course, slug="tasks", title="A new lesson")
    assert "A new lesson" in Client().get("/courses/asyncio/tasks/").text


def test_a_redirect_never_reveals_a_lesson_the_reader_cannot_see():
    lesson = LessonFactory(course__slug="asyncio", slug="tasks", status=Status.DRAFT)
    lesson.slug = "secret-draft"
    lesson.save()
    assert Client().get("/courses/asyncio/tasks/").status_code == 404


def test_lesson_ids_must_be_unique_in_the_folder(folder):
    (folder / "01-basics.md").write_text(lesson_text("basics", 1, "One.", source_id="same"))
    (folder / "02-tasks.md").write_text(lesson_text("tasks", 2, "Two.", source_id="same"))
    with pytest.raises(CommandError, match=r"id 'same' is also used by 01-basics\.md"):
        run_import(folder)


def test_a_file_cannot_say_it_is_archived(folder):
    (folder / "02-tasks.md").write_text(lesson_text("tasks", 2, "Two.").replace("position: 2", "status: archived"))
    with pytest.raises(CommandError, match="'status' must be one of draft, published"):
        run_import(folder)


def test_the_fingerprint_sees_a_write():
    """The dry-run test's witness can fail: one changed row changes it."""
    lesson = LessonFactory()
    before = database_fingerprint()
    Lesson.objects.filter(pk=lesson.pk).update(title=hashlib.md5(b"x").hexdigest())
    assert database_fingerprint() != before
