"""A draft of changes scheduled for a time is published then by the worker, with no one present."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import formats, timezone
from django_tasks_db.models import DBTaskResult

from courses import revisions
from courses.models import Lesson, LessonRevision, Status
from tests.courses.test_revisions import NEW_BODY, OLD_BODY, change_data, change_url, with_first_revision
from tests.factories import LessonFactory, StaffFactory

pytestmark = pytest.mark.django_db

PAGE = "/courses/asyncio/timeouts/"
NEWER_BODY = "## Start\n\nThe newest words.\n"


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the task's queueing, among others) when the block ends, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def lesson():
    return with_first_revision(LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body=OLD_BODY))


def with_draft(lesson: Lesson, body: str = NEW_BODY) -> Lesson:
    revisions.save_revision(lesson=lesson, content=lesson.content() | {"body": body}, publish=False)
    lesson.refresh_from_db()
    return lesson


def run_due_tasks() -> int:
    """What a worker does when it looks at the queue now: run each task whose time has come; returns how many.

    (The real worker, ``manage.py db_worker``, runs them in the transactional tests at the end.)
    """
    due = list(DBTaskResult.objects.ready())
    for result in due:
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=result.pk).update(status=TaskResultStatus.SUCCESSFUL)
    return len(due)


def read_as_a_learner() -> str:
    return Client().get(PAGE).text


def form_time(moment: datetime, zone: str) -> dict:
    """The schedule's date and time fields as a staff member in ``zone`` types them."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return {"publish_changes_at_0": local.strftime("%Y-%m-%d"), "publish_changes_at_1": local.strftime("%H:%M:%S")}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def history(lesson: Lesson, words: str) -> list[tuple]:
    """The lesson's entries in the admin's history that say ``words``: who, and what."""
    entries = LogEntry.objects.filter(object_id=str(lesson.pk), change_message__contains=words)
    return [(entry.user, entry.get_change_message()) for entry in entries.order_by("action_time", "pk")]


def scheduled_publications(lesson: Lesson) -> list[str]:
    return [message for _user, message in history(lesson, "as scheduled")]


# The schedule and its task


def test_a_scheduled_draft_reaches_learners_when_its_time_comes_and_not_before(lesson, clock, on_commit):
    with_draft(lesson)
    assert "The old words." in read_as_a_learner()  # now in the page cache, as learners read it
    at = timezone.now() + timedelta(seconds=30)
    with on_commit():
        revisions.schedule_draft(lesson=lesson, at=at)

    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.run_after, task.args_kwargs["kwargs"]) == (
        "courses.revisions.publish_scheduled_draft",
        at,
        {"lesson_id": lesson.pk},
    )
    assert run_due_tasks() == 0
    clock.advance(seconds=29)
    revisions.publish_due_draft(lesson_id=lesson.pk)  # a run before its time, were the task early
    assert "The old words." in read_as_a_learner()

    clock.advance(seconds=2)  # less than the page cache's minute: only a stale mark refreshes the page
    assert run_due_tasks() == 1
    page = read_as_a_learner()
    assert "The new words." in page and "The old words." not in page
    lesson.refresh_from_db()
    assert (lesson.revision.number, lesson.draft, lesson.draft_publish_at) == (2, None, None)


def test_a_scheduled_publish_runs_twice_as_once(lesson, clock):
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(seconds=30), by=StaffFactory())
    clock.advance(minutes=1)
    assert revisions.publish_due_draft(lesson_id=lesson.pk).number == 2
    assert revisions.publish_due_draft(lesson_id=lesson.pk) is None
    lesson.refresh_from_db()
    assert lesson.revision.number == 2 and lesson.revisions.count() == 2
    assert scheduled_publications(lesson) == ["Published the draft of changes (revision 2) as scheduled."]


def test_a_draft_scheduled_by_an_account_since_deleted_is_published_all_the_same(lesson, clock):
    author = StaffFactory()
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(seconds=30), by=author)
    author.delete()
    clock.advance(minutes=1)
    assert revisions.publish_due_draft(lesson_id=lesson.pk).number == 2
    assert "The new words." in read_as_a_learner()
    assert scheduled_publications(lesson) == []  # the admin's history needs an account to name


