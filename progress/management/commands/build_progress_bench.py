"""Fill a ``*_bench`` database with learners and their progress for ``make bench``.

1,000 learners and 100,000 XP ledger rows spread over them, as ``progress.services`` would have
written them: a completion for every lesson row, each completion's day in the learner's time zone
(with the streaks it makes), the achievements that the lesson, XP, streak and clock rules unlock on
the way with their bonus rows, and totals equal to each learner's ledger. Where a learner's share of
the rows is more than their completions and unlocks fill, the rest are staff adjustments.

Two learners are there for the bench's signed-in pages: ``HEAVY_EMAIL`` has completed 500 lessons
and unlocked every achievement, ``NEW_EMAIL`` has just signed up. The learners complete the lessons
already in the database (``build_large_site`` makes about 1,500), so run this command after that one.

Running the command again leaves data of the asked size as it is; otherwise (or with ``--force``)
its learners are deleted, with everything of theirs, and built again.
"""

import random
import uuid
from collections import Counter
from datetime import datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from courses.models import Lesson
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
from progress.rules import EARLY_BIRD_BEFORE_HOUR, NIGHT_OWL_FROM_HOUR, Measure

DOMAIN = "progress-bench.invalid"  # every learner of the command, and no one else, has an address here
HEAVY_EMAIL = f"heavy@{DOMAIN}"
NEW_EMAIL = f"new@{DOMAIN}"
LEARNERS = 1000
ROWS = 100_000
HEAVY_COMPLETIONS = 500
# The heavy learner studies every day for 150 days, from 06:00 (an early bird) to 23:00 (a night owl).
HEAVY_DAYS = 150
HEAVY_HOURS = [6, 12, 18, 23]
TIME_ZONES = ["UTC", "Asia/Seoul", "Europe/Berlin", "America/New_York"]
# The rules a replay can measure from its own rows; courses, tags and comments it leaves locked.
REPLAYED_RULES = {Rule.LESSONS_COMPLETED, Rule.XP_REACHED, Rule.STREAK_DAYS, Rule.EARLY_BIRD, Rule.NIGHT_OWL}
ADJUSTMENT_NOTE = "Bench data: a grant by staff."
BATCH_SIZE = 5000
SEED = 20_251_126


class Replay(Measure):
    """One learner's history built in memory, completion by completion, as ``complete_lesson`` writes it.

    Achievements are measured by ``progress.rules`` itself, reading the lesson count from memory.
    """

    def __init__(self, learner: User, achievements: list[Achievement]) -> None:
        super().__init__(LearnerProgress(learner_id=learner.pk))
        self.learner = learner
        self.locked = [achievement for achievement in achievements if achievement.rule in REPLAYED_RULES]
        self.entries: list[XPEntry] = []
        self.completions: list[Completion] = []
        self.unlocks: list[Unlock] = []
        self.days: Counter = Counter()

    @property
    def rows(self) -> int:
        return len(self.entries)

    def lessons_completed(self) -> int:
        return len(self.completions)

    def complete(self, lesson: Lesson, at: datetime) -> None:
        self.completions.append(Completion(learner_id=self.learner.pk, lesson_id=lesson.pk, completed_at=at))
        self.pay(lesson.xp, reason=Reason.LESSON, source=f"lesson:{lesson.pk}", at=at, lesson_id=lesson.pk)
        local = timezone.localtime(at, self.learner.zone)
        self.count_day(local.date())
        self.progress.early_lessons += local.hour < EARLY_BIRD_BEFORE_HOUR
        self.progress.late_lessons += local.hour >= NIGHT_OWL_FROM_HOUR
        while reached := [achievement for achievement in self.locked if self.reached(achievement)]:
            for achievement in reached:
                self.unlock(achievement, at)

    def pay(self, amount: int, *, reason: str, source: str, at: datetime, **details) -> None:
        self.entries.append(
            XPEntry(learner_id=self.learner.pk, amount=amount, reason=reason, source=source, created_at=at, **details)
        )
        self.progress.xp += amount

    def count_day(self, day) -> None:
        """The streak arithmetic of ``services._count_day``."""
        self.days[day] += 1
        last = self.progress.last_active_on
        if last is not None and day <= last:
            return
        self.progress.current_streak = self.progress.current_streak + 1 if last == day - timedelta(days=1) else 1
        self.progress.best_streak = max(self.progress.best_streak, self.progress.current_streak)
        self.progress.last_active_on = day

    def unlock(self, achievement: Achievement, at: datetime) -> None:
        if achievement in self.locked:
            self.locked.remove(achievement)
        self.unlocks.append(Unlock(learner_id=self.learner.pk, achievement_id=achievement.pk, unlocked_at=at))
        if achievement.bonus_xp:
            self.pay(
                achievement.bonus_xp,
                reason=Reason.ACHIEVEMENT,
                source=f"achievement:{achievement.pk}",
                at=at,
                achievement_id=achievement.pk,
            )

    def adjust(self, count: int, rng: random.Random, *, now: datetime) -> None:
        """``count`` small grants by staff, each shortly before one of the learner's completions."""
        for _ in range(count):
            moment = rng.choice(self.completions).completed_at if self.completions else now
            self.pay(
                rng.choice([5, 10, 20]),
                reason=Reason.ADJUSTMENT,
                source=f"adjustment:{uuid.UUID(int=rng.getrandbits(128))}",
                at=moment - timedelta(minutes=rng.randint(1, 600)),
                note=ADJUSTMENT_NOTE,
            )

    def activity_days(self) -> list[ActivityDay]:
        return [ActivityDay(learner_id=self.learner.pk, day=day, completions=n) for day, n in self.days.items()]


