"""An exercise's starter code and checks: authors write them in the admin or in front matter, and what is not
a check the learner could read is refused there, with the line (nothing is ever run on the server)."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from courses.models import Lesson
from tests.courses.test_admin import lesson_form
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db

CHECKS = 'from math import pi\nassert add(2, 3) == 5, "add adds"\nassert add(-1, 1) == 0, "negative numbers"\n'


def errors_of(**fields) -> dict[str, list[str]]:
    lesson = LessonFactory.build(course=CourseFactory(), exercise="Write add(a, b).", **fields)
    try:
        lesson.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_a_lesson_with_starter_code_and_checks_is_valid_and_has_checks():
    assert errors_of(exercise_starter="def add(a, b):\n    ...\n", exercise_checks=CHECKS) == {}
    lesson = LessonFactory(exercise="Write add.", exercise_checks=CHECKS)
    assert lesson.has_checks
    assert lesson.exercise_xp == 10
    assert not LessonFactory(exercise_checks=" \n\t").has_checks, "blank checks are no checks"
    assert list(Lesson.objects.with_checks()) == [lesson]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"exercise_starter": "def add(a, b)\n    pass\n"}, "exercise_starter", "Line 1 is not valid Python"),
        ({"exercise_checks": 'x = 1\nassert x ==, "x"\n'}, "exercise_checks", "Line 2 is not valid Python"),
        ({"exercise_checks": "x = add(1, 2)\nprint(x)\n"}, "exercise_checks", "at least one top-level assert"),
        ({"exercise_checks": 'x = 1\nassert x == 1\nassert x, "ok"\n'}, "exercise_checks", "Line 2: give this"),
        ({"exercise_checks": 'assert x, f"{x}"\n'}, "exercise_checks", "Line 1: give this assert a message"),
        ({"exercise_checks": 'assert x, "  "\n'}, "exercise_checks", "Line 1: give this assert a message"),
        ({"exercise_checks": 'x = 1\n\nassert (x == 2, "two")\n'}, "exercise_checks", "Line 3: this assert is always"),
        ({"exercise_checks": "assert x, 'a\x00'\n"}, "exercise_checks", "cannot contain null bytes"),
    ],
    ids=["starter", "syntax", "no-assert", "no-message", "f-string", "blank-message", "tuple", "nul"],
)
def test_code_that_is_no_python_or_no_checks_is_refused_with_its_line(fields, field, message):
    errors = errors_of(**fields)
    assert list(errors) == [field]
    assert message in errors[field][0]


def test_checks_need_an_exercise_to_say_what_they_check():
    lesson = LessonFactory.build(course=CourseFactory(), exercise="  ", exercise_checks=CHECKS)
    with pytest.raises(ValidationError) as error:
        lesson.full_clean()
    assert "Checks need an exercise" in error.value.message_dict["exercise_checks"][0]


def test_an_assert_inside_a_function_is_no_check_of_its_own_and_is_allowed():
    """Only top-level asserts are checks; others prepare (stream_checks.py runs them as any statement)."""
    checks = 'def helper():\n    assert True\n\nassert helper() is None, "the helper runs"\n'
    assert errors_of(exercise_checks=checks) == {}


# The admin


def test_the_admin_edits_the_exercise_in_a_monospace_fieldset_with_help(staff_client):
    lesson = LessonFactory(exercise="Write add.", exercise_checks=CHECKS)
    page = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/change/").text
    fieldset = page[page.index('<fieldset class="module aligned monospace') :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    for name in ("exercise", "exercise_starter", "exercise_checks", "exercise_xp"):
        assert f'name="{name}"' in fieldset
    assert 'spellcheck="false"' in fieldset
    assert "Each top-level assert is one check" in fieldset
    assert "Paid once, when the learner's code first passes every check; half of it" in fieldset


def test_the_admin_refuses_checks_without_messages_and_keeps_what_was_typed(staff_client):
    course = CourseFactory()
    form = lesson_form(course, exercise_checks="x = 1\nassert x == 1\n", exercise_starter="x = 0\n", exercise_xp=15)
    response = staff_client.post("/admin/courses/lesson/add/", form)
    assert response.status_code == 200
    assert "Line 2: give this assert a message in quotes" in response.text
    assert "x = 1\nassert x == 1\n</textarea>" in response.text, "what was typed is kept"
    assert not Lesson.objects.exists()

    form["exercise_checks"] = 'x = 1\nassert x == 1, "x is one"\n'
    assert staff_client.post("/admin/courses/lesson/add/", form).status_code == 302
    lesson = Lesson.objects.get()
    assert (lesson.exercise_starter, lesson.exercise_xp, lesson.has_checks) == ("x = 0", 15, True)


# The importer

COURSE = "---\ntitle: Async\nslug: async\n---\nA course.\n"


def write_lesson(folder: Path, front_matter: str) -> Path:
    (folder / "course.md").write_text(COURSE)
    path = folder / "01-add.md"
    path.write_text(f"---\ntitle: Add\nslug: add\n{front_matter}---\n## Adding\n\nWords.\n")
    return path


def import_error(folder: Path) -> str:
    with pytest.raises(CommandError) as error:
        call_command("import_course", str(folder))
    return str(error.value)


def test_the_importer_reads_starter_checks_and_exercise_xp(tmp_path):
    write_lesson(
        tmp_path,
        "exercise: Write add.\nexercise_xp: 15\nstarter: |\n  def add(a, b):\n      ...\n"
        'checks: |\n  assert add(2, 3) == 5, "add adds"\n',
    )
    call_command("import_course", str(tmp_path))
    lesson = Lesson.objects.get(slug="add")
    assert lesson.exercise_starter == "def add(a, b):\n    ...\n"
    assert lesson.exercise_checks == 'assert add(2, 3) == 5, "add adds"\n'
    assert lesson.exercise_xp == 15 and lesson.has_checks

    write_lesson(tmp_path, "exercise: Write add.\n")
    call_command("import_course", str(tmp_path))
    lesson.refresh_from_db()
    assert (lesson.exercise_starter, lesson.exercise_checks, lesson.exercise_xp) == ("", "", 10)


def test_a_syntax_error_in_checks_names_the_file_and_its_line_and_changes_nothing(tmp_path):
    path = write_lesson(
        tmp_path,
        'exercise: Write add.\nchecks: |\n  from math import pi\n  assert add(2, 3) = 5, "add adds"\n',
    )
    message = import_error(tmp_path)
    # The file: 1 ---, 2 title, 3 slug, 4 exercise, 5 checks: |, 6 the import, 7 the assert.
    assert message.startswith(f"{path}: 'checks': Line 2 is not valid Python: ")
    assert message.endswith("(line 7 of the file). Nothing was changed.")
    assert not Lesson.objects.exists()


@pytest.mark.parametrize(
    ("front_matter", "problem"),
    [
        ("exercise: Add.\nstarter: |\n  def add(a, b)\n", "'starter': Line 1 is not valid Python: "),
        ("exercise: Add.\nchecks: |\n  x = 1\n\n  assert x\n", "'checks': Line 3: give this assert a message"),
        ('exercise: Add.\nchecks: "x = 1"\n', "'checks': Checks need at least one top-level assert"),
        ('checks: |\n  assert True, "ok"\n', "'checks' need an 'exercise': write in it what the learner's code"),
        ("exercise_xp: many\n", "'exercise_xp' must be a whole number of 0 or more, not text"),
        ("checks: [1, 2]\n", "'checks' must be text, not a list"),
    ],
    ids=["starter", "no-message", "no-assert", "no-exercise", "xp", "not-text"],
)
def test_the_importer_refuses_exercise_code_that_is_not_right(tmp_path, front_matter, problem):
    path = write_lesson(tmp_path, front_matter)
    message = import_error(tmp_path)
    assert message.startswith(f"{path}: {problem}"), message
    assert message.endswith("Nothing was changed.")
    assert not Lesson.objects.exists()


def test_a_line_of_checks_written_as_a_quoted_string_has_no_file_line(tmp_path):
    """YAML joins the lines of a quoted value: only a `|` block keeps the file's lines."""
    write_lesson(tmp_path, 'exercise: Add.\nchecks: "x = 1\\nassert x"\n')
    message = import_error(tmp_path)
    assert "'checks': Line 2: give this assert a message" in message
    assert "of the file" not in message
