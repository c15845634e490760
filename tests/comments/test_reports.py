"""Reporting a problem with a lesson page: from anyone, without JavaScript, and into the staff's inbox."""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from comments import services
from comments.models import Notification, ProblemReport
from courses.models import Status
from tests.factories import LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

THANKS = "Thank you! Your report was sent."


class FormParser(HTMLParser):
    """What a browser without JavaScript would send with the form posting to ``action``: its fields and values."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.fields: dict[str, dict[str, str]] = {}
        self.radios: dict[str, list[str]] = {}
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form" and attrs.get("action") == self.action:
            self.inside = self.found = True
        elif self.inside and tag == "input" and attrs.get("type") == "radio":
            self.radios.setdefault(attrs["name"], []).append(attrs["value"])
        elif self.inside and tag in {"input", "textarea"}:
            self.fields[attrs["name"]] = attrs
            if tag == "textarea":
                self.textarea = attrs["name"]
                attrs["value"] = ""

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea]["value"] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False


def report_form(html: str, lesson) -> FormParser:
    parser = FormParser(report_url(lesson))
    parser.feed(html)
    assert parser.found, "no report form on the page"
    return parser


def report_url(lesson) -> str:
    return f"/comments/lessons/{lesson.pk}/report/"


def last_message(response) -> str:
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


def send(client, lesson, **data):
    values = {"kind": "typo", "message": "There is a typo.", **data}
    return client.post(report_url(lesson), values, REMOTE_ADDR=values.pop("ip", "127.0.0.1"))


@pytest.fixture
def lesson():
    return LessonFactory(title="Hello async world")


# The form on the lesson page


def test_the_lesson_page_offers_the_report_form_before_the_comments(client, lesson):
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "Found a bug or have feedback on this page?" in html and "Report a problem</span></summary>" in html
    assert html.index('id="report-problem"') < html.index('id="comments"')
    assert '<div class="report-problem" id="report-problem">' in html and "<details>" in html
    form = report_form(html, lesson)
    assert form.radios == {"kind": ["typo", "broken_code", "unclear", "other"]}
    assert {"csrfmiddlewaretoken", "message", "email", "website", "section", "selected_text", "lesson_version"} <= set(
        form.fields
    )
    assert form.fields["message"]["maxlength"] == "2000" and "required" in form.fields["message"]
    assert form.fields["email"]["type"] == "email" and "required" not in form.fields["email"]
    trap = form.fields["website"]
    assert trap["autocomplete"] == "off" and trap["tabindex"] == "-1" and trap["value"] == ""
    assert '<div class="visually-hidden" aria-hidden="true">' in html and "Leave this empty" in html
    assert datetime.fromisoformat(form.fields["lesson_version"]["value"]) == lesson.updated_at


def test_a_signed_in_learner_is_not_asked_for_an_address(client, lesson):
    client.force_login(UserFactory())
    form = report_form(client.get(lesson.get_absolute_url()).content.decode(), lesson)
    assert "email" not in form.fields and "message" in form.fields


def test_a_draft_lesson_has_no_report_form_and_takes_no_report_from_a_visitor(client, staff):
    draft = LessonFactory(status=Status.DRAFT, published_at=None)
    assert send(client, draft).status_code == 404
    client.force_login(staff)
    assert 'id="report-problem"' not in client.get(draft.get_absolute_url()).content.decode()
    assert not ProblemReport.objects.exists()


# Sending a report


def test_a_visitor_reports_a_problem_without_an_account_or_javascript(client, lesson):
    form = report_form(client.get(lesson.get_absolute_url()).content.decode(), lesson)
    data = {name: field.get("value", "") for name, field in form.fields.items()}
    data |= {"kind": "broken_code", "message": "The example raises NameError.", "email": "reader@example.com"}

    response = client.post(report_url(lesson), data)

    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#report-problem"
    assert THANKS in client.get(response["Location"]).content.decode()
    report = ProblemReport.objects.get()
    assert (report.lesson, report.kind, report.message) == (lesson, "broken_code", "The example raises NameError.")
    assert (report.reporter, report.email, report.status) == (None, "reader@example.com", "new")
    assert report.lesson_version == lesson.updated_at
    assert (report.section, report.selected_text) == ("", "")


def test_a_signed_in_reporter_is_known_by_their_account(client, lesson):
    learner = UserFactory()
    client.force_login(learner)
    response = send(client, lesson, email="someone@example.com", section="Start", selected_text="Some words")
    assert last_message(response) == THANKS
    report = ProblemReport.objects.get()
    assert (report.reporter, report.email) == (learner, "")
    assert (report.section, report.selected_text) == ("Start", "Some words")


def test_the_pages_context_is_kept_on_one_line_so_it_cannot_add_lines_to_the_staff_email(client, lesson):
    send(client, lesson, section="Start\r\nFrom: admin@example.com\n\nUrgent", selected_text="Some\nwords")
    report = ProblemReport.objects.get()
    assert (report.section, report.selected_text) == ("Start From: admin@example.com Urgent", "Some words")


def test_the_honeypot_answers_as_if_sent_but_keeps_and_mails_nothing(client, lesson, staff):
    response = send(client, lesson, website="https://cheap.example")
    assert response.status_code == 302 and last_message(response) == THANKS
    assert not ProblemReport.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": ""}, "Choose what kind of problem it is."),
        ({"kind": "praise"}, "Select a valid choice."),
        ({"message": "   "}, "Describe the problem first."),
        ({"message": "x" * 2001}, "at most 2000 characters long (it has 2001)"),
        ({"email": "not an address"}, "Enter a valid email address."),
    ],
)
def test_a_report_the_form_refuses_comes_back_with_the_reason_and_the_text(client, lesson, data, message):
    response = send(client, lesson, section="Start", **{"message": "Keep me", **data})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    typed = data.get("message", "Keep me")
    if typed.strip():
        assert f">{typed}</textarea>" in html
    assert 'name="section" value="Start"' in html
    assert not ProblemReport.objects.exists()


def test_the_context_the_page_sends_is_cut_to_size_not_refused(client, lesson):
    response = send(
        client,
        lesson,
        section="S" * 300,
        selected_text="T\x00" * 600,
        lesson_version="yesterday\x00",
    )
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.section == "S" * 200 and report.selected_text == "T" * 500
    assert report.lesson_version is None


def test_a_lesson_version_without_a_time_zone_is_read_as_utc(client, lesson):
    send(client, lesson, lesson_version="2026-03-01T10:00:00")
    assert ProblemReport.objects.get().lesson_version == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_reports_are_rate_limited_per_address_and_the_text_is_kept(client, lesson):
    for number in range(5):
        assert send(client, lesson, message=f"Report {number}", ip="10.0.0.1").status_code == 302
    refused = send(client, lesson, message="The sixth report", ip="10.0.0.1")
    html = refused.content.decode()
    assert refused.status_code == 429
    assert "Too many reports from your address." in html
    assert ">The sixth report</textarea>" in html
    assert ProblemReport.objects.count() == 5
    assert send(client, lesson, message="From elsewhere", ip="10.0.0.2").status_code == 302
    assert ProblemReport.objects.count() == 6


def test_reporting_needs_the_csrf_token(lesson):
    strict = Client(enforce_csrf_checks=True)
    assert send(strict, lesson).status_code == 403
    assert not ProblemReport.objects.exists()


def test_a_report_is_a_post(client, lesson):
    assert client.get(report_url(lesson)).status_code == 405


def test_hostile_report_text_is_kept_as_text_and_shown_escaped_to_staff(client, staff_client, lesson):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    send(Client(), lesson, message=hostile, section=hostile, selected_text=hostile)
    report = ProblemReport.objects.get()
    assert report.message == hostile
    html = staff_client.get(f"/admin/comments/problemreport/{report.pk}/change/").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# Staff hear of it


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_cache")
def test_staff_are_emailed_about_a_report_by_the_worker(deliver_mail, lesson):
    first, second = StaffFactory(email="editor@example.com"), StaffFactory(email="author@example.com")
    StaffFactory(email="former@example.com", is_active=False)
    UserFactory(email="learner@example.com")
    client = Client()

    send(
        client,
        lesson,
        kind="unclear",
        message="Why does gather not wait?",
        section="Start",
        selected_text="Some words",
        email="reader@example.com",
    )
    assert not mail.outbox
    deliver_mail()

    report = ProblemReport.objects.get()
    [message] = mail.outbox
    assert sorted(message.to) == sorted([first.email, second.email])
    assert "Problem report: Unclear on Hello async world" in message.subject
    for text in (
        "Kind: Unclear",
        "Lesson: Hello async world",
        f"http://testserver{lesson.get_absolute_url()}",
        "Section: Start",
        "Selected text: Some words",
        "Sender: reader@example.com",
        "Why does gather not wait?",
        f"http://testserver/admin/comments/problemreport/{report.pk}/change/",
    ):
        assert text in message.body, text
    assert not message.alternatives


# The inbox in the admin


def make_report(lesson, **fields) -> ProblemReport:
    return ProblemReport.objects.create(lesson=lesson, **{"kind": "typo", "message": "A typo", **fields})


def test_the_inbox_lists_new_then_in_progress_then_done_reports_newest_first(staff_client, lesson):
    done = make_report(lesson, status="done")
    old_new = make_report(lesson)
    working = make_report(lesson, status="in_progress")
    new_new = make_report(lesson)
    response = staff_client.get("/admin/comments/problemreport/")
    assert list(response.context["cl"].result_list) == [new_new, old_new, working, done]
    assert list(staff_client.get("/admin/comments/problemreport/?status__exact=done").context["cl"].result_list) == [
        done
    ]


def test_the_inbox_filters_by_kind_and_lesson(staff_client, lesson):
    typo = make_report(lesson)
    other_lesson = make_report(LessonFactory(), kind="other")
    url = "/admin/comments/problemreport/"
    assert list(staff_client.get(f"{url}?kind__exact=other").context["cl"].result_list) == [other_lesson]
    assert list(staff_client.get(f"{url}?lesson__id__exact={lesson.pk}").context["cl"].result_list) == [typo]


def test_staff_change_only_a_reports_status(staff_client, lesson):
    report = make_report(lesson, section="Start", selected_text="words", email="reader@example.com")
    change = f"/admin/comments/problemreport/{report.pk}/change/"
    html = staff_client.get(change).content.decode()
    assert 'name="status"' in html and 'name="message"' not in html and 'name="section"' not in html
    assert f'href="{lesson.get_absolute_url()}"' in html and "reader@example.com" in html
    staff_client.post(change, {"status": "in_progress", "message": "Rewritten", "section": "Elsewhere"})
    report.refresh_from_db()
    assert (report.status, report.message, report.section) == ("in_progress", "A typo", "Start")
    assert staff_client.get("/admin/comments/problemreport/add/").status_code == 403


def test_marking_a_report_done_notifies_its_signed_in_reporter_once(staff_client, lesson, client):
    learner = UserFactory()
    report = make_report(lesson, reporter=learner)
    change = f"/admin/comments/problemreport/{report.pk}/change/"

    assert staff_client.post(change, {"status": "done"}).status_code == 302
    staff_client.post(change, {"status": "in_progress"})
    staff_client.post(change, {"status": "done"})
    staff_client.post("/admin/comments/problemreport/", {"action": "mark_done", "_selected_action": [report.pk]})

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.report) == (learner, "report_done", report)
    reader = Client()
    reader.force_login(learner)
    html = reader.get("/notifications/").content.decode()
    assert "Your problem report on Hello async world was resolved. Thank you!" in html
    assert reader.get(notification.get_absolute_url())["Location"] == lesson.get_absolute_url()


def test_a_report_from_a_visitor_marked_done_notifies_nobody(lesson):
    report = make_report(lesson, email="reader@example.com")
    services.set_report_status(report=report, status=ProblemReport.Status.DONE)
    assert ProblemReport.objects.get().status == "done"
    assert not Notification.objects.exists()


def test_the_list_actions_set_the_status(staff_client, lesson):
    reports = [make_report(lesson, reporter=UserFactory()) for _ in range(2)]
    url = "/admin/comments/problemreport/"
    staff_client.post(url, {"action": "mark_in_progress", "_selected_action": [reports[0].pk]})
    assert ProblemReport.objects.get(pk=reports[0].pk).status == "in_progress"
    assert not Notification.objects.exists()
    response = staff_client.post(url, {"action": "mark_done", "_selected_action": [r.pk for r in reports]})
    assert last_message(response) == "2 reports updated."
    assert set(ProblemReport.objects.values_list("status", flat=True)) == {"done"}
    assert Notification.objects.filter(kind="report_done").count() == 2
