"""The XP ledger, lesson completions, passed exercises, levels, achievements and each learner's running totals.

The rules that change these rows live in ``progress.services``; the database constraints here are
what makes them hold under concurrent requests.
"""

from collections.abc import Iterable
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from courses.models import Lesson


class Bilingual:
    """Models with ``<field>_en`` and ``<field>_ko`` columns: ``localized("title")`` is the reader's language."""

    def localized(self, field: str) -> str:
        language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
        return getattr(self, f"{field}_{language}", "") or getattr(self, f"{field}_en")


class LevelQuerySet(models.QuerySet):
    def ladder(self) -> list["Level"]:
        return list(self.order_by("xp_required"))


class Level(Bilingual, models.Model):
    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    xp_required = models.PositiveIntegerField(_("XP required"), unique=True)
    title_en = models.CharField(_("title (English)"), max_length=60)
    title_ko = models.CharField(_("title (Korean)"), max_length=60)

    objects = LevelQuerySet.as_manager()

    class Meta:
        ordering = ["xp_required"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        constraints = [
            # Level 0 starts at 0 XP, so every learner has a level.
            models.CheckConstraint(condition=~Q(number=0) | Q(xp_required=0), name="level_zero_starts_at_zero_xp"),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    @property
    def title(self) -> str:
        return self.localized("title")

    def clean(self) -> None:
        """Level 0 needs 0 XP, and the ladder climbs: a higher number needs more XP than every lower one.

        Equal XP is left to the unique check, which says so itself.
        """
        super().clean()
        if self.number is None or self.xp_required is None:
            return
        if self.number == 0 and self.xp_required != 0:
            raise ValidationError(
                {"xp_required": _("Level 0 is where every learner starts: it needs 0 XP.")}, code="level_zero"
            )
        clashes = Level.objects.exclude(pk=self.pk).filter(
            Q(number__lt=self.number, xp_required__gt=self.xp_required)
            | Q(number__gt=self.number, xp_required__lt=self.xp_required)
        )
        if clashes:
            clash = min(clashes, key=lambda level: abs(level.number - self.number))  # the nearest says it best
            raise ladder_error(*sorted([self, clash], key=lambda level: level.number), field="xp_required")


def ladder_error(lower: Level, higher: Level, *, field: str | None = None) -> ValidationError:
    """The refusal of two levels out of order, on ``field`` or for the whole form."""
    message = _(
        "Each level must need more XP than the levels below it: level %(lower)s needs %(lower_xp)s XP, "
        "level %(higher)s %(higher_xp)s."
    )
    params = {
        "lower": lower.number,
        "lower_xp": lower.xp_required,
        "higher": higher.number,
        "higher_xp": higher.xp_required,
    }
    error = ValidationError(message, code="ladder_order", params=params)
    return ValidationError({field: error}) if field else error


def ladder_out_of_order(levels: Iterable[Level]) -> tuple[Level, Level] | None:
    """The first two levels, in number order, where the higher number needs less XP; None if the ladder climbs."""
    ordered = sorted(levels, key=lambda level: level.number)
    for lower, higher in pairwise(ordered):
        if lower.xp_required > higher.xp_required:
            return lower, higher
    return None


class Rule(models.TextChoices):
    LESSONS_COMPLETED = "lessons_completed", _("Lessons completed")
    COURSES_COMPLETED = "courses_completed", _("Courses completed")
    XP_REACHED = "xp_reached", _("XP reached")
    STREAK_DAYS = "streak_days", _("Days in a row")
    TAG_LESSONS = "tag_lessons", _("Lessons completed with a tag")
    EARLY_BIRD = "early_bird", _("Lessons completed before 07:00")
    NIGHT_OWL = "night_owl", _("Lessons completed from 23:00")
    COMMENTS_WRITTEN = "comments_written", _("Comments written")


class Achievement(Bilingual, models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=60)
    title_ko = models.CharField(_("title (Korean)"), max_length=60)
    description_en = models.CharField(_("description (English)"), max_length=200)
    description_ko = models.CharField(_("description (Korean)"), max_length=200)
    icon = models.CharField(_("icon"), max_length=8, help_text=_("One emoji."))
    rule = models.CharField(_("rule"), max_length=30, choices=Rule)
    threshold = models.PositiveIntegerField(
        _("threshold"),
        default=1,
        help_text=_("How many lessons, courses, XP, days or comments the rule needs."),
    )
    tag = models.SlugField(
        _("tag"),
        max_length=60,
        blank=True,
        allow_unicode=True,
        help_text=_("For the tag rule: the tag's slug, as in /tags/asyncio/ for asyncio."),
    )
    bonus_xp = models.PositiveIntegerField(_("bonus XP"), default=0)
    hidden = models.BooleanField(_("hidden"), default=False, help_text=_("Secret until a learner unlocks it."))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("achievement")
        verbose_name_plural = _("achievements")
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="achievement_threshold_positive"),
            models.CheckConstraint(
                condition=Q(rule=Rule.TAG_LESSONS, tag__gt="") | (~Q(rule=Rule.TAG_LESSONS) & Q(tag="")),
                name="achievement_tag_only_for_tag_rule",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.localized("title")

    @property
    def description(self) -> str:
        return self.localized("description")

    def clean(self) -> None:
        """The database's checks, as messages a form can show: only the tag rule has a tag, and it needs one."""
        super().clean()
        errors = {}
        if self.threshold is not None and self.threshold < 1:
            errors["threshold"] = ValidationError(_("The threshold must be at least 1."), code="threshold")
        if self.rule == Rule.TAG_LESSONS and not self.tag:
            errors["tag"] = ValidationError(
                _("The tag rule counts the lessons with one tag: enter that tag's slug."), code="tag_required"
            )
        elif self.rule in Rule.values and self.rule != Rule.TAG_LESSONS and self.tag:
            errors["tag"] = ValidationError(
                _("Only the tag rule uses a tag: leave it empty for “%(rule)s”."),
                code="tag_unused",
                params={"rule": self.get_rule_display()},
            )
        if errors:
            raise ValidationError(errors)


class LearnerProgressQuerySet(models.QuerySet):
    def lock(self, learner, **add: int) -> "LearnerProgress":
        """The learner's row, created if need be, locked until the end of the transaction: one round trip.

        INSERT … ON CONFLICT DO UPDATE locks the row it finds (as FOR NO KEY UPDATE, which two requests of one
        learner cannot both hold) and returns it; creating, then SELECT … FOR UPDATE, took two. ``add`` adds to
        counters in the same statement (``comments_written=1``), so a change of one counter needs no save.
        """
        fields = self.model._meta.concrete_fields
        fresh = self.model(learner=learner)
        for name, amount in add.items():
            setattr(fresh, name, getattr(fresh, name) + amount)
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(field.column) for field in fields)
        key = quote(self.model._meta.pk.column)
        counters = {quote(self.model._meta.get_field(name).column): int(amount) for name, amount in add.items()}
        updates = [f"{key} = EXCLUDED.{key}", *(f"{col} = {table}.{col} + {n}" for col, n in counters.items())]
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(updates)} RETURNING {columns}"
        )
        values = [field.get_db_prep_save(getattr(fresh, field.attname), connection) for field in fields]
        [progress] = self.raw(sql, values)
        return progress


