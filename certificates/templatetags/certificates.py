"""The certificate parts of other apps' pages: ``courses`` and ``progress`` templates load these tags."""

from django import template

from certificates.models import Certificate

register = template.Library()


@register.simple_tag(takes_context=True)
def course_certificate(context, course) -> Certificate | None:
    """``{% course_certificate course as certificate %}``: the reader's certificate of ``course``.

    No query for a visitor who is not signed in.
    """
    user = context["request"].user
    if not user.is_authenticated:
        return None
    return Certificate.objects.filter(learner_id=user.pk, course=course).first()


@register.simple_tag(takes_context=True)
def my_certificates(context) -> list[Certificate]:
    """``{% my_certificates as certificates %}``: the signed-in reader's certificates, newest first."""
    return list(Certificate.objects.of(context["request"].user))
