"""Come back tomorrow: one evening e-mail, in the learner's language and evening, to a learner whose streak ends
at midnight; never twice a day, never to one who already learned today, and one click turns it off."""

import contextlib
import email.policy
import re
import signal
import threading
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.services import STREAK_REMINDERS_SALT, streak_reminders_unsubscribe_token
from accounts.tasks import queue_email
from comments.notification_mail import unsubscribe_token as comments_unsubscribe_token
from progress import reminders, selectors, services
from progress.models import LearnerProgress, StreakReminder
from tests.factories import CourseFactory, LessonFactory, UserFactory
from web.absolute_urls import site_protocol
from worker.heartbeat import announce_start

pytestmark = pytest.mark.usefixtures("clean_cache")

SEOUL = "Asia/Seoul"
LOS_ANGELES = "America/Los_Angeles"
SEND = "progress.reminders.send_streak_reminder"
ROUND = "progress.reminders.reminder_round"


def move_to(clock, zone: str, at: time) -> datetime:
    """Move the clock forward to the next ``at`` o'clock in ``zone``; returns that moment, in ``zone``."""
    now = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(zone))
    target = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if target <= now:
        target = datetime.combine(now.date() + timedelta(days=1), at, tzinfo=now.tzinfo)
    clock.advance(seconds=(target - now).total_seconds())
    return timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(zone))


def learned_on(learner: User, days: list[date], *, zone: str) -> None:
    """Complete a new lesson at noon (``zone``) on each of ``days``, through the real service."""
    for day in days:
        at = datetime.combine(day, time(12), tzinfo=zoneinfo.ZoneInfo(zone))
        services.complete_lesson(learner=learner, lesson=LessonFactory(published_at=at - timedelta(days=30)), at=at)


def streak_until_yesterday(learner: User, *, days: int, today: date, zone: str) -> None:
    learned_on(learner, [today - timedelta(days=offset) for offset in range(days, 0, -1)], zone=zone)


def make_learner(**fields) -> User:
    """A learner who asked for reminders, with a confirmed address, in Seoul, reading in Korean."""
    fields = {"time_zone": SEOUL, "language": "ko", "email_streak_reminders": True} | fields
    learner = UserFactory(**fields)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def sent_to(learner: User) -> list:
    return [message for message in mail.outbox if message.to == [learner.email]]


@pytest.fixture
def evening(clock):
    """19:00 in Seoul."""
    return move_to(clock, SEOUL, time(19, 0))


@pytest.fixture
def ada(evening):
    """On a 5-day streak that ends at midnight unless she learns today."""
    ada = make_learner(display_name="Ada")
    streak_until_yesterday(ada, days=5, today=evening.date(), zone=SEOUL)
    return ada


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("at", [time(18, 0), time(19, 0), time(20, 59)])
def test_a_learner_in_her_seoul_evening_gets_one_reminder_in_korean(clock, deliver_mail, settings, at):
    settings.SITE_DOMAIN = "stream.example"
    today = move_to(clock, SEOUL, at).date()
    ada = make_learner(display_name="Ada")
    streak_until_yesterday(ada, days=5, today=today, zone=SEOUL)
    course = CourseFactory(title="Async", slug="asyncio", language="ko")
    first, second, _third = (LessonFactory(course=course, position=n, slug=f"l{n}") for n in (1, 2, 3))
    # Her latest completion, yesterday evening: the first lesson of this course.
    services.complete_lesson(learner=ada, lesson=first, at=timezone.now() - timedelta(days=1))
    assert LearnerProgress.objects.get(learner=ada).current_streak == 5

    call_command("send_streak_reminders")
    deliver_mail()

    [message] = mail.outbox
    assert message.to == [ada.email]
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<html lang="ko">' in html
    assert "안녕하세요" in message.body, "the greeting, in Korean"
    assert "계정 설정" in message.body and "계정 설정" in html
    assert "5" in message.subject, "her streak"
    lesson_url = f"{site_protocol()}://stream.example/courses/asyncio/l2/"
    assert lesson_url in message.body, "where she left off: the course's first lesson she has not completed"
    assert f'<a href="{lesson_url}" lang="ko">{second.title}</a>' in html
    sent = message.message()
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = sent["List-Unsubscribe"][1:-1]
    assert unsubscribe_url.startswith(f"{site_protocol()}://stream.example/accounts/reminders/unsubscribe/")
    assert unsubscribe_url in message.body
    assert f'<a href="{unsubscribe_url}">' in html
    assert (
        f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n".encode()
        in message.message(policy=email.policy.SMTP).as_bytes()
    )
    reminder = StreakReminder.objects.get(learner=ada)
    assert (reminder.day, reminder.streak) == (today, 5)
    assert reminder.sent_at is not None

    call_command("send_streak_reminders")
    deliver_mail()
    assert len(mail.outbox) == 1, "once a day"