class LearnerProgress(models.Model):
    """A learner's running totals, kept beside the ledger in the same transactions.

    The row is also the learner's lock: every change to their progress takes it first
    (``LearnerProgress.objects.lock``, through ``progress.services.lock_progress``), so two
    requests of one learner take turns and see each other's counts.
    """

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="progress",
        verbose_name=_("learner"),
    )
    xp = models.IntegerField(_("XP"), default=0)
    current_streak = models.PositiveIntegerField(_("current streak"), default=0)
    best_streak = models.PositiveIntegerField(_("best streak"), default=0)
    last_active_on = models.DateField(_("last day with a completed lesson"), null=True, blank=True)
    early_lessons = models.PositiveIntegerField(_("lessons completed before 07:00"), default=0)
    late_lessons = models.PositiveIntegerField(_("lessons completed from 23:00"), default=0)
    # Counted by the comments app as learners write.
    comments_written = models.PositiveIntegerField(_("comments written"), default=0)

    objects = LearnerProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("learner progress")
        verbose_name_plural = _("learner progress")
        constraints = [models.CheckConstraint(condition=Q(xp__gte=0), name="progress_xp_not_negative")]

    def __str__(self) -> str:
        return str(self.learner)


class Completion(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="completions", verbose_name=_("learner")
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions", verbose_name=_("lesson"))
    completed_at = models.DateTimeField(_("completed"))

    class Meta:
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        constraints = [models.UniqueConstraint(fields=["learner", "lesson"], name="completion_once_per_lesson")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.lesson}"


class ExerciseCompletion(models.Model):
    """A lesson's exercise whose checks the learner's code passed, in their browser: once per learner and lesson.

    The server never runs the code; like "Mark complete", it takes the learner's word (the page's script
    reports the pass). ``progress.services.complete_exercise`` writes it and pays the exercise's XP once.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exercise_completions",
        verbose_name=_("learner"),
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="exercise_completions", verbose_name=_("lesson")
    )
    completed_at = models.DateTimeField(_("passed"))

    class Meta:
        verbose_name = _("passed exercise")
        verbose_name_plural = _("passed exercises")
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="exercise_completion_once_per_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.lesson}"


class SolutionView(models.Model):
    """A learner saw the reference solution of a lesson's exercise: a pass after that pays half its XP.

    Once per learner and lesson, the first time; ``progress.services.show_solution`` writes it.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="solution_views", verbose_name=_("learner")
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="solution_views", verbose_name=_("lesson")
    )
    viewed_at = models.DateTimeField(_("seen"))

    class Meta:
        verbose_name = _("seen solution")
        verbose_name_plural = _("seen solutions")
        constraints = [models.UniqueConstraint(fields=["learner", "lesson"], name="solution_view_once_per_lesson")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.lesson}"


