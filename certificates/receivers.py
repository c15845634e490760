"""What certificates do when progress announces something (progress.events)."""

from django.dispatch import receiver

from certificates.services import issue_completed
from progress.events import lessons_completed


@receiver(lessons_completed, dispatch_uid="certificates:issue")
def issue_for_completions(*, learner_id: int, course_ids, at, **signal_arguments) -> list:
    """The certificates of the courses that the completions just announced made complete."""
    return issue_completed(learner_id=learner_id, course_ids=course_ids, at=at)
