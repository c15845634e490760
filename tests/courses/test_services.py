"""Changes to lessons that must hold when two staff members act at once (real connections, real locks)."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from courses.models import Lesson, Status
from courses.services import publish_lessons
from tests.factories import LessonFactory

SCHEDULED = datetime(2999, 1, 1, 9, tzinfo=UTC)


def wait_until_a_connection_waits_for_a_lock() -> None:
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first snapshot only
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the publication never waited for the author's edit"
            time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_bulk_publishing_waits_for_an_authors_edit_in_progress_and_keeps_its_schedule():
    """An author schedules a lesson while another publishes it in bulk: it must not go live at once."""
    lesson = LessonFactory(status=Status.DRAFT, published_at=None)

    def publish() -> None:
        try:
            publish_lessons(lessons=Lesson.objects.filter(pk=lesson.pk))
        finally:
            connection.close()

    publisher = threading.Thread(target=publish)
    with transaction.atomic():  # the author's save, not yet committed
        Lesson.objects.filter(pk=lesson.pk).update(published_at=SCHEDULED)
        publisher.start()
        wait_until_a_connection_waits_for_a_lock()
    publisher.join(timeout=30)

    lesson.refresh_from_db()
    assert lesson.status == Status.PUBLISHED
    assert lesson.published_at == SCHEDULED
    assert lesson.is_scheduled()