def timeline(rng: random.Random, count: int, *, end: datetime) -> list[datetime]:
    """``count`` completion times up to ``end``: a few lessons at a sitting, most days in a row, some breaks."""
    times = [end] if count else []
    while len(times) < count:
        roll = rng.random()
        if roll < 0.6:
            gap = timedelta(minutes=rng.randint(5, 90))
        elif roll < 0.9:
            gap = timedelta(hours=rng.uniform(16, 30))
        else:
            gap = timedelta(days=rng.randint(2, 10))
        times.append(times[-1] - gap)
    return times[::-1]


def replay_within(
    learner: User, achievements: list[Achievement], lessons: list[Lesson], times: list[datetime], budget: int
) -> Replay:
    """The learner's completions of ``lessons`` in turn, as many as keep their ledger within ``budget`` rows."""
    replay = Replay(learner, achievements)
    for done, (lesson, at) in enumerate(zip(lessons, times, strict=True)):
        if replay.rows >= budget:
            break
        replay.complete(lesson, at)
        if replay.rows > budget:
            # The bonus rows of what this completion unlocked went past the budget: stop before it.
            return replay_within(learner, achievements, lessons[:done], times[:done], budget)
    return replay


def shares(total: int, count: int, rng: random.Random) -> list[int]:
    """``total`` split into ``count`` uneven parts (from a fifth of the mean to nearly twice it)."""
    weights = [rng.uniform(0.2, 1.8) for _ in range(count)]
    parts = [int(total * weight / sum(weights)) for weight in weights]
    for n in range(total - sum(parts)):
        parts[n] += 1
    return parts


