"""A course certificate prints on one A4 or Letter page, without the site's header, footer or navigation."""

import re

import pytest

from certificates.models import Certificate
from progress import services
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("revoked", [False, True], ids=["issued", "revoked"])
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_a_certificate_prints_on_one_page(page, live_server, paper, revoked):
    learner = UserFactory(display_name="Wolfeschlegelsteinhausenbergerdorff Hubert Blaine")
    course = CourseFactory(title="Python asyncio: coroutines, tasks, timeouts, cancellation and task groups")
    lesson = LessonFactory(course=course)
    services.complete_lesson(learner=learner, lesson=lesson)
    certificate = Certificate.objects.get()
    if revoked:
        Certificate.objects.update(revoked_at=certificate.issued_at)
    page.goto(certificate.get_absolute_url())
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".skip-link"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.locator(".certificate-name").is_visible()
    assert pages_in(page.pdf(format=paper)) == 1
