"""The learner's own progress page, the weekly leaderboard, "How XP works", and progress on course pages."""

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Status
from progress import services
from progress.models import (
    Achievement,
    ActivityDay,
    Completion,
    LearnerProgress,
    Reason,
    Rule,
    Unlock,
    XPEntry,
)
from progress.rules import rule_in_words
from progress.selectors import Week, current_streak
from tests.conftest import is_cache_query
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db

# Together these two learners catch a page that counts days in UTC instead of the learner's zone,
# whatever the hour the tests run at: 25 hours apart, their calendars never show the same date.
FAR_EAST = "Pacific/Kiritimati"  # UTC+14
FAR_WEST = "Pacific/Pago_Pago"  # UTC-11


def today_in(zone: str) -> date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone))


def main_html(response) -> str:
    assert response.status_code == 200
    return re.search(r"<main\b.*?</main>", response.content.decode(), re.S).group()


def text(html: str) -> str:
    """What a reader sees of ``html``: its text, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, heading_id: str) -> str:
    """The <section> labelled by the heading ``heading_id``."""
    return re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S).group()


def count_queries(client, url: str) -> int:
    """The queries of one request, but for the database cache's (a visitor's page is stored there)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return sum(not is_cache_query(query["sql"]) for query in queries)


def entry(learner, amount: int, *, at: datetime, reason=Reason.LESSON, **details) -> XPEntry:
    """A ledger row written directly: the pages read the ledger, whatever wrote it."""
    return XPEntry.objects.create(
        learner=learner,
        amount=amount,
        reason=reason,
        source=f"{reason}:{XPEntry.objects.count()}",
        created_at=at,
        **details,
    )


@pytest.fixture
def signed_in(client, learner):
    client.force_login(learner)
    return client


# /me/


def test_my_progress_needs_signing_in(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"


def test_my_progress_shows_level_xp_streaks_and_the_bar_to_the_next_level(signed_in, learner):
    LearnerProgress.objects.create(
        learner=learner, xp=260, current_streak=4, best_streak=9, last_active_on=today_in(learner.time_zone)
    )
    html = main_html(signed_in.get("/me/"))
    overview = text(section(html, "overview-title"))
    assert "Level 2 · Explorer" in overview
    assert "Total XP 260" in overview
    assert "Current streak 4 days" in overview and "Best streak 9 days" in overview
    assert "10/200 XP to level 3 · Apprentice" in overview and "190 XP to go" in overview
    assert '<progress id="level-progress" max="200" value="10">' in html
    assert 'href="/accounts/settings/"' in html


def test_a_new_learner_starts_at_level_0_with_nothing_yet(signed_in):
    html = main_html(signed_in.get("/me/"))
    assert "Level 0 · Curiosity" in text(html)
    assert "Current streak 0 days" in text(html)
    assert "No XP yet" in text(section(html, "history-title"))
    assert "You have not started a course yet." in text(section(html, "courses-title"))


def test_the_top_level_has_no_bar(signed_in, learner):
    LearnerProgress.objects.create(learner=learner, xp=1_000_000)
    html = main_html(signed_in.get("/me/"))
    assert "Top level reached" in text(html)
    assert 'id="level-progress"' not in html


@pytest.mark.parametrize("zone", [FAR_EAST, FAR_WEST])
@pytest.mark.parametrize(
    ("days_ago", "shown"), [(0, 5), (1, 5), (2, 0), (30, 0)], ids=["today", "yesterday", "2-days", "a-month"]
)
def test_the_current_streak_ends_once_a_day_is_skipped_on_the_learners_calendar(client, zone, days_ago, shown):
    learner = UserFactory(time_zone=zone)
    LearnerProgress.objects.create(
        learner=learner, current_streak=5, best_streak=7, last_active_on=today_in(zone) - timedelta(days=days_ago)
    )
    client.force_login(learner)
    overview = text(section(main_html(client.get("/me/")), "overview-title"))
    assert f"Current streak {shown} days" in overview
    assert "Best streak 7 days" in overview


def test_current_streak_helper_counts_until_the_day_after_the_last_active_day():
    progress = LearnerProgress(current_streak=3, last_active_on=date(2026, 11, 20))
    assert current_streak(progress, today=date(2026, 11, 20)) == 3
    assert current_streak(progress, today=date(2026, 11, 21)) == 3
    assert current_streak(progress, today=date(2026, 11, 22)) == 0
    assert current_streak(LearnerProgress(), today=date(2026, 11, 22)) == 0


def test_xp_history_says_what_paid_each_row_when_on_the_learners_clock_and_how_much(client, staff):
    learner = UserFactory(time_zone="Asia/Seoul")
    lesson = LessonFactory(title="Tasks and gather", course__slug="asyncio", slug="tasks")
    draft = LessonFactory(title="Cancellation", status=Status.DRAFT, published_at=None)
    gone = LessonFactory(title="Deleted later")
    achievement = Achievement.objects.get(code="first-lesson")
    at = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 00:30 on 2 March in Seoul
    entry(learner, 10, at=at, lesson=lesson)
    entry(learner, 5, at=at + timedelta(minutes=1), reason=Reason.ACHIEVEMENT, achievement=achievement)
    entry(learner, 10, at=at + timedelta(minutes=2), lesson=draft)
    entry(learner, 10, at=at + timedelta(minutes=3), lesson=gone)
    entry(learner, -7, at=at + timedelta(minutes=4), reason=Reason.ADJUSTMENT, note="Counted twice", created_by=staff)
    gone.delete()
    client.force_login(learner)

    history = section(main_html(client.get("/me/")), "history-title")
    rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]]
    assert rows == [
        "Adjustment by staff: Counted twice March 2, 2026, 12:34 a.m. \N{MINUS SIGN}7",
        "A lesson that no longer exists March 2, 2026, 12:33 a.m. +10",
        "Lesson: Cancellation March 2, 2026, 12:32 a.m. +10",
        f"Achievement: {achievement.icon} First Lesson Completed March 2, 2026, 12:31 a.m. +5",
        "Lesson: Tasks and gather March 2, 2026, 12:30 a.m. +10",
    ]
    assert '<a href="/courses/asyncio/tasks/" lang="en" dir="ltr">Tasks and gather</a>' in history
    assert ">Cancellation</a>" not in history  # a draft is not a page the learner can open
    assert '<time datetime="2026-03-02T00:30:00+0900">' in history
    assert staff.email not in history


