from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum

from accounts.models import User
from progress.management.commands.build_progress_bench import DOMAIN, HEAVY_EMAIL, NEW_EMAIL
from progress.models import Achievement, ActivityDay, Completion, LearnerProgress, Reason, Unlock, XPEntry
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db

LEARNERS = 6
ROWS = 300


@pytest.fixture
def lessons():
    return [LessonFactory(course=course) for course in CourseFactory.create_batch(2) for _ in range(4)]


def build(**options) -> None:
    call_command("build_progress_bench", throwaway_database=connection.settings_dict["NAME"], **options)


def bench_learners():
    return User.objects.filter(email__endswith=f"@{DOMAIN}")


def table_sizes() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, XPEntry, Completion, ActivityDay, Unlock, LearnerProgress)
    }


def test_the_learners_are_never_written_into_a_database_not_named_bench(lessons):
    """A thousand made-up learners must not land in a developer's (or the test) database by accident."""
    with pytest.raises(CommandError, match="not a benchmark database"):
        call_command("build_progress_bench", learners=LEARNERS, rows=ROWS)
    assert not bench_learners().exists()


def test_the_learners_get_the_rows_asked_for_and_each_total_equals_their_ledger(lessons, assert_ledger_balances):
    build(learners=LEARNERS, rows=ROWS)

    assert bench_learners().count() == LEARNERS
    assert XPEntry.objects.filter(learner__in=bench_learners()).count() == ROWS
    assert_ledger_balances()
    ledgers = dict(XPEntry.objects.values_list("learner").annotate(Sum("amount")))
    assert set(ledgers) == set(LearnerProgress.objects.values_list("learner", flat=True))
    lesson_rows = set(XPEntry.objects.filter(reason=Reason.LESSON).values_list("learner", "lesson"))
    assert lesson_rows == set(Completion.objects.values_list("learner", "lesson"))
    days = Counter(dict(ActivityDay.objects.values_list("learner").annotate(Sum("completions"))))
    assert days == Counter(Completion.objects.values_list("learner", flat=True))


def test_the_heavy_learner_has_every_achievement_and_the_new_one_nothing(lessons):
    build(learners=LEARNERS, rows=ROWS)

    heavy = User.objects.get(email=HEAVY_EMAIL)
    assert heavy.completions.count() == len(lessons)  # all of them: there are fewer than 500
    assert heavy.unlocks.count() == Achievement.objects.count() > 0
    new = User.objects.get(email=NEW_EMAIL)
    assert not new.xp_entries.exists()
    assert not new.completions.exists()
    assert not LearnerProgress.objects.filter(learner=new).exists()


def test_running_again_adds_nothing(lessons):
    build(learners=LEARNERS, rows=ROWS)
    sizes, entries = table_sizes(), set(XPEntry.objects.values_list("pk", flat=True))

    build(learners=LEARNERS, rows=ROWS)

    assert table_sizes() == sizes
    assert set(XPEntry.objects.values_list("pk", flat=True)) == entries


def test_asking_for_another_size_replaces_the_learners_instead_of_adding_to_them(lessons):
    build(learners=LEARNERS, rows=ROWS)

    build(learners=LEARNERS + 1, rows=ROWS - 50)

    assert bench_learners().count() == LEARNERS + 1
    assert XPEntry.objects.count() == ROWS - 50
