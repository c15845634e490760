import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from comments.management.commands.build_comments_bench import COMMENTED_LESSON
from comments.models import MAX_DEPTH, Comment
from courses.management.commands.build_large_site import BIG_COURSE_SLUG
from progress.management.commands.build_progress_bench import DOMAIN, HEAVY_EMAIL
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_lesson():
    """The lesson the command writes on, and learners of the progress bench to write the comments."""
    lesson = LessonFactory(
        course=CourseFactory(slug=BIG_COURSE_SLUG),
        slug=COMMENTED_LESSON,
        body='```python title="One"\nprint(1)\n```\n\n```python\nprint(2)\n```\n',
    )
    UserFactory(email=HEAVY_EMAIL)
    for n in range(5):
        UserFactory(email=f"learner-{n:04d}@{DOMAIN}")
    return lesson


def build(**options) -> None:
    call_command("build_comments_bench", throwaway_database=connection.settings_dict["NAME"], **options)


def test_the_comments_are_never_written_into_a_database_not_named_bench(bench_lesson):
    with pytest.raises(CommandError, match="not a benchmark database"):
        call_command("build_comments_bench")
    assert not Comment.objects.exists()


def test_the_lesson_gets_200_comments_in_50_threads_a_quarter_on_code_blocks(bench_lesson):
    build()

    comments = Comment.objects.filter(lesson=bench_lesson)
    assert comments.count() == 200
    assert comments.filter(parent=None).count() == 50
    assert comments.filter(code_block__isnull=False).count() == 50
    assert set(comments.exclude(code_block=None).values_list("code_block", "code_block_title")) == {
        (1, "One"),
        (2, ""),
    }
    assert not comments.filter(author__email=HEAVY_EMAIL).exists()  # the bench reads the page as that learner
    # Replies to replies at the deepest level: shown flat, "in reply to".
    assert comments.filter(parent__depth=MAX_DEPTH).exists()
    for comment in comments.exclude(parent=None).select_related("parent"):
        assert comment.depth == min(comment.parent.depth + 1, MAX_DEPTH)
        assert comment.code_block == comment.parent.code_block
    assert all(comment.body_html.startswith("<") for comment in comments)


def test_running_again_adds_nothing_and_force_writes_them_again(bench_lesson):
    build()
    first = set(Comment.objects.values_list("pk", flat=True))

    build()
    assert set(Comment.objects.values_list("pk", flat=True)) == first

    build(force=True)
    assert Comment.objects.count() == 200
    assert not first & set(Comment.objects.values_list("pk", flat=True))


def test_the_command_needs_the_large_site_and_its_learners(db):
    with pytest.raises(CommandError, match="build_large_site"):
        build()
    LessonFactory(course=CourseFactory(slug=BIG_COURSE_SLUG), slug=COMMENTED_LESSON)
    with pytest.raises(CommandError, match="build_progress_bench"):
        build()
