"""What the progress app tells the rest of the site, so that it imports none of the apps built on it."""

from django.dispatch import Signal

# Lessons were completed, inside the learner's lock (progress.services.lock_progress) and transaction; sent with
# ``learner_id``, the ``course_ids`` of the lessons and ``at``. A receiver returns the list of what it made of it
# (certificates.apps: the certificates of the courses now complete), which the completion's Outcome carries.
lessons_completed = Signal()


def announce_completions(*, learner_id: int, course_ids: set[int], at) -> list:
    """Send ``lessons_completed``; what its receivers made, in one list."""
    answers = lessons_completed.send(sender=__name__, learner_id=learner_id, course_ids=course_ids, at=at)
    return [made for _receiver, answer in answers for made in answer or []]
