"""Changes to courses and lessons that more than one caller makes (admin actions, the importer)."""

from django.db import transaction
from django.db.models import QuerySet

from courses.events import content_changed
from courses.models import Lesson, Status


@transaction.atomic
def publish_lessons(*, lessons: QuerySet[Lesson]) -> int:
    """Publish ``lessons``, all or none; returns how many.

    Each lesson is saved through ``Lesson.save()``, which dates a first publication, so that rule is
    written once. The rows are locked first, so a concurrent edit cannot slip between read and write.
    """
    count = 0
    for lesson in lessons.select_for_update(of=("self",)).order_by("pk"):
        lesson.status = Status.PUBLISHED
        lesson.save(update_fields={"status", "updated_at"})
        count += 1
    return count


@transaction.atomic
def unpublish_lessons(*, lessons: QuerySet[Lesson]) -> int:
    """Turn ``lessons`` back into drafts (their first publication date is kept); returns how many."""
    content_changed.send(sender=__name__)
    return lessons.update(status=Status.DRAFT)