def test_moving_the_time_later_leaves_the_earlier_task_nothing_to_do(lesson, clock, on_commit):
    with_draft(lesson)
    first, later = timezone.now() + timedelta(seconds=30), timezone.now() + timedelta(hours=2)
    with on_commit():
        revisions.schedule_draft(lesson=lesson, at=first)
    with on_commit():
        revisions.schedule_draft(lesson=lesson, at=later)
    assert sorted(DBTaskResult.objects.values_list("run_after", flat=True)) == [first, later]

    clock.advance(minutes=1)
    assert run_due_tasks() == 1  # the first time's task
    lesson.refresh_from_db()
    assert lesson.draft.number == 2 and lesson.draft_publish_at == later
    assert "The old words." in read_as_a_learner()

    clock.advance(hours=2)
    assert run_due_tasks() == 1
    assert "The new words." in read_as_a_learner()


def test_moving_the_time_earlier_publishes_at_the_earlier_time(lesson, clock, on_commit):
    with_draft(lesson)
    with on_commit():
        revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(hours=2))
    with on_commit():
        revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(seconds=30))
    clock.advance(minutes=1)
    assert run_due_tasks() == 1
    assert "The new words." in read_as_a_learner()
    clock.advance(hours=2)
    assert run_due_tasks() == 1  # the later task finds nothing scheduled
    assert lesson.revisions.count() == 2


def test_a_time_that_has_passed_or_a_lesson_without_a_draft_cannot_be_scheduled(lesson):
    with pytest.raises(ValidationError, match="no draft of changes to schedule"):
        revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(hours=1))
    with_draft(lesson)
    with pytest.raises(ValidationError, match="This time has passed"):
        revisions.schedule_draft(lesson=lesson, at=timezone.now() - timedelta(seconds=1))
    lesson.refresh_from_db()
    assert lesson.draft_publish_at is None and not DBTaskResult.objects.exists()


def test_the_database_refuses_a_schedule_without_a_draft(lesson):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(draft_publish_at=timezone.now())


def test_deleting_a_lesson_with_a_scheduled_draft_deletes_it(lesson):
    """The draft's revision goes with the lesson; the schedule must be cleared before the draft, or the
    constraint lesson_schedule_needs_draft refuses the deletion."""
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(hours=1), by=StaffFactory())
    lesson.delete()
    assert not Lesson.objects.exists() and not LessonRevision.objects.exists()


def test_a_draft_whose_revision_is_deleted_loses_its_schedule(lesson):
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(hours=1), by=StaffFactory())
    LessonRevision.objects.filter(pk=lesson.draft_id).delete()
    lesson.refresh_from_db()
    assert (lesson.draft, lesson.draft_publish_at, lesson.draft_scheduled_by) == (None, None, None)
    assert lesson.revision.number == 1


def test_the_command_publishes_every_due_draft_and_nothing_twice(lesson, clock, capsys):
    staff = StaffFactory()
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(seconds=30), by=staff)
    later = with_draft(with_first_revision(LessonFactory(course=lesson.course)))
    revisions.schedule_draft(lesson=later, at=timezone.now() + timedelta(hours=1), by=staff)
    unscheduled = with_draft(with_first_revision(LessonFactory(course=lesson.course)))

    clock.advance(minutes=1)
    call_command("publish_due_drafts")
    assert capsys.readouterr().out == "1 scheduled draft(s) of changes published.\n"
    assert "The new words." in read_as_a_learner()
    later.refresh_from_db()
    unscheduled.refresh_from_db()
    assert later.draft.number == 2 and later.draft_publish_at is not None and unscheduled.draft.number == 2
    assert scheduled_publications(lesson) == ["Published the draft of changes (revision 2) as scheduled."]

    call_command("publish_due_drafts")
    assert capsys.readouterr().out == "0 scheduled draft(s) of changes published.\n"
    assert not DBTaskResult.objects.exists()  # the command works on the lessons, not the queue


# The admin