def test_xp_history_shows_25_rows_a_page(signed_in, learner):
    start = timezone.now() - timedelta(days=1)
    for n in range(30):
        entry(learner, n + 1, at=start + timedelta(minutes=n))
    first = section(main_html(signed_in.get("/me/")), "history-title")
    second = section(main_html(signed_in.get("/me/?page=2")), "history-title")
    assert first.count("<tr>") == 1 + 25 and second.count("<tr>") == 1 + 5
    assert "+30" in first and "+1" in second  # newest first
    assert 'href="/me/?page=2"' in first
    assert signed_in.get("/me/?page=3").status_code == 404


@pytest.fixture
def achievements():
    """Four achievements, one in each state a learner can see."""
    Achievement.objects.all().delete()

    def make(code: str, hidden: bool, position: int) -> Achievement:
        return Achievement.objects.create(
            code=code,
            title_en=f"Title of {code}",
            title_ko=f"{code} 제목",
            description_en=f"Description of {code}",
            description_ko=f"{code} 설명",
            icon="⭐",
            rule=Rule.LESSONS_COMPLETED,
            threshold=position,
            hidden=hidden,
            position=position,
        )

    return [
        make("open-unlocked", False, 1),
        make("open-locked", False, 2),
        make("secret-unlocked", True, 3),
        make("secret-locked", True, 4),
    ]