@pytest.mark.django_db(transaction=True)
def test_the_reminder_names_the_streak_in_the_learners_language(ada, deliver_mail):
    User.objects.filter(pk=ada.pk).update(language="en")

    reminders.queue_reminders()
    deliver_mail()

    [message] = mail.outbox
    assert message.subject == "[Stream] Keep your 5-day streak going today"
    assert "You're on a 5-day streak." in message.body
    assert "before midnight (Asia/Seoul) to make it 6 days." in message.body
    assert "Hello from Stream!" in message.body
    assert "안녕하세요" not in message.body


@pytest.mark.django_db
def test_a_learner_whose_course_is_complete_is_sent_to_the_catalogue(ada, settings):
    settings.SITE_DOMAIN = "stream.example"
    course = CourseFactory(slug="asyncio")
    done = LessonFactory(course=course, position=1)
    services.complete_lesson(learner=ada, lesson=done)

    assert selectors.next_lesson(learner=ada) is None, "the course of her latest completion is complete"
    message = reminders.reminder_email(learner=ada, streak=5, to=ada.email)
    assert f"{site_protocol()}://stream.example/\n" in message.body


@pytest.mark.django_db
@pytest.mark.parametrize("at", [time(17, 59), time(21, 0), time(23, 30), time(3, 0)])
def test_no_reminder_outside_the_learners_evening(clock, at):
    today = move_to(clock, SEOUL, at).date()
    ada = make_learner()
    streak_until_yesterday(ada, days=3, today=today, zone=SEOUL)

    assert reminders.queue_reminders() == []
    assert not StreakReminder.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_the_evening_and_the_days_are_the_learners_own(clock):
    """19:00 in Los Angeles is the next day in UTC (and in Seoul): her yesterday is what counts."""
    evening = move_to(clock, LOS_ANGELES, time(19, 0))
    assert timezone.now().date() != evening.date(), "a UTC date other than hers"
    grace = make_learner(time_zone=LOS_ANGELES, language="en")
    streak_until_yesterday(grace, days=2, today=evening.date(), zone=LOS_ANGELES)
    seoul = make_learner()  # in Seoul it is noon: no reminder
    streak_until_yesterday(seoul, days=2, today=timezone.localdate(timezone=zoneinfo.ZoneInfo(SEOUL)), zone=SEOUL)

    [reminder] = reminders.queue_reminders()

    assert (reminder.learner_id, reminder.day) == (grace.pk, evening.date())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "history",
    [
        pytest.param(lambda today: [today - timedelta(days=2), today - timedelta(days=1), today], id="learned-today"),
        pytest.param(lambda today: [today], id="first-day-today"),
        pytest.param(lambda today: [today - timedelta(days=3), today - timedelta(days=2)], id="streak-ended"),
        pytest.param(lambda today: [], id="never-learned"),
    ],
)
def test_no_reminder_to_a_learner_who_learned_today_or_has_no_streak_to_save(evening, history):
    ada = make_learner()
    learned_on(ada, history(evening.date()), zone=SEOUL)

    assert reminders.queue_reminders() == []