def test_schedule_changes_saves_the_draft_and_publishes_it_at_the_time_typed_in_the_staff_zone(
    client, lesson, clock, on_commit
):
    author = StaffFactory(time_zone="Asia/Seoul")
    client.force_login(author)
    assert "Schedule changes" in client.get(change_url(lesson)).text
    at = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    with on_commit():
        response = client.post(
            change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "Asia/Seoul")
        )
    assert response.status_code == 302 and response.url == change_url(lesson)
    shown = timezone.localtime(at, zoneinfo.ZoneInfo("Asia/Seoul"))
    when = formats.date_format(shown, "DATETIME_FORMAT")
    assert messages_of(response) == [
        f"Revision 2, the draft of changes, is scheduled for {when}: learners read the published text until then."
    ]
    lesson.refresh_from_db()
    assert (lesson.draft.number, lesson.draft_publish_at, lesson.draft_scheduled_by) == (2, at, author)
    assert history(lesson, "Scheduled") == [
        (author, f"Scheduled the draft of changes (revision 2) for {when} (Asia/Seoul).")
    ]

    form = client.get(change_url(lesson)).text
    assert f'name="publish_changes_at_1" value="{shown:%H:%M:%S}"' in form
    assert "Scheduled: learners read the draft of changes from this time on (time zone: Asia/Seoul)" in form
    assert 'name="_unschedule"' in form
    listing = client.get("/admin/courses/lesson/", {"state": "changes_scheduled"}).text
    assert "On the site; changes scheduled for " in listing and "Timeouts" in listing

    clock.advance(hours=3)
    assert run_due_tasks() == 1
    assert "The new words." in read_as_a_learner()
    assert history(lesson, "as scheduled") == [(author, "Published the draft of changes (revision 2) as scheduled.")]
    assert "changes scheduled" not in client.get("/admin/courses/lesson/").text


def test_a_time_that_has_passed_is_refused_with_what_was_typed_kept(staff_client, lesson):
    mine = "## Start\n\nMy scheduled words.\n"
    past = timezone.now() - timedelta(minutes=5)
    response = staff_client.post(
        change_url(lesson), change_data(lesson, body=mine, _schedule="1") | form_time(past, "UTC")
    )
    assert response.status_code == 200
    assert "This time has passed. Choose a time to come, or publish the changes now." in response.text
    assert "My scheduled words." in response.text
    assert f'value="{past:%H:%M:%S}"' in response.text
    lesson.refresh_from_db()
    assert lesson.revisions.count() == 1 and lesson.draft is None and lesson.draft_publish_at is None

    response = staff_client.post(change_url(lesson), change_data(lesson, body=mine, _schedule="1"))
    assert response.status_code == 200
    assert "Choose when to publish the draft of changes." in response.text and "My scheduled words." in response.text


def test_save_draft_of_changes_keeps_the_schedule_and_the_newest_draft_is_published(
    staff_client, lesson, clock, on_commit
):
    at = timezone.now() + timedelta(hours=1)
    with on_commit():
        staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "UTC"))
    response = staff_client.post(change_url(lesson), change_data(lesson, base=2, body=NEWER_BODY, _continue="1"))
    assert response.status_code == 302
    assert messages_of(response)[-1].startswith("Saved as revision 3, the draft of changes, still scheduled for ")
    lesson.refresh_from_db()
    assert lesson.draft.number == 3 and lesson.draft_publish_at == at.replace(microsecond=0)

    clock.advance(hours=1)
    assert run_due_tasks() == 1
    page = read_as_a_learner()
    assert "The newest words." in page and "The new words." not in page
    lesson.refresh_from_db()
    assert lesson.revision.number == 3 and lesson.draft is None


def test_schedule_changes_moves_the_time_of_a_scheduled_draft(staff_client, lesson, clock, on_commit):
    first, later = timezone.now() + timedelta(minutes=10), timezone.now() + timedelta(hours=5)
    with on_commit():
        staff_client.post(
            change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(first, "UTC")
        )
    with on_commit():
        staff_client.post(
            change_url(lesson), change_data(lesson, base=2, body=NEW_BODY, _schedule="1") | form_time(later, "UTC")
        )
    lesson.refresh_from_db()
    assert lesson.revisions.count() == 2 and lesson.draft_publish_at == later.replace(microsecond=0)

    clock.advance(minutes=11)
    run_due_tasks()
    assert "The old words." in read_as_a_learner()
    clock.advance(hours=5)
    run_due_tasks()
    assert "The new words." in read_as_a_learner()