class ActivityDay(models.Model):
    """A day, in the learner's time zone, on which they completed a lesson or passed an exercise (streaks, heatmap)."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_days", verbose_name=_("learner")
    )
    day = models.DateField(_("day"))
    completions = models.PositiveIntegerField(_("lessons completed"), default=0)
    exercises = models.PositiveIntegerField(_("exercises passed"), default=0)

    class Meta:
        ordering = ["day"]
        verbose_name = _("activity day")
        verbose_name_plural = _("activity days")
        constraints = [models.UniqueConstraint(fields=["learner", "day"], name="activity_day_once_per_day")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.day}"


class Unlock(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unlocks", verbose_name=_("learner")
    )
    achievement = models.ForeignKey(Achievement, on_delete=models.CASCADE, related_name="unlocks")
    unlocked_at = models.DateTimeField(_("unlocked"))

    class Meta:
        ordering = ["-unlocked_at"]
        verbose_name = _("unlocked achievement")
        verbose_name_plural = _("unlocked achievements")
        constraints = [models.UniqueConstraint(fields=["learner", "achievement"], name="unlock_once_per_achievement")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.achievement}"


class Reason(models.TextChoices):
    LESSON = "lesson", _("Lesson completed")
    EXERCISE = "exercise", _("Exercise passed")
    ACHIEVEMENT = "achievement", _("Achievement unlocked")
    ADJUSTMENT = "adjustment", _("Adjustment by staff")


class XPEntryQuerySet(models.QuerySet):
    def earned(self):
        """XP the learner earned themselves: staff adjustments do not count toward the leaderboard."""
        return self.exclude(reason=Reason.ADJUSTMENT)

    def history_of(self, learner):
        """The learner's ledger, newest first, with what paid each row: a lesson (and its course) or an achievement."""
        return (
            self.filter(learner_id=learner.pk)
            .select_related("lesson__course", "achievement")
            .only(
                "amount",
                "reason",
                "note",
                "created_at",
                "lesson__title",
                "lesson__slug",
                "lesson__status",
                "lesson__published_at",
                "lesson__course__slug",
                "lesson__course__status",
                "lesson__course__language",
                "achievement__icon",
                "achievement__title_en",
                "achievement__title_ko",
            )
        )


class XPEntry(models.Model):
    """One change of a learner's XP. ``source`` names what paid it; a source pays a learner once."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xp_entries", verbose_name=_("learner")
    )
    amount = models.IntegerField(_("XP"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    source = models.CharField(_("source"), max_length=100)
    lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("lesson")
    )
    achievement = models.ForeignKey(
        Achievement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("achievement"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), db_index=True)

    objects = XPEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("XP entry")
        verbose_name_plural = _("XP ledger")
        constraints = [
            models.UniqueConstraint(fields=["learner", "source"], name="xp_entry_once_per_source"),
            models.CheckConstraint(condition=~Q(amount=0), name="xp_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["learner", "-created_at"], name="xp_entry_learner_history")]

    def __str__(self) -> str:
        return f"{self.learner} {self.amount:+d} ({self.get_reason_display()})"


class StreakReminder(models.Model):
    """An evening's "keep your streak" e-mail to a learner: at most one per learner and day of their calendar.

    ``progress.reminders`` writes the row and queues the e-mail's task in one transaction; the unique constraint
    is what keeps "once a day" when two rounds (two workers, the command run by hand) find the learner at once.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="streak_reminders", verbose_name=_("learner")
    )
    day = models.DateField(_("day"))  # the learner's date, in their time zone
    streak = models.PositiveIntegerField(_("streak"))  # the days in a row the reminder was about
    queued_at = models.DateTimeField(_("queued"))
    # Empty when the check at sending time found no reason to send: the learner learned, or turned reminders off.
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("streak reminder")
        verbose_name_plural = _("streak reminders")
        constraints = [models.UniqueConstraint(fields=["learner", "day"], name="streak_reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.day}"
