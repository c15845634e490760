"""Come back tomorrow: an evening e-mail to a learner whose streak ends at midnight unless they learn today.

Opt-in (``User.email_streak_reminders``). The worker runs a round every ROUND_EVERY (``reminder_round``, a task
that queues the next one): each round finds the learners whose local time is in the evening (EVENING_STARTS to
EVENING_ENDS, in their own time zone) with a streak that today would extend and no activity yet today, writes one
``StreakReminder`` per learner and day and queues its e-mail task in the same transaction. The row's unique
constraint keeps "once a day" whoever else runs a round at the same time (`manage.py send_streak_reminders`, a
second worker). The task checks again when it runs and sends nothing to a learner who learned meanwhile.

The message is written in the learner's language, names their streak, links to where they left off, and has a
one-click unsubscribe link (RFC 8058): a signed token naming the learner, which works without signing in.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.tasks import TaskResultStatus, task
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from accounts.mail import unsubscribable_email
from accounts.models import User, zone_named
from accounts.services import streak_reminders_unsubscribe_token
from accounts.tasks import queue_email
from progress.models import LearnerProgress, StreakReminder
from progress.selectors import next_lesson
from web.absolute_urls import absolute_url

logger = logging.getLogger(__name__)

# The learner's evening, in their time zone: a round finds them at its start (the rounds are ROUND_EVERY apart),
# and later if the worker was down; three hours leave room for that, and for a learner who opts in at 19:30.
EVENING_STARTS = time(18, 0)
EVENING_ENDS = time(21, 0)
# A reminder the worker only gets to after this (a long queue, a worker that was down) is not sent: it would
# arrive too close to midnight to be of use.
SEND_BEFORE = time(22, 0)
ROUND_EVERY = timedelta(minutes=15)
# The key of the PostgreSQL advisory lock under which a round is scheduled ("STRK"): two workers that start
# together, or two rounds that end together, take turns, so one round waits in the queue.
SCHEDULE_LOCK = 0x5354524B


@dataclass(frozen=True)
class Due:
    """A learner to remind tonight: their own date today, and the streak that ends at their midnight."""

    learner_id: int
    day: date
    streak: int


def in_the_evening(moment: datetime) -> bool:
    """Whether ``moment`` (a local time) is in the evening window in which reminders are queued."""
    return EVENING_STARTS <= moment.time() < EVENING_ENDS


def _evening_zones(*, now: datetime) -> dict[date, list[str]]:
    """The time zones of learners who want reminders where it is evening now, by the date it is there."""
    names = (
        User.objects.filter(email_streak_reminders=True, is_active=True)
        .order_by()
        .values_list("time_zone", flat=True)
        .distinct()
    )
    zones = defaultdict(list)
    for name in names:
        local = timezone.localtime(now, zone_named(name))
        if in_the_evening(local):
            zones[local.date()].append(name)
    return zones


def learners_to_remind(*, now: datetime) -> list[Due]:
    """Who gets a reminder if a round runs at ``now``: two queries, however many learners.

    Learners who asked for reminders, are active and have a confirmed primary address, whose local time is in
    the evening, whose last active day is their yesterday (so today would extend the streak and skipping it
    ends it) and who have not been reminded today. A learner active today, or whose streak already ended, has
    nothing to be reminded of.
    """
    zones = _evening_zones(now=now)
    if not zones:
        return []
    tonight = Q()
    for today, names in zones.items():
        reminded = StreakReminder.objects.filter(learner_id=OuterRef("pk"), day=today)
        tonight |= Q(time_zone__in=names, progress__last_active_on=today - timedelta(days=1)) & ~Exists(reminded)
    rows = (
        User.objects.filter(
            tonight,
            Exists(EmailAddress.objects.filter(user_id=OuterRef("pk"), primary=True, verified=True)),
            email_streak_reminders=True,
            is_active=True,
            progress__current_streak__gte=1,
        )
        .order_by("pk")
        .values_list("pk", "time_zone", "progress__current_streak")
    )
    day_of = {name: today for today, names in zones.items() for name in names}
    return [Due(learner_id=pk, day=day_of[name], streak=streak) for pk, name, streak in rows]


def queue_reminders(*, now: datetime | None = None) -> list[StreakReminder]:
    """Queue tonight's reminders (see ``learners_to_remind``); returns those this call queued.

    Each learner's row and e-mail task are written in one transaction: a learner another round reminded first
    (the row's unique constraint, learner and day) is skipped, so running this twice, or in two workers at once,
    reminds nobody twice; and there is never a row without its task, nor a task without its row.
    """
    now = now or timezone.now()
    queued = []
    for due in learners_to_remind(now=now):
        try:
            with transaction.atomic():
                reminder = StreakReminder.objects.create(
                    learner_id=due.learner_id, day=due.day, streak=due.streak, queued_at=now
                )
                send_streak_reminder.enqueue(reminder_id=reminder.pk)
        except IntegrityError:
            continue  # reminded by another round meanwhile (or the account was deleted)
        queued.append(reminder)
    return queued


def still_due(*, reminder: StreakReminder, progress: LearnerProgress | None, now: datetime) -> bool:
    """Whether the reminder's learner still wants it and still has a streak to save on the reminder's day.

    Not once the learner turned reminders off or was deactivated, learned today (or their streak ended), once
    their day is over (a time zone changed, a queue that waited past midnight), nor after SEND_BEFORE.
    """
    learner = reminder.learner
    local = timezone.localtime(now, learner.zone)
    return (
        learner.is_active
        and learner.email_streak_reminders
        and progress is not None
        and progress.current_streak >= 1
        and progress.last_active_on == reminder.day - timedelta(days=1)
        and local.date() == reminder.day
        and local.time() < SEND_BEFORE
    )


@transaction.atomic
def send_reminder(*, reminder_id: int) -> bool:
    """Queue the e-mail of a reminder if it is still due (``still_due``, checked now); whether it was queued.

    The reminder's row is locked (SELECT … FOR UPDATE) and records the sending in the same transaction as the
    e-mail's task: a task that runs again (its worker died) finds it sent, and the e-mail's idempotency key has
    the mail queue send it once.
    """
    reminder = (
        StreakReminder.objects.select_for_update(of=("self",)).select_related("learner").filter(pk=reminder_id).first()
    )
    if reminder is None or reminder.sent_at is not None:
        return False
    now = timezone.now()
    progress = LearnerProgress.objects.filter(learner_id=reminder.learner_id).first()
    if not still_due(reminder=reminder, progress=progress, now=now):
        return False
    address = (
        EmailAddress.objects.filter(user_id=reminder.learner_id, primary=True, verified=True)
        .values_list("email", flat=True)
        .first()
    )
    if address is None:
        return False
    message = reminder_email(learner=reminder.learner, streak=progress.current_streak, to=address)
    queue_email(message=message, kind="streak_reminder", key=f"streak-reminder-{reminder.pk}")
    reminder.sent_at = now
    reminder.save(update_fields=["sent_at"])
    return True


def reminder_email(*, learner: User, streak: int, to: str) -> EmailMultiAlternatives:
    """The message, in the learner's language: their streak, where to pick up, and how to stop these e-mails."""
    lesson = next_lesson(learner=learner)
    unsubscribe_url = absolute_url(
        reverse(
            "account_unsubscribe_streak_reminders",
            kwargs={"token": streak_reminders_unsubscribe_token(user_id=learner.pk)},
        )
    )
    with translation.override(learner.language):
        return unsubscribable_email(
            templates="progress/email/streak_reminder",
            context={
                "streak": streak,
                "next_streak": streak + 1,
                "time_zone": learner.time_zone,
                "lesson": lesson,
                "continue_url": absolute_url(lesson.get_absolute_url() if lesson else reverse("courses:catalogue")),
                "settings_url": absolute_url(reverse("account_settings")),
            },
            to=to,
            unsubscribe_url=unsubscribe_url,
        )


@task()
def send_streak_reminder(*, reminder_id: int) -> None:
    """The e-mail task of one reminder, queued by ``queue_reminders``; checked when it runs (``send_reminder``)."""
    send_reminder(reminder_id=reminder_id)


@task()
def reminder_round() -> None:
    """The worker's recurring round: queue the reminders due now, then the next round in ROUND_EVERY.

    The next one is queued even when this one failed, so one error does not end the reminders for good.
    """
    try:
        queued = queue_reminders()
        if queued:
            logger.info("Queued %d streak reminder(s).", len(queued))
    finally:
        schedule_round()


@transaction.atomic
def schedule_round(*, after: timedelta = ROUND_EVERY) -> bool:
    """Queue a ``reminder_round`` to run in ``after`` unless one waits in the queue already; whether it queued one.

    Under a transaction-level advisory lock (SCHEDULE_LOCK), so two workers that start together, or two rounds
    that end together, leave one round waiting. A round left RUNNING by a dead worker is put back in the queue
    (worker.heartbeat) and found waiting.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK])
    waiting = DBTaskResult.objects.filter(task_path=reminder_round.module_path, status=TaskResultStatus.READY)
    if waiting.exists():
        return False
    reminder_round.using(run_after=timezone.now() + after).enqueue()
    return True


def schedule_on_worker_start(sender, **kwargs) -> None:
    """``worker.heartbeat.worker_started``: a worker that starts makes sure a round waits in the queue.

    The first round comes ROUND_EVERY after the first worker's start; each round queues the next, and restarts
    leave the waiting one alone.
    """
    schedule_round()
