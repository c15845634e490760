from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Status
from progress import services
from progress.models import Achievement, ActivityDay, Completion, LearnerProgress, Reason, Rule, Unlock, XPEntry
from tests.factories import AchievementFactory, CourseFactory, LessonFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_achievements():
    """The ladder's achievements pay bonuses; tests of plain XP start without them."""
    Achievement.objects.all().delete()


def xp_of(learner) -> int:
    return LearnerProgress.objects.get(learner=learner).xp


def test_completing_a_lesson_pays_its_xp_into_the_ledger(learner, no_achievements, assert_ledger_balances):
    lesson = LessonFactory(xp=15)
    outcome = services.complete_lesson(learner=learner, lesson=lesson)
    assert outcome.completed and outcome.xp_awarded == 15 and outcome.xp_total == 15
    entry = XPEntry.objects.get(learner=learner)
    assert (entry.amount, entry.reason, entry.lesson, entry.source) == (
        15,
        Reason.LESSON,
        lesson,
        f"lesson:{lesson.pk}",
    )
    assert xp_of(learner) == 15
    assert_ledger_balances()


def test_completing_twice_awards_xp_once(learner, no_achievements, assert_ledger_balances):
    lesson = LessonFactory(xp=10)
    services.complete_lesson(learner=learner, lesson=lesson)
    again = services.complete_lesson(learner=learner, lesson=lesson)
    assert not again.completed and again.xp_awarded == 0
    assert Completion.objects.filter(learner=learner).count() == 1
    assert xp_of(learner) == 10
    assert_ledger_balances()


def test_unmarking_keeps_the_xp_and_completing_again_pays_nothing(learner, no_achievements, assert_ledger_balances):
    lesson = LessonFactory(xp=10)
    services.complete_lesson(learner=learner, lesson=lesson)
    assert services.uncomplete_lesson(learner=learner, lesson=lesson) is True
    assert not Completion.objects.filter(learner=learner).exists()
    assert xp_of(learner) == 10
    assert_ledger_balances()
    again = services.complete_lesson(learner=learner, lesson=lesson)
    assert again.completed and again.xp_awarded == 0
    assert xp_of(learner) == 10 and XPEntry.objects.filter(learner=learner).count() == 1
    assert_ledger_balances()
    assert services.uncomplete_lesson(learner=learner, lesson=LessonFactory()) is False


def test_marking_a_lesson_complete_again_is_no_new_day_or_late_lesson(no_achievements):
    """Regression: each new mark counted as a lesson completed, so toggling one lesson kept a streak going."""
    learner = UserFactory(time_zone="UTC")
    lesson = LessonFactory(xp=10)
    first_night = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    services.complete_lesson(learner=learner, lesson=lesson, at=first_night)
    for days_later in (1, 2, 3):
        services.uncomplete_lesson(learner=learner, lesson=lesson)
        services.complete_lesson(learner=learner, lesson=lesson, at=first_night + timedelta(days=days_later))
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.current_streak, progress.best_streak, progress.late_lessons) == (1, 1, 1)
    assert list(ActivityDay.objects.filter(learner=learner).values_list("day", "completions")) == [
        (first_night.date(), 1)
    ]


def test_toggling_one_lesson_late_at_night_unlocks_no_night_owl_bonus(learner, assert_ledger_balances):
    """Regression: ten toggles of one lesson after 23:00 unlocked "10 Late-Night Lessons" and paid its bonus."""
    Achievement.objects.all().delete()
    owl = AchievementFactory(rule=Rule.NIGHT_OWL, threshold=3, bonus_xp=30)
    lesson = LessonFactory(xp=10)
    night = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    services.complete_lesson(learner=learner, lesson=lesson, at=night)
    for minutes in range(1, 10):
        services.uncomplete_lesson(learner=learner, lesson=lesson)
        outcome = services.complete_lesson(learner=learner, lesson=lesson, at=night + timedelta(minutes=minutes))
        assert outcome.unlocked == []
    assert not Unlock.objects.filter(achievement=owl).exists()
    assert xp_of(learner) == 10
    assert_ledger_balances()