def test_publish_changes_now_ends_the_schedule(staff_client, lesson, clock, on_commit):
    at = timezone.now() + timedelta(hours=1)
    with on_commit():
        staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "UTC"))
    staff_client.post(change_url(lesson), change_data(lesson, base=2, body=NEWER_BODY, _publish="1"))
    lesson.refresh_from_db()
    assert (lesson.revision.number, lesson.draft, lesson.draft_publish_at) == (3, None, None)

    clock.advance(hours=1)
    assert run_due_tasks() == 1
    lesson.refresh_from_db()
    assert lesson.revision.number == 3 and "The newest words." in read_as_a_learner()
    assert scheduled_publications(lesson) == []


def test_publishing_the_drafts_in_bulk_ends_their_schedules(staff_client, lesson):
    with_draft(lesson)
    revisions.schedule_draft(lesson=lesson, at=timezone.now() + timedelta(hours=1))
    staff_client.post("/admin/courses/lesson/", {"action": "publish_drafts", "_selected_action": [lesson.pk]})
    lesson.refresh_from_db()
    assert (lesson.revision.number, lesson.draft, lesson.draft_publish_at) == (2, None, None)


def test_discarding_the_draft_ends_its_schedule(staff_client, lesson, clock, on_commit):
    at = timezone.now() + timedelta(hours=1)
    with on_commit():
        staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "UTC"))
    staff_client.post(f"/admin/courses/lesson/{lesson.pk}/draft/discard/")
    lesson.refresh_from_db()
    assert (lesson.draft, lesson.draft_publish_at, lesson.draft_scheduled_by) == (None, None, None)

    clock.advance(hours=1)
    assert run_due_tasks() == 1
    lesson.refresh_from_db()
    assert lesson.revision.number == 1 and "The old words." in read_as_a_learner()


def test_cancel_the_schedule_keeps_the_draft_unpublished(staff_client, staff, lesson, clock, on_commit):
    at = timezone.now() + timedelta(hours=1)
    with on_commit():
        staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "UTC"))
    response = staff_client.post(change_url(lesson), change_data(lesson, base=2, body=NEW_BODY, _unschedule="1"))
    assert response.status_code == 302
    assert (
        messages_of(response)[-1] == "The draft of changes is no longer scheduled: it waits for someone to publish it."
    )
    lesson.refresh_from_db()
    assert (lesson.draft.number, lesson.draft_publish_at) == (2, None)
    assert history(lesson, "Cancelled") == [(staff, "Cancelled the scheduled publication of the draft of changes.")]
    assert 'name="_unschedule"' not in staff_client.get(change_url(lesson)).text

    clock.advance(hours=1)
    run_due_tasks()
    assert "The old words." in read_as_a_learner()


def test_schedule_changes_with_nothing_to_schedule_says_so(staff_client, lesson):
    at = timezone.now() + timedelta(hours=1)
    response = staff_client.post(change_url(lesson), change_data(lesson, _schedule="1") | form_time(at, "UTC"))
    assert response.status_code == 302
    assert messages_of(response) == ["This lesson has no draft of changes to schedule. Save your changes first."]
    lesson.refresh_from_db()
    assert lesson.draft_publish_at is None and not history(lesson, "Scheduled") and not DBTaskResult.objects.exists()


def test_only_a_published_lessons_form_offers_a_schedule(staff_client):
    unpublished = with_first_revision(LessonFactory(status=Status.DRAFT, published_at=None))
    form = staff_client.get(change_url(unpublished)).text
    assert "Schedule changes" not in form and "publish_changes_at" not in form


# The real worker


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_cache")
def test_the_worker_publishes_a_scheduled_draft_at_its_time(deliver_mail, clock):
    lesson = with_first_revision(
        LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body=OLD_BODY)
    )
    author = StaffFactory()
    client = Client()
    client.force_login(author)
    at = timezone.now() + timedelta(seconds=30)
    response = client.post(
        change_url(lesson), change_data(lesson, body=NEW_BODY, _schedule="1") | form_time(at, "UTC")
    )
    assert response.status_code == 302
    assert "The old words." in read_as_a_learner()

    deliver_mail()  # the worker runs now: the task is not due
    [task] = DBTaskResult.objects.all()
    assert task.status == TaskResultStatus.READY
    assert "The old words." in read_as_a_learner()

    clock.advance(seconds=31)
    deliver_mail()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert "The new words." in read_as_a_learner()
    assert scheduled_publications(lesson) == ["Published the draft of changes (revision 2) as scheduled."]
    assert LogEntry.objects.filter(user=author, change_message__contains="as scheduled").exists()
