"""Issuing, hiding and revoking certificates.

``issue_completed`` runs when progress announces completions (``progress.events.lessons_completed``, received
in ``certificates.apps``), inside the progress services' transactions, which hold the learner's lock
(``progress.services.lock_progress``, which also makes the learner's cached pages stale); the unique
constraint on (learner, course) keeps it to one certificate even where that lock was forgotten.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Lesson
from progress.models import Completion
from web.page_cache import bump_reader


def issue_completed(*, learner_id: int, course_ids: Iterable[int], at: datetime) -> list[Certificate]:
    """Issue a certificate for each of ``course_ids`` whose every published lesson the learner has completed.

    Returns the certificates issued now: none for a course certified before (even one revoked since).
    Three queries and an insert, however many courses.
    """
    course_ids = set(course_ids)
    course_ids -= set(
        Certificate.objects.filter(learner_id=learner_id, course_id__in=course_ids).values_list("course_id", flat=True)
    )
    if not course_ids:
        return []
    published = Lesson.objects.published().filter(course_id__in=course_ids)
    totals = dict(published.values("course_id").annotate(n=Count("pk")).values_list("course_id", "n"))
    done = dict(
        Completion.objects.filter(learner_id=learner_id, lesson__in=published)
        .values("lesson__course_id")
        .annotate(n=Count("pk"))
        .values_list("lesson__course_id", "n")
    )
    issued = [
        Certificate(learner_id=learner_id, course_id=course_id, issued_at=at, lesson_count=total)
        for course_id, total in sorted(totals.items())
        if done.get(course_id) == total
    ]
    # A parallel transaction that got there first wins; this one then issues nothing more.
    Certificate.objects.bulk_create(issued, ignore_conflicts=True)
    return issued


def set_hidden(certificate: Certificate, *, hidden: bool) -> None:
    """Hide the certificate's page from everyone but its learner, or show it again."""
    certificate.hidden = hidden
    certificate.save(update_fields=["hidden"])  # the save bumps the learner's pages (config.apps.READER_MODELS)


@transaction.atomic
def revoke(certificates: QuerySet[Certificate], *, by, reason: str, at: datetime | None = None) -> int:
    """Revoke the certificates not yet revoked; returns how many. Their pages say so from now on."""
    at = at or timezone.now()
    certificates = certificates.filter(revoked_at__isnull=True)
    learners = list(certificates.values_list("learner_id", flat=True))
    count = certificates.update(revoked_at=at, revoked_by=by, revocation_reason=reason.strip())
    bump_reader(*learners)
    return count


@transaction.atomic
def reinstate(certificates: QuerySet[Certificate]) -> int:
    """Undo the revocation of the certificates that were revoked; returns how many."""
    certificates = certificates.filter(revoked_at__isnull=False)
    learners = list(certificates.values_list("learner_id", flat=True))
    count = certificates.update(revoked_at=None, revoked_by=None, revocation_reason="")
    bump_reader(*learners)
    return count
