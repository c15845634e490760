"""A learner's certificate of a course: issued once, when they have completed every published lesson of it.

The unique constraint on (learner, course) is what makes "once" hold when two completions race; the
public id is the certificate's address, random so that no one can find another learner's by counting.
"""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.models import Course

# 16 random bytes: 22 URL-safe characters.
PUBLIC_ID_BYTES = 16


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


class CertificateQuerySet(models.QuerySet):
    def of(self, learner):
        """The learner's certificates, newest first, with their courses."""
        return self.filter(learner_id=learner.pk).select_related("course").order_by("-issued_at", "-pk")


class Certificate(models.Model):
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=new_public_id, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("learner")
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("course"))
    issued_at = models.DateTimeField(_("issued at"))
    # The course's published lessons when it was issued: lessons added later take nothing away.
    lesson_count = models.PositiveIntegerField(_("lessons"))
    hidden = models.BooleanField(
        _("hidden"), default=False, help_text=_("Hidden by the learner: only they can open its page.")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revocation_reason = models.CharField(_("reason for revocation"), max_length=500, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [models.UniqueConstraint(fields=["learner", "course"], name="certificate_once_per_course")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.course}"

    def get_absolute_url(self) -> str:
        return reverse("certificates:detail", kwargs={"public_id": self.public_id})

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