@pytest.mark.parametrize(
    "lesson_kwargs",
    [
        {"status": Status.DRAFT, "published_at": None},
        {"published_at": datetime(2999, 1, 1, tzinfo=UTC)},
        {"course__status": Status.DRAFT},
    ],
    ids=["draft", "scheduled", "draft-course"],
)
def test_lessons_that_are_not_published_cannot_be_completed(learner, lesson_kwargs):
    lesson = LessonFactory(**lesson_kwargs)
    with pytest.raises(services.LessonNotCompletable):
        services.complete_lesson(learner=learner, lesson=lesson)
    assert not Completion.objects.exists() and not XPEntry.objects.exists()


def test_a_lesson_worth_no_xp_completes_without_a_ledger_row(learner, no_achievements, assert_ledger_balances):
    outcome = services.complete_lesson(learner=learner, lesson=LessonFactory(xp=0))
    assert outcome.completed and outcome.xp_awarded == 0
    assert not XPEntry.objects.exists()
    assert_ledger_balances()


def test_an_achievement_unlocks_once_and_pays_its_bonus(learner, assert_ledger_balances):
    Achievement.objects.all().delete()
    achievement = AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=2, bonus_xp=7)
    first, second, third = LessonFactory.create_batch(3, xp=10)
    assert services.complete_lesson(learner=learner, lesson=first).unlocked == []
    outcome = services.complete_lesson(learner=learner, lesson=second)
    assert outcome.unlocked == [achievement] and outcome.xp_awarded == 17
    services.uncomplete_lesson(learner=learner, lesson=second)
    services.complete_lesson(learner=learner, lesson=second)
    assert services.complete_lesson(learner=learner, lesson=third).unlocked == []
    assert Unlock.objects.filter(learner=learner).count() == 1
    assert XPEntry.objects.filter(learner=learner, reason=Reason.ACHIEVEMENT).get().amount == 7
    assert xp_of(learner) == 37
    assert_ledger_balances()


def test_a_bonus_that_reaches_an_xp_achievement_unlocks_it_too(learner, assert_ledger_balances):
    Achievement.objects.all().delete()
    first = AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=1, bonus_xp=95)
    hundred = AchievementFactory(rule=Rule.XP_REACHED, threshold=100, bonus_xp=1)
    outcome = services.complete_lesson(learner=learner, lesson=LessonFactory(xp=5))
    assert outcome.unlocked == [first, hundred] and outcome.xp_total == 101
    assert_ledger_balances()


def test_the_ladder_is_loaded_with_levels_and_achievements_for_every_rule(db):
    from progress.models import Level

    levels = list(Level.objects.order_by("number"))
    assert len(levels) >= 10
    assert (levels[0].number, levels[0].xp_required, levels[0].title_en, levels[0].title_ko) == (
        0,
        0,
        "Curiosity",
        "호기심",
    )
    assert (levels[1].number, levels[1].xp_required) == (1, 100)
    gaps = [later.xp_required - earlier.xp_required for earlier, later in pairwise(levels)]
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]
    assert Achievement.objects.count() >= 23
    assert {achievement.rule for achievement in Achievement.objects.all()} == set(Rule.values)
    assert all(a.title_ko and a.description_ko and a.icon for a in Achievement.objects.all())


def test_streaks_count_days_in_a_row_in_the_learners_time_zone(no_achievements):
    learner = UserFactory(time_zone="Asia/Seoul")
    lessons = LessonFactory.create_batch(5)
    # 23:30 UTC is 08:30 the next day in Seoul.
    moments = [
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),  # Seoul 2 March
        datetime(2026, 3, 2, 1, 0, tzinfo=UTC),  # Seoul 2 March again
        datetime(2026, 3, 2, 23, 30, tzinfo=UTC),  # Seoul 3 March
        datetime(2026, 3, 3, 23, 30, tzinfo=UTC),  # Seoul 4 March
    ]
    for lesson, moment in zip(lessons[:4], moments, strict=True):
        services.complete_lesson(learner=learner, lesson=lesson, at=moment)
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.current_streak, progress.best_streak) == (3, 3)
    assert str(progress.last_active_on) == "2026-03-04"
    days = dict(ActivityDay.objects.filter(learner=learner).values_list("day", "completions"))
    assert {str(day): count for day, count in days.items()} == {"2026-03-02": 2, "2026-03-03": 1, "2026-03-04": 1}
    # A day missed: the streak starts again, the best one stays.
    services.complete_lesson(learner=learner, lesson=lessons[4], at=moments[-1] + timedelta(days=2))
    progress.refresh_from_db()
    assert (progress.current_streak, progress.best_streak) == (1, 3)