class Command(BaseCommand):
    help = "Fill the benchmark database (its name must end in _bench) with learners, their XP and completions."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--learners", type=int, default=LEARNERS, help=f"Learners (default {LEARNERS:,}).")
        parser.add_argument("--rows", type=int, default=ROWS, help=f"XP ledger rows (default {ROWS:,}).")
        parser.add_argument("--force", action="store_true", help="Delete and rebuild the learners and their data.")
        parser.add_argument(
            "--throwaway-database",
            metavar="NAME",
            help="Write into this database although its name does not end in _bench (its name, to confirm).",
        )

    def handle(self, *args, learners: int, rows: int, force: bool, throwaway_database: str | None, **options):
        name = connection.settings_dict["NAME"]
        if not name.endswith("_bench") and throwaway_database != name:
            raise CommandError(
                f"The database {name!r} is not a benchmark database: learners are only written into a database "
                "whose name ends in _bench (make bench creates and uses one), or one named by --throwaway-database."
            )
        if learners < 3:
            raise CommandError("At least 3 learners: the heavy one, the new one and one more.")
        ours = User.objects.filter(email__endswith=f"@{DOMAIN}")
        if not force and ours.count() == learners and XPEntry.objects.filter(learner__in=ours).count() == rows:
            self.stdout.write(f"The {learners:,} learners and their {rows:,} XP ledger rows are already there.")
            return
        with transaction.atomic():
            ours.delete()
            self.build(learners=learners, rows=rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Progress in {name}: {learners:,} learners, {rows:,} XP ledger rows, "
                f"{Completion.objects.filter(learner__in=ours).count():,} completions, "
                f"{Unlock.objects.filter(learner__in=ours).count():,} achievements unlocked."
            )
        )

    def build(self, *, learners: int, rows: int) -> None:
        rng = random.Random(SEED)
        now = timezone.now()
        lessons = list(Lesson.objects.published().filter(xp__gt=0).order_by("pk").only("pk", "xp"))
        if not lessons:
            raise CommandError("No published lesson pays XP to complete: run build_large_site first.")
        achievements = list(Achievement.objects.all())
        password = make_password(None)  # unusable: the bench signs its learners in without one
        joined = now - timedelta(days=365)
        heavy, _new, *others = User.objects.bulk_create(
            [
                User(email=HEAVY_EMAIL, display_name="Heavy learner", password=password, date_joined=joined),
                User(email=NEW_EMAIL, display_name="New learner", password=password, date_joined=now),
                *(
                    User(
                        email=f"learner-{n:04d}@{DOMAIN}",
                        display_name=f"Bench learner {n:04d}",
                        time_zone=rng.choice(TIME_ZONES),
                        password=password,
                        date_joined=joined,
                    )
                    for n in range(1, learners - 1)
                ),
            ],
            batch_size=BATCH_SIZE,
        )
        replays = [self.heavy_history(heavy, lessons, achievements, now=now)]
        left = rows - replays[0].rows
        if left < 0:
            raise CommandError(f"The heavy learner alone has {replays[0].rows} ledger rows: ask for more --rows.")
        for learner, budget in zip(others, shares(left, len(others), rng), strict=True):
            start = rng.randrange(len(lessons))
            order = (lessons[start:] + lessons[:start])[:budget]
            end = now - timedelta(days=rng.randint(0, 20), minutes=rng.randint(1, 24 * 60))
            replay = replay_within(learner, achievements, order, timeline(rng, len(order), end=end), budget)
            replay.adjust(budget - replay.rows, rng, now=now)
            replays.append(replay)
        self.write(replays)

    @staticmethod
    def heavy_history(
        learner: User, lessons: list[Lesson], achievements: list[Achievement], *, now: datetime
    ) -> Replay:
        """500 lessons over the 150 days up to yesterday, and then every achievement the replay left locked."""
        order = lessons[:HEAVY_COMPLETIONS]
        first_day = timezone.localdate(now, learner.zone) - timedelta(days=HEAVY_DAYS)
        sittings = [
            datetime.combine(first_day + timedelta(days=day), time(hour), tzinfo=learner.zone)
            for day in range(HEAVY_DAYS)
            for hour in HEAVY_HOURS
        ]
        times = [sittings[n * len(sittings) // len(order)] + timedelta(minutes=n % 60) for n in range(len(order))]
        replay = Replay(learner, achievements)
        for lesson, at in zip(order, times, strict=True):
            replay.complete(lesson, at)
        unlocked = {unlock.achievement_id for unlock in replay.unlocks}
        for achievement in achievements:
            if achievement.pk not in unlocked:
                replay.unlock(achievement, times[-1])
        return replay

    @staticmethod
    def write(replays: list[Replay]) -> None:
        XPEntry.objects.bulk_create([entry for replay in replays for entry in replay.entries], batch_size=BATCH_SIZE)
        Completion.objects.bulk_create([c for replay in replays for c in replay.completions], batch_size=BATCH_SIZE)
        Unlock.objects.bulk_create([unlock for replay in replays for unlock in replay.unlocks], batch_size=BATCH_SIZE)
        ActivityDay.objects.bulk_create(
            [day for replay in replays for day in replay.activity_days()], batch_size=BATCH_SIZE
        )
        # A learner without a single ledger row has no progress row yet, as after signing up.
        LearnerProgress.objects.bulk_create(
            [replay.progress for replay in replays if replay.entries], batch_size=BATCH_SIZE
        )