@pytest.mark.django_db
def test_active_today_means_her_today_not_the_servers(clock):
    """At 19:00 in Los Angeles (03:00 the next day in UTC), a lesson at 10:00 her time was today."""
    evening = move_to(clock, LOS_ANGELES, time(19, 0))
    grace = make_learner(time_zone=LOS_ANGELES)
    streak_until_yesterday(grace, days=2, today=evening.date(), zone=LOS_ANGELES)
    services.complete_lesson(
        learner=grace,
        lesson=LessonFactory(),
        at=datetime.combine(evening.date(), time(10), tzinfo=zoneinfo.ZoneInfo(LOS_ANGELES)),
    )

    assert reminders.queue_reminders() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda ada: User.objects.filter(pk=ada.pk).update(email_streak_reminders=False), id="opted-out"),
        pytest.param(lambda ada: EmailAddress.objects.filter(user=ada).update(verified=False), id="unverified"),
        pytest.param(lambda ada: EmailAddress.objects.filter(user=ada).update(primary=False), id="no-primary"),
        pytest.param(lambda ada: User.objects.filter(pk=ada.pk).update(is_active=False), id="inactive"),
    ],
)
def test_no_reminder_to_a_learner_who_cannot_or_will_not_receive_it(ada, change):
    change(ada)
    assert reminders.queue_reminders() == []
    assert not StreakReminder.objects.exists()


@pytest.mark.django_db
def test_reminders_are_off_until_the_learner_asks_for_them(evening):
    ada = UserFactory(time_zone=SEOUL)
    EmailAddress.objects.create(user=ada, email=ada.email, primary=True, verified=True)
    streak_until_yesterday(ada, days=3, today=evening.date(), zone=SEOUL)

    assert ada.email_streak_reminders is False
    assert reminders.queue_reminders() == []


@pytest.mark.django_db
def test_finding_who_to_remind_costs_two_queries_however_many_learners(evening, django_assert_num_queries):
    make_learner()
    streak_until_yesterday(make_learner(), days=2, today=evening.date(), zone=SEOUL)
    with django_assert_num_queries(2):
        assert len(reminders.learners_to_remind(now=timezone.now())) == 1
    for _ in range(10):
        streak_until_yesterday(make_learner(), days=2, today=evening.date(), zone=SEOUL)
        make_learner(time_zone=LOS_ANGELES)  # another time zone, where it is night
    with django_assert_num_queries(2):
        assert len(reminders.learners_to_remind(now=timezone.now())) == 11


@pytest.mark.django_db(transaction=True)
def test_running_the_command_twice_sends_one_email(ada, deliver_mail):
    call_command("send_streak_reminders")
    call_command("send_streak_reminders")
    deliver_mail()
    call_command("send_streak_reminders")
    deliver_mail()

    assert len(sent_to(ada)) == 1
    assert StreakReminder.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path=SEND).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_rounds_at_once_remind_once(ada, deliver_mail, monkeypatch):
    """Both rounds find Ada before either writes: the database's unique constraint is what keeps it to one."""
    found = reminders.learners_to_remind
    both_found = threading.Barrier(2)

    def find_then_wait(**kwargs):
        due = found(**kwargs)
        both_found.wait(10)
        return due

    monkeypatch.setattr(reminders, "learners_to_remind", find_then_wait)
    queued, errors = [], []

    def run_round() -> None:
        try:
            queued.append(len(reminders.queue_reminders()))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_round) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert sorted(queued) == [0, 1]
    assert StreakReminder.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path=SEND).count() == 1
    deliver_mail()
    assert len(sent_to(ada)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "meanwhile",
    [
        pytest.param(lambda ada: services.complete_lesson(learner=ada, lesson=LessonFactory()), id="learned"),
        pytest.param(
            lambda ada: services.complete_exercise(
                learner=ada, lesson=LessonFactory(exercise="Run it.", exercise_checks="assert True")
            ),
            id="passed-an-exercise",
        ),
        pytest.param(lambda ada: User.objects.filter(pk=ada.pk).update(email_streak_reminders=False), id="opted-out"),
        pytest.param(lambda ada: EmailAddress.objects.filter(user=ada).update(verified=False), id="unverified"),
    ],
)
def test_the_task_checks_again_when_it_runs(ada, deliver_mail, meanwhile):
    [reminder] = reminders.queue_reminders()

    meanwhile(ada)
    deliver_mail()

    assert mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.sent_at is None
    assert DBTaskResult.objects.get(task_path=SEND).status == TaskResultStatus.SUCCESSFUL, "checked, nothing to send"
    assert reminders.queue_reminders() == [], "and nobody is reminded again that day"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delay", [timedelta(hours=3, minutes=5), timedelta(hours=6)])