def test_achievements_show_unlocked_with_their_date_locked_greyed_and_secrets_kept(client, achievements):
    learner = UserFactory(time_zone="Asia/Seoul")
    at = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)  # 5 May in Seoul
    for achievement in (achievements[0], achievements[2]):
        Unlock.objects.create(learner=learner, achievement=achievement, unlocked_at=at)
    client.force_login(learner)

    html = main_html(client.get("/me/"))
    grid = section(html, "achievements-title")
    cards = re.findall(r'<li class="(achievement[^"]*)">(.*?)</li>', grid, re.S)
    assert [(classes, text(card)) for classes, card in cards] == [
        ("achievement", "⭐ Title of open-unlocked Description of open-unlocked Unlocked on May 5, 2026"),
        ("achievement achievement-locked", "⭐ Title of open-locked Description of open-locked Locked"),
        ("achievement", "⭐ Title of secret-unlocked Description of secret-unlocked Unlocked on May 5, 2026"),
        (
            "achievement achievement-locked achievement-secret",
            "? Secret achievement Keep learning to find out what it is. Locked",
        ),
    ]
    assert "2 of 4 unlocked" in text(grid)
    assert "secret-locked" not in html.replace("achievement-secret", "")


def test_each_started_course_shows_the_share_of_its_published_lessons_completed(signed_in, learner):
    started = CourseFactory(title="Python asyncio")
    lessons = [LessonFactory(course=started) for _ in range(4)]
    LessonFactory(course=started, status=Status.DRAFT, published_at=None)
    untouched = CourseFactory(title="Rust ownership")
    LessonFactory(course=untouched)
    Completion.objects.create(learner=learner, lesson=lessons[0], completed_at=timezone.now())

    courses = section(main_html(signed_in.get("/me/")), "courses-title")
    assert "Python asyncio 1 of 4 lessons complete (25%)" in text(courses)
    assert f'<progress id="course-{started.pk}-progress" max="4" value="1">' in courses
    assert "Rust ownership" not in courses


def heatmap_squares(html: str) -> dict[date, tuple[str, str, int, int]]:
    """Each day's square of the heatmap: its CSS class, its title, and its x and y."""
    svg = re.search(r'<svg class="heatmap".*?</svg>', html, re.S).group()
    assert "style=" not in svg
    squares = {}
    for attrs, title in re.findall(r"<rect ([^>]*)><title>(.*?)</title></rect>", svg):
        values = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
        day = date.fromisoformat(title.rsplit(" ", 1)[1])
        squares[day] = (values["class"], title, int(values["x"]), int(values["y"]))
    return squares


@pytest.mark.parametrize("zone", [FAR_EAST, FAR_WEST])
def test_the_heatmap_shades_the_days_of_the_last_12_weeks_on_the_learners_calendar(client, zone):
    learner = UserFactory(time_zone=zone)
    today = today_in(zone)
    for days_ago, completions in [(0, 3), (1, 1), (10, 2), (83, 5), (84, 1)]:
        ActivityDay.objects.create(learner=learner, day=today - timedelta(days=days_ago), completions=completions)
    client.force_login(learner)

    html = main_html(client.get("/me/"))
    squares = heatmap_squares(html)
    assert sorted(squares) == [today - timedelta(days=n) for n in range(83, -1, -1)]
    assert squares[today][:2] == ("heat-3", f"3 lessons on {today:%Y-%m-%d}")
    assert squares[today - timedelta(days=1)][:2] == ("heat-1", f"1 lesson on {today - timedelta(days=1):%Y-%m-%d}")
    assert squares[today - timedelta(days=10)][0] == "heat-2"
    assert squares[today - timedelta(days=83)][0] == "heat-3"  # 5 lessons: the darkest shade
    assert squares[today - timedelta(days=2)][:2] == ("heat-0", f"0 lessons on {today - timedelta(days=2):%Y-%m-%d}")
    assert sum(1 for square in squares.values() if square[0] != "heat-0") == 4
    assert 'aria-label="Lessons completed and exercises passed per day over the last 12 weeks: 4 days active"' in html
    assert 'role="img"' in html


def test_the_heatmap_has_a_column_per_week_with_monday_at_the_top(signed_in, learner):
    squares = heatmap_squares(main_html(signed_in.get("/me/")))
    for day, (_, _, x, y) in squares.items():
        assert y == day.weekday() * 15
        assert x == (day - min(squares) + timedelta(days=min(squares).weekday())).days // 7 * 15
    today = today_in(learner.time_zone)
    assert squares[today][2] == max(x for _, _, x, _ in squares.values())