def test_early_and_late_lessons_count_on_the_learners_clock(no_achievements):
    learner = UserFactory(time_zone="America/New_York")
    early, late, noon = LessonFactory.create_batch(3)
    services.complete_lesson(learner=learner, lesson=early, at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))  # 06:00
    services.complete_lesson(learner=learner, lesson=late, at=datetime(2026, 6, 2, 3, 30, tzinfo=UTC))  # 23:30
    services.complete_lesson(learner=learner, lesson=noon, at=datetime(2026, 6, 2, 16, 0, tzinfo=UTC))  # 12:00
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.early_lessons, progress.late_lessons) == (1, 1)


def test_tag_and_course_rules_count_what_they_say(learner):
    Achievement.objects.all().delete()
    tag = TagFactory(slug="asyncio")
    tagged = AchievementFactory(rule=Rule.TAG_LESSONS, threshold=2, tag="asyncio")
    course_done = AchievementFactory(rule=Rule.COURSES_COMPLETED, threshold=1)
    course = CourseFactory()
    first, second = LessonFactory.create_batch(2, course=course)
    LessonFactory(course=course, status=Status.DRAFT, published_at=None)  # a draft does not hold the course back
    other = LessonFactory()
    LessonFactory(course=other.course)  # not completed: the other course stays open
    for lesson in (first, other):
        lesson.tags.add(tag)
    assert services.complete_lesson(learner=learner, lesson=first).unlocked == []
    assert services.complete_lesson(learner=learner, lesson=other).unlocked == [tagged]
    assert services.complete_lesson(learner=learner, lesson=second).unlocked == [course_done]


def test_staff_adjustments_are_ledger_rows_and_never_go_below_zero(learner, staff, assert_ledger_balances):
    entry = services.adjust_xp(learner=learner, amount=50, note="Bug bounty", by=staff)
    assert (entry.amount, entry.reason, entry.note, entry.created_by) == (50, Reason.ADJUSTMENT, "Bug bounty", staff)
    services.adjust_xp(learner=learner, amount=-20, note="Duplicate grant", by=staff)
    assert xp_of(learner) == 30
    assert_ledger_balances()
    with pytest.raises(ValidationError, match="30 XP"):
        services.adjust_xp(learner=learner, amount=-31, note="Too much", by=staff)
    with pytest.raises(ValidationError):
        services.adjust_xp(learner=learner, amount=0, note="Nothing", by=staff)
    with pytest.raises(ValidationError):
        services.adjust_xp(learner=learner, amount=5, note="  ", by=staff)
    assert xp_of(learner) == 30
    assert XPEntry.objects.filter(learner=learner).count() == 2
    assert_ledger_balances()


def test_syncing_answers_each_lesson_and_pays_through_the_same_rules(learner, no_achievements, assert_ledger_balances):
    done, new, draft = (
        LessonFactory(xp=10),
        LessonFactory(xp=20),
        LessonFactory(status=Status.DRAFT, published_at=None),
    )
    services.complete_lesson(learner=learner, lesson=done)
    result = services.sync_local_completions(learner=learner, lesson_ids=[new.pk, done.pk, draft.pk, new.pk, 999999])
    assert result.accepted == [new.pk]
    assert result.ignored == [
        {"lesson": done.pk, "reason": "already_completed"},
        {"lesson": draft.pk, "reason": "unknown"},
        {"lesson": new.pk, "reason": "duplicate"},
        {"lesson": 999999, "reason": "unknown"},
    ]
    assert result.outcome.xp_awarded == 20 and xp_of(learner) == 30
    assert_ledger_balances()


