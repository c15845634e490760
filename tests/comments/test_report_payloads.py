"""Hostile problem reports: what staff read in the admin stays text (their e-mail is plain text)."""

import pytest

from comments.models import ProblemReport
from tests.comments.html_checks import elements
from tests.comments.payloads import PAYLOADS
from tests.factories import LessonFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def test_hostile_reports_are_shown_to_staff_as_text(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "report_problem": False}
    staff = StaffFactory()
    lesson = LessonFactory()
    sent = {name: payload for name, payload in PAYLOADS.items() if "\x00" not in payload and len(payload) <= 2000}
    for name, payload in sent.items():
        fields = {"kind": "other", "message": payload, "section": payload, "selected_text": payload, "email": ""}
        assert client.post(f"/comments/lessons/{lesson.pk}/report/", fields).status_code == 302, name
    assert ProblemReport.objects.count() == len(sent)
    client.force_login(staff)
    pages = [client.get("/admin/comments/problemreport/").text]
    pages += [
        client.get(f"/admin/comments/problemreport/{report.pk}/change/").text for report in ProblemReport.objects.all()
    ]
    for html in pages:
        for tag, attributes in elements(html):
            assert not (attributes.get("id") or "").startswith("pwned"), (tag, attributes)
            assert not [name for name in attributes if name.startswith("on")], (tag, attributes)
            assert not (attributes.get("href") or "").lower().lstrip().startswith(("javascript:", "data:")), attributes