def test_my_progress_runs_as_many_queries_for_a_long_history_as_for_a_short_one(client):
    learner = UserFactory()
    client.force_login(learner)
    services.complete_lesson(learner=learner, lesson=LessonFactory())
    few = count_queries(client, "/me/")
    for n in range(40):
        services.complete_lesson(
            learner=learner, lesson=LessonFactory(), at=timezone.now() - timedelta(days=n, minutes=n)
        )
    ActivityDay.objects.filter(learner=learner).update(completions=2)
    assert XPEntry.objects.filter(learner=learner).count() > 25 and Unlock.objects.filter(learner=learner).count() > 3
    assert count_queries(client, "/me/") == few
    assert few <= 11  # 10, and the certificates


# /leaderboard/


def leaderboard_rows(html: str) -> list[str]:
    table = re.search(r'<table class="leaderboard">.*?</table>', html, re.S)
    return [text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(), re.S)[1:]] if table else []


@pytest.fixture
def week() -> Week:
    return Week.of(timezone.now())


def test_week_runs_from_monday_0000_utc_to_the_next(db):
    sunday_night = datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC)
    assert Week.of(sunday_night).start == datetime(2026, 11, 16, tzinfo=UTC)
    monday = Week.of(datetime(2026, 11, 23, tzinfo=UTC))
    assert (monday.start, monday.end) == (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert (monday.first_day, monday.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    # Monday 08:00 in Seoul is still Sunday in UTC.
    seoul_monday = datetime(2026, 11, 23, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Seoul"))
    assert Week.of(seoul_monday).start == datetime(2026, 11, 16, tzinfo=UTC)


def test_the_leaderboard_ranks_learners_by_xp_earned_this_week(client, week):
    ada, grace, linus = (UserFactory(display_name=name) for name in ("Ada", "Grace", "Linus"))
    entry(ada, 30, at=week.start)
    entry(grace, 40, at=week.start + timedelta(hours=1))
    entry(grace, 10, at=week.start + timedelta(hours=2), reason=Reason.ACHIEVEMENT)
    entry(linus, 30, at=week.start + timedelta(hours=3))
    entry(linus, 500, at=week.start - timedelta(microseconds=1))  # last week
    LearnerProgress.objects.create(learner=grace, xp=300)

    html = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(html) == [
        "1 Grace Level 2 · Explorer 50",
        "2 Ada Level 0 · Curiosity 30",  # same XP as Linus: the earlier account first
        "3 Linus Level 0 · Curiosity 30",
    ]


def test_the_leaderboard_shows_the_weeks_dates(client, week):
    html = main_html(client.get("/leaderboard/"))
    assert f'<time datetime="{week.first_day:%Y-%m-%d}">' in html
    assert f'<time datetime="{week.last_day:%Y-%m-%d}">' in html
    assert week.last_day - week.first_day == timedelta(days=6) and week.first_day.weekday() == 0


def test_staff_adjustments_do_not_count_on_the_leaderboard(client, week, staff):
    Achievement.objects.all().delete()  # an adjustment may unlock an XP achievement, whose bonus is earned XP
    adjusted, mixed = UserFactory(display_name="Adjusted"), UserFactory(display_name="Mixed")
    services.adjust_xp(learner=adjusted, amount=500, note="Bonus", by=staff)
    services.adjust_xp(learner=mixed, amount=500, note="Bonus", by=staff)
    entry(mixed, 20, at=week.start)
    assert leaderboard_rows(main_html(client.get("/leaderboard/"))) == ["1 Mixed Level 3 · Apprentice 20"]


def test_learners_who_opted_out_and_inactive_accounts_are_left_off(client, week):
    for name, options in [("Shown", {}), ("Opted out", {"on_leaderboard": False}), ("Gone", {"is_active": False})]:
        entry(UserFactory(display_name=name, **options), 10, at=week.start)
    assert leaderboard_rows(main_html(client.get("/leaderboard/"))) == ["1 Shown Level 0 · Curiosity 10"]


def test_the_leaderboard_never_shows_an_e_mail_address(client, week):
    nameless = UserFactory(display_name="")
    entry(nameless, 10, at=week.start)
    html = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(html) == [f"1 Learner #{nameless.pk} Level 0 · Curiosity 10"]
    assert nameless.email not in client.get("/leaderboard/").content.decode()


def test_the_leaderboard_shows_the_top_20(client, week):
    for n in range(25):
        entry(UserFactory(display_name=f"Learner {n}"), 100 - n, at=week.start)
    rows = leaderboard_rows(main_html(client.get("/leaderboard/")))
    assert len(rows) == 20
    assert rows[0].startswith("1 Learner 0 ") and rows[-1].startswith("20 Learner 19 ")


def test_a_learner_below_the_top_20_sees_their_own_rank(client, week):
    for n in range(36):
        entry(UserFactory(display_name=f"Ahead {n}"), 100 + n, at=week.start)
    tied_before = UserFactory(display_name="Tied, earlier account")
    me = UserFactory(display_name="Me")
    entry(tied_before, 45, at=week.start)
    entry(me, 45, at=week.start)
    entry(UserFactory(display_name="Behind"), 10, at=week.start)
    client.force_login(me)
    html = main_html(client.get("/leaderboard/"))
    assert "You are #38 with 45 XP this week." in text(html)
    assert "Me" not in leaderboard_rows(html)


def test_a_learner_in_the_top_20_is_marked_in_the_table(client, week):
    me = UserFactory(display_name="Me")
    entry(me, 45, at=week.start)
    client.force_login(me)
    html = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(html) == ["1 Me you Level 0 · Curiosity 45"]
    assert '<tr class="leaderboard-you" aria-current="true">' in html
    assert "You are #" not in html


def test_a_learner_without_xp_this_week_is_told_how_to_join(client, week):
    me = UserFactory()
    entry(me, 45, at=week.start - timedelta(days=1))
    client.force_login(me)
    assert "You have not earned XP this week yet" in text(main_html(client.get("/leaderboard/")))


def test_a_learner_who_opted_out_is_told_so_with_a_link_to_their_settings(client, week):
    me = UserFactory(on_leaderboard=False)
    entry(me, 45, at=week.start)
    client.force_login(me)
    html = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(html) == []
    assert "You chose not to be shown on the leaderboard." in text(html)
    assert 'href="/accounts/settings/"' in html


def test_the_leaderboard_runs_as_many_queries_for_50_learners_as_for_1(client, week):
    me = UserFactory()
    entry(me, 1, at=week.start)
    client.force_login(me)
    few = count_queries(client, "/leaderboard/")
    for n in range(50):
        learner = UserFactory(display_name=f"Learner {n}")
        LearnerProgress.objects.create(learner=learner, xp=10 * n)
        entry(learner, 10 + n, at=week.start)
    cache.clear()  # the week's standings are kept for half a minute: count the queries that make them
    assert count_queries(client, "/leaderboard/") == few
    assert "You are #51 with 1 XP this week." in text(main_html(client.get("/leaderboard/")))
    assert few <= 7  # with the header's count of unread notifications


def week_sums(client, url: str) -> list[str]:
    """The SQL of one request that adds up XP of the week (the ranking's, or one learner's)."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return [query["sql"] for query in queries if "SUM(" in query["sql"]]


def test_the_weeks_standings_are_kept_but_the_readers_own_xp_counts_at_once(client, week):
    ada, me, bob = (UserFactory(display_name=name) for name in ("Ada", "Me", "Bob"))
    entry(ada, 30, at=week.start)
    entry(me, 10, at=week.start)
    assert leaderboard_rows(main_html(client.get("/leaderboard/")))[0].startswith("1 Ada ")

    entry(me, 50, at=week.start + timedelta(hours=1))  # earned since the standings were kept
    client.force_login(me)
    mine = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(mine) == ["1 Me you Level 0 · Curiosity 60", "2 Ada Level 0 · Curiosity 30"]
    # Only the reader's own sum was asked: the week's ranking came from the cache.
    assert all(f'"learner_id" = {me.pk}' in sql for sql in week_sums(client, "/leaderboard/"))

    # Another reader gets the kept standings, not the view made for Me.
    client.force_login(bob)
    theirs = main_html(client.get("/leaderboard/"))
    assert leaderboard_rows(theirs) == ["1 Ada Level 0 · Curiosity 30", "2 Me Level 0 · Curiosity 10"]
    assert "leaderboard-you" not in theirs


def test_a_learner_below_the_top_20_sees_their_own_new_rank_while_the_standings_are_kept(client, week):
    for n in range(25):
        entry(UserFactory(display_name=f"Ahead {n}"), 100 + n, at=week.start)
    for n in range(10):
        entry(UserFactory(display_name=f"Behind {n}"), 20 + n, at=week.start)
    me = UserFactory(display_name="Me")
    entry(me, 5, at=week.start)
    client.force_login(me)
    assert "You are #36 with 5 XP this week." in text(main_html(client.get("/leaderboard/")))

    entry(me, 20, at=week.start + timedelta(hours=1))

    # Past the four with 26 to 29 XP, behind the earlier account with 25.
    assert "You are #31 with 25 XP this week." in text(main_html(client.get("/leaderboard/")))


def test_a_learner_who_opts_out_leaves_the_kept_leaderboard_at_once(client, week):
    shy, other = UserFactory(display_name="Shy"), UserFactory(display_name="Other")
    entry(shy, 50, at=week.start)
    entry(other, 20, at=week.start)
    assert len(leaderboard_rows(main_html(client.get("/leaderboard/")))) == 2

    shy.on_leaderboard = False
    shy.save()

    assert leaderboard_rows(main_html(client.get("/leaderboard/"))) == ["1 Other Level 0 · Curiosity 20"]


# /xp/


def test_how_xp_works_explains_what_earns_xp(client):
    html = text(main_html(client.get("/xp/")))
    for words in [
        "Completing a lesson pays that lesson\N{RIGHT SINGLE QUOTATION MARK}s XP",
        "bonus XP",
        "adjust your XP",
        "never takes XP away",
    ]:
        assert words in html


def test_how_xp_works_lists_every_level_in_a_table(client):
    html = main_html(client.get("/xp/"))
    levels = re.search(r'<table class="data-table levels">.*?</table>', html, re.S).group()
    rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", levels, re.S)]
    assert rows[:4] == ["Level XP needed Title", "0 0 Curiosity", "1 100 First Steps", "2 250 Explorer"]
    assert '<th scope="row">13</th>' in levels


def test_how_xp_works_lists_visible_achievements_and_keeps_the_secret_ones(client, achievements):
    html = main_html(client.get("/xp/"))
    grid = section(html, "achievements-title")
    cards = [text(card) for card in re.findall(r'<li class="achievement">(.*?)</li>', grid, re.S)]
    assert cards == [
        "⭐ Title of open-unlocked Description of open-unlocked To unlock: Complete 1 lesson.",
        "⭐ Title of open-locked Description of open-locked To unlock: Complete 2 lessons.",
    ]
    assert "secret-" not in html
    assert "Some achievements are secret: there are 2 more" in text(grid)


def test_achievements_say_their_bonus_xp(client):
    grid = text(section(main_html(client.get("/xp/")), "achievements-title"))
    assert "🌱 First Lesson Completed" in grid and "To unlock: Complete 1 lesson. Bonus: +5 XP" in grid
    assert "Night Owl" not in grid


@pytest.mark.parametrize(
    ("rule", "threshold", "tag", "words"),
    [
        (Rule.LESSONS_COMPLETED, 5, "", "Complete 5 lessons."),
        (Rule.COURSES_COMPLETED, 1, "", "Complete every lesson of 1 course."),
        (Rule.XP_REACHED, 1000, "", "Reach 1000 XP in total."),
        (Rule.STREAK_DAYS, 7, "", "Complete a lesson on 7 days in a row."),
        (Rule.TAG_LESSONS, 3, "asyncio", "Complete 3 lessons tagged #asyncio."),
        (Rule.EARLY_BIRD, 1, "", "Complete 1 lesson before 07:00, your time."),
        (Rule.NIGHT_OWL, 10, "", "Complete 10 lessons from 23:00 to midnight, your time."),
        (Rule.COMMENTS_WRITTEN, 1, "", "Write 1 comment."),
    ],
)
def test_every_rule_is_put_in_words(rule, threshold, tag, words):
    assert rule_in_words(Achievement(rule=rule, threshold=threshold, tag=tag)) == words


# Progress on course pages and the catalogue


def make_course_with_completions(learner, lesson_count: int):
    """A course of ``lesson_count`` lessons, of which ``learner`` completed the 1st, 3rd, 5th..."""
    course = CourseFactory(slug="asyncio")
    lessons = [
        LessonFactory(course=course, position=n, slug=f"lesson-{n}", title=f"Lesson {n}")
        for n in range(1, lesson_count + 1)
    ]
    for lesson in lessons[::2]:
        Completion.objects.create(learner=learner, lesson=lesson, completed_at=timezone.now())
    return course, lessons


def lesson_rows(html: str) -> list[str]:
    lesson_list = re.search(r'<ol class="lesson-list">.*?</ol>', html, re.S).group()
    return [text(row) for row in re.findall(r"<li>(.*?)</li>", lesson_list, re.S)]


def test_the_course_page_marks_the_lessons_a_learner_completed(signed_in, learner):
    course, _ = make_course_with_completions(learner, 3)
    html = main_html(signed_in.get("/courses/asyncio/"))
    assert lesson_rows(html) == [
        "01 Lesson 1 ✓ Completed ~1 min",
        "02 Lesson 2 ~1 min",
        "03 Lesson 3 ✓ Completed ~1 min",
    ]
    assert '<span aria-hidden="true">✓</span><span class="visually-hidden">Completed</span>' in html
    assert "2 of 3 lessons complete (66%)" in text(html)
    assert f'<progress id="course-{course.pk}-progress" max="3" value="2">' in html


def test_visitors_see_no_progress_on_course_pages(client, learner):
    make_course_with_completions(learner, 3)
    html = main_html(client.get("/courses/asyncio/"))
    assert "Completed" not in html and "<progress" not in html
    assert "<progress" not in main_html(client.get("/"))


def test_the_catalogue_shows_a_learners_progress_in_each_course(signed_in, learner):
    course, _ = make_course_with_completions(learner, 4)
    LessonFactory(course=course, slug="draft", position=99, status=Status.DRAFT, published_at=None)  # not counted
    other = CourseFactory(title="Not started")
    LessonFactory(course=other)
    html = main_html(signed_in.get("/"))
    cards = [text(card) for card in re.findall(r'<li class="card">(.*?)</li>', html, re.S)]
    assert "4 lessons 2 of 4 lessons complete (50%)" in cards[0]
    assert "1 lesson 0 of 1 lesson complete (0%)" in cards[1]
    assert f'<progress id="course-{course.pk}-progress" max="4" value="2">' in html


def test_unmarking_a_lesson_takes_its_tick_away_but_not_its_xp(signed_in, learner):
    lesson = LessonFactory(course=CourseFactory(slug="asyncio"))
    services.complete_lesson(learner=learner, lesson=lesson)
    services.uncomplete_lesson(learner=learner, lesson=lesson)
    html = main_html(signed_in.get("/courses/asyncio/"))
    assert "✓" not in html and "0 of 1 lesson complete (0%)" in text(html)
    assert LearnerProgress.objects.get(learner=learner).xp > 0


@pytest.mark.parametrize("url", ["/", "/courses/asyncio/"])
def test_course_pages_run_as_many_queries_for_50_rows_as_for_1(signed_in, learner, url):
    course, _ = make_course_with_completions(learner, 1)
    few = count_queries(signed_in, url)
    for n in range(2, 51):
        lesson = LessonFactory(course=course, position=n, slug=f"lesson-{n}")
        other = LessonFactory(course=CourseFactory(), position=1)
        for done in (lesson, other):
            Completion.objects.create(learner=learner, lesson=done, completed_at=timezone.now())
    assert count_queries(signed_in, url) == few


def test_course_pages_read_a_learners_progress_in_one_query_each(client, learner):
    make_course_with_completions(learner, 2)
    anonymous = {url: count_queries(client, url) for url in ["/", "/courses/asyncio/"]}
    client.force_login(learner)
    # A signed-in reader costs the session, the user and the header's count of unread notifications; then
    # one query for the course bars, on the catalogue one for where the reader left off ("Continue:"), and on
    # a course page one more for the completed lessons and one for the reader's certificate of the course.
    assert count_queries(client, "/") == anonymous["/"] + 3 + 1 + 1
    assert count_queries(client, "/courses/asyncio/") == anonymous["/courses/asyncio/"] + 3 + 2 + 1


# The header


def test_the_header_links_to_the_leaderboard_and_how_xp_works_and_a_learners_progress(client, learner):
    header = re.search(r'<nav class="site-nav".*?</nav>', client.get("/").content.decode(), re.S).group()
    assert [text(link) for link in re.findall(r"<a [^>]*>.*?</a>", header)] == [
        "Courses",
        "Leaderboard",
        "How XP works",
    ]
    client.force_login(learner)
    header = re.search(r'<nav class="site-nav".*?</nav>', client.get("/leaderboard/").content.decode(), re.S).group()
    assert '<a href="/me/">My progress</a>' in header
    assert '<a href="/leaderboard/" aria-current="page">Leaderboard</a>' in header


def test_my_progress_shows_only_my_own_activity_and_achievements(signed_in, learner, achievements):
    other = UserFactory()
    ActivityDay.objects.create(learner=other, day=today_in(learner.time_zone), completions=2)
    Unlock.objects.create(learner=other, achievement=achievements[0], unlocked_at=timezone.now())
    entry(other, 40, at=timezone.now())
    html = main_html(signed_in.get("/me/"))
    assert heatmap_squares(html)[today_in(learner.time_zone)][0] == "heat-0"
    assert "0 of 4 unlocked" in text(section(html, "achievements-title"))
    assert "Unlocked on" not in html
    assert "No XP yet" in text(section(html, "history-title"))


def test_a_completed_lesson_turned_back_into_a_draft_no_longer_counts_on_course_pages(signed_in, learner):
    _, lessons = make_course_with_completions(learner, 3)  # lessons 1 and 3 completed
    lessons[2].status = Status.DRAFT
    lessons[2].save()
    assert "1 of 2 lessons complete (50%)" in text(main_html(signed_in.get("/courses/asyncio/")))
    assert "1 of 2 lessons complete (50%)" in text(main_html(signed_in.get("/")))
    assert "1 of 2 lessons complete (50%)" in text(section(main_html(signed_in.get("/me/")), "courses-title"))


def test_the_course_page_ticks_only_the_readers_own_completions(client, learner):
    make_course_with_completions(UserFactory(), 2)
    client.force_login(learner)
    html = main_html(client.get("/courses/asyncio/"))
    assert "✓" not in html and "0 of 2 lessons complete (0%)" in text(html)


def test_xp_from_next_monday_00_00_utc_counts_for_next_week(db):
    from progress.selectors import leaderboard

    week = Week.of(datetime(2026, 11, 18, tzinfo=UTC))
    ada = UserFactory(display_name="Ada")
    entry(ada, 30, at=week.end - timedelta(microseconds=1))
    entry(ada, 500, at=week.end)
    entry(ada, 700, at=week.start - timedelta(microseconds=1))
    board = leaderboard(week=week, ladder=[], reader=None)
    assert [(leader.display_name, leader.xp) for leader in board.leaders] == [("Ada", 30)]


def test_how_xp_works_tells_only_visitors_that_their_progress_stays_in_the_browser(client, learner):
    assert "kept in this browser only" in text(main_html(client.get("/xp/")))
    client.force_login(learner)
    assert "kept in this browser only" not in text(main_html(client.get("/xp/")))


def test_a_course_without_published_lessons_shows_no_progress_bar(signed_in):
    CourseFactory(title="Coming soon")
    html = main_html(signed_in.get("/"))
    assert "Coming soon" in html and "<progress" not in html


def test_exactly_a_levels_xp_reaches_that_level(signed_in, learner):
    LearnerProgress.objects.create(learner=learner, xp=100)
    overview = text(section(main_html(signed_in.get("/me/")), "overview-title"))
    assert "Level 1 · First Steps" in overview and "0/150 XP to level 2 · Explorer" in overview


def test_the_heatmap_is_as_wide_and_tall_as_its_squares(signed_in):
    html = main_html(signed_in.get("/me/"))
    squares = heatmap_squares(html)
    width, height = (
        int(n) for n in re.search(r'<svg class="heatmap"[^>]* width="(\d+)" height="(\d+)"', html).groups()
    )
    assert width == max(x for _, _, x, _ in squares.values()) + 12
    assert height == 6 * 15 + 12