def sync_queries(lesson_count: int) -> list[str]:
    """The SQL of syncing ``lesson_count`` new published lessons into a new learner's account."""
    learner, lessons = UserFactory(), LessonFactory.create_batch(lesson_count, xp=1)
    with CaptureQueriesContext(connection) as captured:
        result = services.sync_local_completions(learner=learner, lesson_ids=[lesson.pk for lesson in lessons])
    assert len(result.accepted) == lesson_count
    return [query["sql"] for query in captured]


def test_a_sync_weighs_the_achievements_once_however_many_lessons_it_adds(db):
    """Regression: each lesson of a sync weighed every achievement again; 1,000 lessons took half a minute."""
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=1)
    AchievementFactory(rule=Rule.COURSES_COMPLETED, threshold=100)
    few, many = sync_queries(2), sync_queries(30)

    def weighing(queries: list[str]) -> list[str]:
        return [query for query in queries if '"progress_achievement"' in query or 'FROM "courses_course"' in query]

    assert len(weighing(many)) == len(weighing(few))
    # What each further lesson costs: its completion, its ledger row and its day, nothing that grows.
    assert len(many) - len(few) <= 28 * 7


@pytest.mark.parametrize(
    ("utc_hour", "utc_minute", "early", "late"),
    [(10, 59, 1, 0), (11, 0, 0, 0), (2, 59, 0, 0), (3, 0, 0, 1), (4, 30, 1, 0)],
    ids=["06:59", "07:00", "22:59", "23:00", "00:30"],
)
def test_the_early_and_late_hours_end_where_they_say(no_achievements, utc_hour, utc_minute, early, late):
    learner = UserFactory(time_zone="America/New_York")  # UTC-4 in June
    moment = datetime(2026, 6, 2, utc_hour, utc_minute, tzinfo=UTC)
    services.complete_lesson(learner=learner, lesson=LessonFactory(), at=moment)
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.early_lessons, progress.late_lessons) == (early, late)


def test_a_course_without_published_lessons_is_not_a_completed_course(learner):
    Achievement.objects.all().delete()
    AchievementFactory(rule=Rule.COURSES_COMPLETED, threshold=1)
    CourseFactory()  # published, no lessons
    LessonFactory(course=CourseFactory(), status=Status.DRAFT, published_at=None)  # drafts only
    lesson = LessonFactory()
    LessonFactory(course=lesson.course)
    assert services.complete_lesson(learner=learner, lesson=lesson).unlocked == []


def test_a_deduction_may_take_the_total_to_exactly_zero(learner, staff, assert_ledger_balances):
    services.adjust_xp(learner=learner, amount=30, note="Grant", by=staff)
    services.adjust_xp(learner=learner, amount=-30, note="Taken back", by=staff)
    assert xp_of(learner) == 0
    assert_ledger_balances()