def test_a_reminder_the_worker_gets_to_too_late_is_not_sent(ada, clock, deliver_mail, delay):
    """Queued at 19:00; the worker was down until 22:05 (too close to midnight), or until the next day."""
    reminders.queue_reminders()
    clock.advance(seconds=delay.total_seconds())

    deliver_mail()

    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_task_that_runs_again_sends_once(ada, deliver_mail):
    """The worker died after the task committed and before it was marked done: it is released and runs again."""
    reminders.queue_reminders()
    deliver_mail()
    DBTaskResult.objects.filter(task_path__in=[SEND, "accounts.tasks.send_email"]).update(
        status=TaskResultStatus.READY
    )

    deliver_mail()

    assert len(sent_to(ada)) == 1
    assert DBTaskResult.objects.filter(task_path="accounts.tasks.send_email").count() == 1


def run_a_worker_for_one_task() -> None:
    """The real `manage.py db_worker`, as `make run` starts it (not --batch), until it has run one task."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0", "--max-tasks", "1")
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_queues_the_next_round_and_each_round_queues_the_next(ada, clock, deliver_mail):
    deliver_mail()
    assert not DBTaskResult.objects.filter(task_path=ROUND).exists(), "a batch run keeps no recurring task"
    with transaction.atomic():
        queue_email(message=EmailMessage("Subject", "Body", to=["grace@example.com"]), kind="test")

    run_a_worker_for_one_task()

    [waiting] = DBTaskResult.objects.filter(task_path=ROUND)
    announce_start(worker_id="another-worker")
    assert DBTaskResult.objects.filter(task_path=ROUND).count() == 1, "a second worker finds the round waiting"
    assert waiting.status == TaskResultStatus.READY
    assert abs(waiting.run_after - (timezone.now() + reminders.ROUND_EVERY)) < timedelta(seconds=5)
    deliver_mail()
    assert sent_to(ada) == [], "not before its time"

    clock.advance(minutes=15)
    deliver_mail()

    assert len(sent_to(ada)) == 1, "the round queued Ada's reminder, and the worker sent it"
    assert DBTaskResult.objects.get(id=waiting.id).status == TaskResultStatus.SUCCESSFUL
    [following] = DBTaskResult.objects.filter(task_path=ROUND, status=TaskResultStatus.READY)
    assert following.run_after > timezone.now() + timedelta(minutes=14)


@pytest.mark.django_db(transaction=True)
def test_a_round_that_fails_still_queues_the_next(clock, deliver_mail, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    reminders.schedule_round()
    monkeypatch.setattr(reminders, "queue_reminders", broken)
    clock.advance(minutes=15)

    deliver_mail()

    assert DBTaskResult.objects.get(task_path=ROUND, status=TaskResultStatus.FAILED)
    assert DBTaskResult.objects.filter(task_path=ROUND, status=TaskResultStatus.READY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_scheduling_at_once_leave_one_round_waiting(monkeypatch):
    """Each checks for a waiting round, then queues one: without the lock, both would find none."""
    task_class = type(reminders.reminder_round)
    real_using = task_class.using
    both_checked = threading.Barrier(2)

    def using(task, **options):
        if task.module_path == ROUND:
            # With the lock, the other worker cannot get here until this one has committed: the wait times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait(1)
        return real_using(task, **options)

    monkeypatch.setattr(task_class, "using", using)
    errors = []

    def schedule() -> None:
        try:
            reminders.schedule_round()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert DBTaskResult.objects.filter(task_path=ROUND, status=TaskResultStatus.READY).count() == 1


def checkbox(page: str) -> str:
    """The settings page's reminder checkbox."""
    return re.search(r'<input type="checkbox" name="email_streak_reminders"[^>]*>', page)[0]


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def link(user_id: int) -> str:
    return f"/accounts/reminders/unsubscribe/{streak_reminders_unsubscribe_token(user_id=user_id)}/"


def wants_reminders(user: User) -> bool:
    return User.objects.values_list("email_streak_reminders", flat=True).get(pk=user.pk)


