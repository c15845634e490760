"""An exercise's hints and reference solution as authors write them: in the admin's fields and in lesson files."""

import pytest
from django.core.exceptions import ValidationError

from courses.exercises import join_hints, split_hints
from courses.importer import CourseImportError, read_course_folder
from courses.models import Lesson
from tests.courses.test_admin import lesson_form
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db

CHECKS = 'assert add(2, 3) == 5, "add adds"\n'


def test_hints_are_the_texts_between_lines_of_three_dashes():
    assert split_hints("One.\n---\nTwo\n  ---  \n\n\n---\nThree ---\n") == ["One.", "Two", "Three ---"]
    assert split_hints("  \n") == []
    hints = ["First, with a list:\n\n- a\n- b", "Second."]
    assert split_hints(join_hints(hints)) == hints


def test_saving_renders_each_hint_and_the_solution_once():
    lesson = LessonFactory(
        exercise="Write add.",
        exercise_checks=CHECKS,
        exercise_hints="Use **+**.\n---\nSecond\nline",  # a setext heading, were it not split first
        exercise_solution="def add(a, b):\n    return a + b\n",
    )
    assert lesson.exercise_hints_html == ["<p>Use <strong>+</strong>.</p>\n", "<p>Second\nline</p>\n"]
    assert lesson.exercise_solution_html.startswith('<figure class="code-block" data-language="python">')
    assert "code-title" not in lesson.exercise_solution_html  # the section's heading names it


def test_the_solution_must_parse_and_needs_checks():
    lesson = LessonFactory.build(exercise="Write add.", exercise_checks=CHECKS, exercise_solution="def add(:\n")
    with pytest.raises(ValidationError) as error:
        lesson.full_clean(exclude=["course"])
    assert "Line 1 is not valid Python" in error.value.message_dict["exercise_solution"][0]
    lesson = LessonFactory.build(exercise="Write add.", exercise_solution="def add(a, b):\n    return a + b\n")
    with pytest.raises(ValidationError) as error:
        lesson.full_clean(exclude=["course"])
    assert error.value.message_dict["exercise_solution"] == [
        "A reference solution needs checks: it is offered to a learner whose code fails them."
    ]


def write_course(folder, front_matter: str) -> None:
    folder.mkdir()
    (folder / "course.md").write_text("---\ntitle: C\nslug: c\n---\nAbout.\n")
    (folder / "01-a.md").write_text(f"---\ntitle: A\nslug: a\nexercise: Write add.\n{front_matter}---\nBody.\n")


def test_the_importer_reads_hints_as_a_list_and_the_solution(tmp_path):
    write_course(
        tmp_path / "c",
        'checks: |\n  assert add(2, 3) == 5, "adds"\nhints:\n  - Use `+`.\n  - |\n    Two\n    lines.\n'
        "solution: |\n  def add(a, b):\n      return a + b\n",
    )
    fields = read_course_folder(tmp_path / "c").lessons[0].fields
    assert split_hints(fields["exercise_hints"]) == ["Use `+`.", "Two\nlines."]
    assert fields["exercise_solution"] == "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize(
    ("front_matter", "problem"),
    [
        ("hints: Use +.\n", "'hints' must be a list of texts (Markdown), one per hint"),
        ("hints: [1, 2]\n", "'hints' must be a list of texts (Markdown), one per hint"),
        ("hints:\n  - |\n    a\n    ---\n    b\n", "hint 1 holds a line of only ---"),
        ("solution: 'def add(:'\n", "'solution': Line 1 is not valid Python"),
        ("solution: 'x = 1'\n", "a 'solution' needs 'checks'"),
    ],
)
def test_the_importer_refuses_bad_hints_and_solutions(tmp_path, front_matter, problem):
    write_course(tmp_path / "c", front_matter)
    with pytest.raises(CourseImportError) as error:
        read_course_folder(tmp_path / "c")
    assert problem in str(error.value)


def test_the_admin_edits_hints_and_the_solution_and_keeps_them_when_refused(staff_client):
    course = CourseFactory()
    page = staff_client.get("/admin/courses/lesson/add/").text
    assert 'name="exercise_hints"' in page and 'name="exercise_solution"' in page
    form = lesson_form(course, exercise_hints="First.\n---\nSecond.", exercise_solution="def add(:\n")
    response = staff_client.post("/admin/courses/lesson/add/", form)
    assert "A reference solution needs checks" in response.text or "is not valid Python" in response.text
    assert "First.\n---\nSecond.</textarea>" in response.text, "what was typed is kept"
    form |= {"exercise_checks": CHECKS, "exercise_solution": "def add(a, b):\n    return a + b\n"}
    assert staff_client.post("/admin/courses/lesson/add/", form).status_code == 302
    lesson = Lesson.objects.get()
    assert len(lesson.exercise_hints_html) == 2 and 'data-language="python"' in lesson.exercise_solution_html
    assert lesson.revision.content["exercise_hints"] == "First.\n---\nSecond."  # kept by the revision


def test_the_live_preview_shows_the_hints_and_the_solution(staff_client):
    course = CourseFactory(language="ko")
    result = staff_client.post(
        "/admin/courses/lesson/render/",
        {"course": course.pk, "exercise_hints": "**A**\n---\nB", "exercise_solution": "x = 1\n"},
    ).json()
    html = result["exercise_html"]
    assert html.index("힌트 1") < html.index("<strong>A</strong>") < html.index("힌트 2")
    assert '<span class="code-title">모범 답안</span>' in html