def test_a_second_lesson_on_the_same_day_keeps_the_streak(no_achievements):
    """The second lesson of a day is neither a new day nor a break: the streak stays at 2."""
    learner = UserFactory()
    first, second, third = LessonFactory.create_batch(3)
    services.complete_lesson(learner=learner, lesson=first, at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    services.complete_lesson(learner=learner, lesson=second, at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    services.complete_lesson(learner=learner, lesson=third, at=datetime(2026, 3, 2, 18, tzinfo=UTC))
    progress = LearnerProgress.objects.get(learner=learner)
    assert (progress.current_streak, progress.best_streak) == (2, 2)


def test_other_learners_completions_do_not_count_towards_mine(learner):
    Achievement.objects.all().delete()
    tag = TagFactory(slug="asyncio")
    lessons = AchievementFactory(rule=Rule.LESSONS_COMPLETED, threshold=2)
    tagged = AchievementFactory(rule=Rule.TAG_LESSONS, threshold=2, tag="asyncio")
    course = AchievementFactory(rule=Rule.COURSES_COMPLETED, threshold=1)
    first, second = LessonFactory.create_batch(2, course=CourseFactory())
    for lesson in (first, second):
        lesson.tags.add(tag)
    services.complete_lesson(learner=UserFactory(), lesson=second)
    assert services.complete_lesson(learner=learner, lesson=first).unlocked == []
    assert Unlock.objects.filter(learner=learner).count() == 0
    assert set(services.complete_lesson(learner=learner, lesson=second).unlocked) == {lessons, tagged, course}


def test_early_bird_and_night_owl_each_count_their_own_hours(no_achievements):
    early_bird = AchievementFactory(rule=Rule.EARLY_BIRD, threshold=1)
    night_owl = AchievementFactory(rule=Rule.NIGHT_OWL, threshold=1)
    learner = UserFactory(time_zone="UTC")
    late, early = LessonFactory.create_batch(2)
    assert services.complete_lesson(
        learner=learner, lesson=late, at=datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    ).unlocked == [night_owl]
    assert services.complete_lesson(
        learner=learner, lesson=early, at=datetime(2026, 6, 2, 6, 30, tzinfo=UTC)
    ).unlocked == [early_bird]


def test_a_streak_achievement_needs_the_current_streak_not_an_old_one(no_achievements):
    learner = UserFactory(time_zone="UTC")
    lessons = LessonFactory.create_batch(5)
    for day, lesson in enumerate(lessons[:3], start=1):
        services.complete_lesson(learner=learner, lesson=lesson, at=datetime(2026, 3, day, 9, tzinfo=UTC))
    three_days = AchievementFactory(rule=Rule.STREAK_DAYS, threshold=3)  # added by staff after that streak ended
    assert (
        services.complete_lesson(learner=learner, lesson=lessons[3], at=datetime(2026, 3, 10, 9, tzinfo=UTC)).unlocked
        == []
    )
    assert LearnerProgress.objects.get(learner=learner).best_streak == 3
    assert (
        services.complete_lesson(learner=learner, lesson=lessons[4], at=datetime(2026, 3, 11, 9, tzinfo=UTC)).unlocked
        == []
    )
    assert not Unlock.objects.filter(achievement=three_days).exists()


def test_unmarking_a_lesson_leaves_other_learners_marks(learner):
    lesson = LessonFactory()
    other = UserFactory()
    services.complete_lesson(learner=other, lesson=lesson)
    services.complete_lesson(learner=learner, lesson=lesson)
    assert services.uncomplete_lesson(learner=learner, lesson=lesson) is True
    assert list(Completion.objects.values_list("learner_id", flat=True)) == [other.pk]


def test_syncing_a_lesson_another_learner_completed_adds_it_for_me(learner, no_achievements):
    lesson = LessonFactory(xp=10)
    services.complete_lesson(learner=UserFactory(), lesson=lesson)
    result = services.sync_local_completions(learner=learner, lesson_ids=[lesson.pk])
    assert result.accepted == [lesson.pk] and result.ignored == []
    assert xp_of(learner) == 10


def test_a_grant_that_reaches_an_xp_achievement_unlocks_it_and_returns_the_grant(
    learner, staff, assert_ledger_balances
):
    Achievement.objects.all().delete()
    hundred = AchievementFactory(rule=Rule.XP_REACHED, threshold=100, bonus_xp=10)
    entry = services.adjust_xp(learner=learner, amount=100, note="Migrated from the old site", by=staff)
    assert (entry.amount, entry.reason, entry.note) == (100, Reason.ADJUSTMENT, "Migrated from the old site")
    assert Unlock.objects.filter(learner=learner, achievement=hundred).exists()
    assert xp_of(learner) == 110
    assert_ledger_balances()


def test_the_comment_rule_counts_the_comments_the_learner_wrote(learner):
    Achievement.objects.all().delete()
    first_comment = AchievementFactory(rule=Rule.COMMENTS_WRITTEN, threshold=1)
    LearnerProgress.objects.create(learner=learner, comments_written=1)
    assert services.complete_lesson(learner=learner, lesson=LessonFactory()).unlocked == [first_comment]


def test_an_adjustments_reason_is_kept_without_surrounding_spaces(learner, staff):
    entry = services.adjust_xp(learner=learner, amount=5, note="  Bug bounty \n", by=staff)
    assert XPEntry.objects.get(pk=entry.pk).note == "Bug bounty"