@pytest.mark.django_db(transaction=True)
def test_the_emails_unsubscribe_link_works_signed_out_and_asks_first(ada, deliver_mail):
    reminders.queue_reminders()
    deliver_mail()
    [message] = mail.outbox
    url = re.search(r"https?://[^/]+(/accounts/reminders/unsubscribe/[^/]+/)", message.body)[1]
    client = csrf_client()

    page = client.get(url)

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in page.text
    assert wants_reminders(ada) is True, "opening the link changes nothing: mail scanners open links too"
    form = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrfmiddlewaretoken" '
                     r'value="([^"]+)">', page.text)  # fmt: skip
    assert form[1] == url
    assert ada.email not in page.text

    done = client.post(form[1], {"csrfmiddlewaretoken": form[2]}, follow=True)

    assert done.redirect_chain == [(url, 302)]
    assert "You no longer get streak reminders." in done.text
    assert wants_reminders(ada) is False


@pytest.mark.django_db
def test_the_pages_form_is_refused_without_its_csrf_token(ada):
    assert csrf_client().post(link(ada.pk)).status_code == 403
    assert wants_reminders(ada) is True


@pytest.mark.django_db
def test_a_mail_clients_one_click_post_turns_reminders_off_and_nothing_else(ada):
    before = User.objects.filter(pk=ada.pk).values().get()

    response = csrf_client().post(link(ada.pk), {"List-Unsubscribe": "One-Click", "email_notifications": "on"})

    assert response.status_code == 200
    after = User.objects.filter(pk=ada.pk).values().get()
    assert {key: value for key, value in after.items() if before[key] != value} == {"email_streak_reminders": False}
    csrf_client().post(link(ada.pk), {"List-Unsubscribe": "One-Click"})
    assert wants_reminders(ada) is False, "a second post does not turn it back on"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda ada: streak_reminders_unsubscribe_token(user_id=ada.pk)[:-1], id="cut-short"),
        pytest.param(lambda ada: streak_reminders_unsubscribe_token(user_id=ada.pk)[:-1] + "x", id="changed"),
        pytest.param(lambda ada: comments_unsubscribe_token(user_id=ada.pk), id="the-comment-emails-link"),
        pytest.param(lambda ada: signing.Signer(salt=STREAK_REMINDERS_SALT).sign_object("1"), id="not-an-id"),
        pytest.param(lambda ada: "nonsense", id="nonsense"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_broken_link_is_refused_with_a_page_that_says_so(ada, token, method):
    url = f"/accounts/reminders/unsubscribe/{token(ada)}/"
    response = getattr(csrf_client(), method)(url, {"List-Unsubscribe": "One-Click"} if method == "post" else {})

    assert response.status_code == 400
    assert "This unsubscribe link does not work" in response.text
    assert "turn streak reminders off in your account settings" in response.text
    assert 'href="/accounts/settings/"' in response.text
    assert wants_reminders(ada) is True


@pytest.mark.django_db
def test_the_link_of_a_deleted_account_is_refused(ada):
    url = link(ada.pk)
    ada.delete()
    assert csrf_client().get(url).status_code == 400


@pytest.mark.django_db
def test_the_settings_form_turns_reminders_on_and_off(client):
    ada = UserFactory(time_zone=SEOUL)
    client.force_login(ada)
    page = client.get("/accounts/settings/").text
    assert "E-mail me a reminder in the evening when my streak would end" in page
    assert " checked" not in checkbox(page)
    form = {"display_name": "Ada", "time_zone": SEOUL, "on_leaderboard": "on"}

    saved = client.post("/accounts/settings/", form | {"email_streak_reminders": "on"}, follow=True)
    assert "Your settings are saved." in saved.text
    assert wants_reminders(ada) is True
    assert " checked" in checkbox(client.get("/accounts/settings/").text)

    client.post("/accounts/settings/", form)
    assert wants_reminders(ada) is False


@pytest.mark.django_db(transaction=True)
def test_the_export_has_the_choice_and_the_reminders_and_deletion_removes_them(ada, deliver_mail):
    reminders.queue_reminders()
    deliver_mail()
    client = Client()
    client.force_login(ada)

    data = client.post("/accounts/settings/export/").json()

    assert data["profile"]["email_streak_reminders"] is True
    [reminder] = data["streak_reminders"]
    assert reminder["streak"] == 5
    assert reminder["day"] == timezone.localdate(timezone=zoneinfo.ZoneInfo(SEOUL)).isoformat()
    assert reminder["sent_at"] is not None

    client.post("/accounts/delete/", {"password": "correct horse battery"})
    assert not StreakReminder.objects.exists()
