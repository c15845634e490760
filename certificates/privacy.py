"""Certificates' part of a learner's data (accounts.privacy): what it exports. They go with the account."""

from typing import Any
from urllib.parse import urljoin

from accounts.models import User
from accounts.privacy import timestamp
from certificates.models import Certificate


def export(*, user: User, base_url: str) -> dict[str, Any]:
    return {
        "certificates": [
            {
                "course": certificate.course.title,
                "url": urljoin(base_url, certificate.get_absolute_url()),
                "issued_at": timestamp(certificate.issued_at),
                "lessons": certificate.lesson_count,
                "hidden": certificate.hidden,
                "revoked_at": timestamp(certificate.revoked_at),
                "revocation_reason": certificate.revocation_reason,
            }
            for certificate in Certificate.objects.filter(learner=user).select_related("course").order_by("id")
        ],
    }
