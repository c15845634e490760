"""What a moderator sees and does in the admin: the counts on its home page, dismissing flags, the comment
list's filters and flag reasons, a report's assignee and notes, and the ready-made staff groups."""

import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments import services
from comments.models import Comment, Flag, Notification, ProblemReport
from comments.sanitize import render_comment
from courses import revisions
from courses.models import Status
from tests.comments.conftest import hide
from tests.factories import CourseFactory, LessonFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

COMMENTS = "/admin/comments/comment/"
REPORTS = "/admin/comments/problemreport/"
staff_groups_migration = importlib.import_module("comments.migrations.0004_staff_groups")


def verified(user=None):
    user = user or UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def comment_on(lesson, body: str = "A comment.") -> Comment:
    return Comment.objects.create(lesson=lesson, author=verified(), body=body, body_html=render_comment(body))


def flag(comment: Comment, reason: str = "Spam", learner=None) -> Flag:
    return services.flag_comment(learner=learner or UserFactory(), comment=comment, reason=reason)


def make_report(lesson, **fields) -> ProblemReport:
    return ProblemReport.objects.create(lesson=lesson, **{"kind": "typo", "message": "A typo", **fields})


def last_message(response) -> str:
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


def listed(client, url: str) -> list:
    response = client.get(url)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


OVERVIEW_ROW = re.compile(r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th>\s*<td>(\d+)</td>')


def overview(client) -> dict[str, tuple[int, str]]:
    """The counts of the admin's home page: label → (count, link)."""
    html = client.get("/admin/").content.decode()
    if 'id="staff-overview"' not in html:
        return {}
    box = html[html.index('id="staff-overview"') : html.index("</table>", html.index('id="staff-overview"'))]
    return {label: (int(count), url.replace("&amp;", "&")) for url, label, count in OVERVIEW_ROW.findall(box)}


@pytest.fixture
def lesson():
    return LessonFactory()


@pytest.fixture
def staff_groups():
    """The groups of the data migration. A transactional test empties every table, theirs too: put them back."""
    if Group.objects.filter(name__in=["Author", "Moderator", "Admin"]).count() < 3:
        ContentType.objects.clear_cache()
        staff_groups_migration.create_groups(apps, None)
    return {group.name: group for group in Group.objects.filter(name__in=["Author", "Moderator", "Admin"])}


def member_of(group_name: str, staff_groups) -> Client:
    user = UserFactory(is_staff=True)
    user.groups.add(staff_groups[group_name])
    client = Client()
    client.force_login(user)
    client.user = user
    return client


# The admin's home page


def test_the_admin_home_counts_flagged_comments_new_reports_and_scheduled_lessons_and_changes(staff_client, lesson):
    flagged = comment_on(lesson, "Buy watches")
    flag(flagged)
    flag(flagged, "Advertising")
    hide(flag(comment_on(lesson), "Rude").comment, by=StaffFactory())
    dismissed = flag(comment_on(lesson)).comment
    services.dismiss_flags(comments=Comment.objects.filter(pk=dismissed.pk), moderator=StaffFactory())
    comment_on(lesson, "Never flagged")
    new = [make_report(lesson), make_report(lesson)]
    make_report(lesson, status="in_progress")
    make_report(lesson, status="done")
    soon = timezone.now() + timedelta(days=2)
    scheduled = LessonFactory(course=lesson.course, published_at=soon)
    LessonFactory(course=lesson.course, status=Status.DRAFT, published_at=soon)
    changed = LessonFactory(course=lesson.course)
    for changes_of in (changed, LessonFactory(course=lesson.course)):
        revisions.save_revision(lesson=changes_of, content=changes_of.content(), publish=False)
    revisions.schedule_draft(lesson=changed, at=soon)

    counts = overview(staff_client)
    assert {label: count for label, (count, _url) in counts.items()} == {
        "Flagged comments": 1,
        "New problem reports": 2,
        "Scheduled lessons": 1,
        "Scheduled changes": 1,
    }
    assert listed(staff_client, counts["Flagged comments"][1]) == [flagged]
    assert set(listed(staff_client, counts["New problem reports"][1])) == set(new)
    assert [row.pk for row in listed(staff_client, counts["Scheduled lessons"][1])] == [scheduled.pk]
    assert [row.pk for row in listed(staff_client, counts["Scheduled changes"][1])] == [changed.pk]


def test_the_admin_home_counts_in_the_same_queries_for_1_and_30_rows(staff_client, django_assert_max_num_queries):
    lesson = LessonFactory(published_at=timezone.now() + timedelta(days=1))
    flag(comment_on(lesson))
    make_report(lesson)
    staff_client.get("/admin/")
    one = queries_of(staff_client, "/admin/")
    for _ in range(29):
        flag(comment_on(lesson))
        make_report(lesson)
        LessonFactory(course=lesson.course, published_at=lesson.published_at)
    with django_assert_max_num_queries(one):
        assert staff_client.get("/admin/").status_code == 200
    assert overview(staff_client)["Flagged comments"][0] == 30


# Dismissing flags


def dismiss_in_admin(client, *comments: Comment):
    return client.post(COMMENTS, {"action": "dismiss_flags", "_selected_action": [comment.pk for comment in comments]})


def test_a_moderator_dismisses_flags_and_the_dismissal_is_recorded(staff_client, staff, lesson, client):
    comment = comment_on(lesson, "A fair point, strongly put")
    flagger = verified()
    flag(comment, "Rude", learner=flagger)
    flag(comment, "Rude too")
    assert overview(staff_client)["Flagged comments"][0] == 1

    before = timezone.now()
    response = dismiss_in_admin(staff_client, comment)
    assert response.status_code == 302
    assert last_message(response) == "The flags of 1 comment were dismissed."
    for dismissed in Flag.objects.filter(comment=comment):
        assert dismissed.dismissed_by == staff and before <= dismissed.dismissed_at <= timezone.now()

    assert overview(staff_client)["Flagged comments"][0] == 0
    assert listed(staff_client, f"{COMMENTS}?flagged=yes") == []
    assert listed(staff_client, f"{COMMENTS}?flagged=no") == [comment]
    comment.refresh_from_db()
    assert comment.hidden_at is None
    assert "A fair point, strongly put" in client.get(lesson.get_absolute_url()).content.decode()

    page = staff_client.get(f"{COMMENTS}{comment.pk}/change/").content.decode()
    assert "Rude too" in page and str(staff) in page

    again = dismiss_in_admin(staff_client, comment)
    assert last_message(again) == "The selected comments have no open flags."


def test_a_new_flag_after_a_dismissal_counts_again_even_from_the_same_learner(staff_client, staff, lesson):
    comment = comment_on(lesson)
    flagger = verified()
    flag(comment, "Spam", learner=flagger)
    services.dismiss_flags(comments=Comment.objects.filter(pk=comment.pk), moderator=staff)
    assert overview(staff_client)["Flagged comments"][0] == 0

    flag(comment, "Spam again", learner=flagger)
    assert overview(staff_client)["Flagged comments"][0] == 1
    assert listed(staff_client, f"{COMMENTS}?flagged=yes") == [comment]
    assert Flag.objects.filter(comment=comment).count() == 2
    with pytest.raises(ValidationError, match="already flagged"):
        flag(comment, "Spam a third time", learner=flagger)


def test_one_open_flag_per_learner_and_comment_is_kept_by_the_database(lesson):
    comment, learner = comment_on(lesson), UserFactory()
    Flag.objects.create(comment=comment, learner=learner, reason="Spam", dismissed_at=timezone.now())
    Flag.objects.create(comment=comment, learner=learner, reason="Spam")
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(comment=comment, learner=learner, reason="Spam")


def test_dismissing_counts_comments_and_leaves_hidden_ones_hidden(staff, lesson):
    shown, hidden, quiet = comment_on(lesson), comment_on(lesson), comment_on(lesson)
    for comment in (shown, shown, hidden):
        flag(comment)
    hide(hidden, by=staff)

    assert services.dismiss_flags(comments=Comment.objects.all(), moderator=staff) == 2
    assert services.dismiss_flags(comments=Comment.objects.all(), moderator=staff) == 0
    assert not Flag.objects.open().exists()
    assert Comment.objects.get(pk=hidden.pk).hidden_at is not None
    assert quiet.flags.count() == 0


def test_the_comment_list_puts_comments_with_open_flags_first(staff_client, staff, lesson):
    dismissed, open_once = comment_on(lesson), comment_on(lesson)
    for _ in range(3):
        flag(dismissed)
    services.dismiss_flags(comments=Comment.objects.filter(pk=dismissed.pk), moderator=staff)
    flag(open_once)
    rows = listed(staff_client, COMMENTS)
    assert rows[0] == open_once and (rows[0].flag_count, rows[1].flag_count) == (1, 0)


# Filters and the flag reasons column


def test_the_comment_list_filters_by_course_and_by_lesson(staff_client):
    python, rust = CourseFactory(title="Python"), CourseFactory(title="Rust")
    first, second = LessonFactory(course=python, title="Loops"), LessonFactory(course=python, title="Functions")
    ownership = LessonFactory(course=rust, title="Ownership")
    LessonFactory(course=rust, title="Quiet lesson")
    on_first, on_second, on_ownership = comment_on(first), comment_on(second), comment_on(ownership)

    assert set(listed(staff_client, f"{COMMENTS}?course={python.pk}")) == {on_first, on_second}
    assert listed(staff_client, f"{COMMENTS}?lesson={ownership.pk}") == [on_ownership]
    assert listed(staff_client, f"{COMMENTS}?course={python.pk}&lesson={second.pk}") == [on_second]
    # A tampered value filters nothing rather than failing.
    assert len(listed(staff_client, f"{COMMENTS}?course=x&lesson=%EF%BC%91")) == 3  # a full-width digit one

    def choices(query: str) -> dict[str, list[str]]:
        specs = staff_client.get(f"{COMMENTS}?{query}").context["cl"].filter_specs
        return {str(spec.title): [str(title) for _value, title in spec.lookup_choices] for spec in specs[2:]}

    assert choices("") == {
        "course": ["Python", "Rust"],
        "lesson": ["Python · Loops", "Python · Functions", "Rust · Ownership"],
    }
    assert choices(f"course={rust.pk}")["lesson"] == ["Ownership"]
    # With the counts shown ("Show counts"), each choice is counted too.
    assert staff_client.get(f"{COMMENTS}?_facets=True").status_code == 200


def test_the_comment_list_shows_the_open_flag_reasons(staff_client, staff, lesson):
    comment = comment_on(lesson)
    flag(comment, "Old complaint")
    services.dismiss_flags(comments=Comment.objects.filter(pk=comment.pk), moderator=staff)
    flag(comment, "Spam")
    flag(comment, "  Spam ")
    flag(comment, "<b>Rude</b>")
    html = staff_client.get(COMMENTS).content.decode()
    assert ">Flag reasons</" in html
    assert "<div>Spam (2)</div><div>&lt;b&gt;Rude&lt;/b&gt;</div>" in html
    assert "Old complaint" not in html


def test_the_comment_list_costs_the_same_queries_for_1_and_30_flagged_comments(
    staff_client, django_assert_max_num_queries
):
    course = CourseFactory()
    comment = comment_on(LessonFactory(course=course))
    flag(comment, "Spam")
    url = f"{COMMENTS}?course={course.pk}"
    staff_client.get(url)
    one = queries_of(staff_client, url)
    for number in range(29):
        comment = comment_on(LessonFactory(course=course))
        for reason in ("Spam", "Rude", f"Reason {number}"):
            flag(comment, reason)
    with django_assert_max_num_queries(one):
        response = staff_client.get(url)
    assert response.context["cl"].result_count == 30
    assert "Reason 28" in response.content.decode()


# Problem reports: assignee and internal notes


def test_staff_assign_a_report_and_keep_internal_notes_on_it(staff_client, staff, lesson):
    reporter = UserFactory()
    report = make_report(lesson, reporter=reporter)
    colleague = StaffFactory(email="colleague@example.com")
    change = f"{REPORTS}{report.pk}/change/"
    html = staff_client.get(change).content.decode()
    assert 'name="assignee"' in html and 'name="notes"' in html
    assert f'<option value="{colleague.pk}">colleague@example.com</option>' in html
    assert f'<option value="{reporter.pk}">' not in html, "only staff are offered"
    assert 'id="add_id_assignee"' not in html and 'id="change_id_assignee"' not in html
    assert f'href="/admin/courses/lesson/{lesson.pk}/change/"' in html

    response = staff_client.post(
        change, {"status": "done", "assignee": colleague.pk, "notes": "Fixed in revision 4.", "message": "Changed"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.assignee, report.notes, report.message) == (
        "done",
        colleague,
        "Fixed in revision 4.",
        "A typo",
    )
    # The status still goes through the service that tells the reporter.
    assert Notification.objects.filter(recipient=reporter, report=report, kind="report_done").exists()


def test_a_report_is_assigned_to_staff_only(staff_client, lesson):
    report = make_report(lesson)
    response = staff_client.post(f"{REPORTS}{report.pk}/change/", {"status": "new", "assignee": UserFactory().pk})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    report.refresh_from_db()
    assert report.assignee is None
    with pytest.raises(ValidationError, match="staff members only"):
        services.handle_report(report=report, status="new", assignee=UserFactory(), notes="")


def test_the_report_inbox_filters_by_assignee_and_assigns_to_me(staff_client, staff, lesson):
    mine, theirs, nobodys = make_report(lesson), make_report(lesson), make_report(lesson)
    colleague = StaffFactory()
    services.assign_reports(reports=ProblemReport.objects.filter(pk=theirs.pk), assignee=colleague)
    response = staff_client.post(REPORTS, {"action": "assign_to_me", "_selected_action": [mine.pk]})
    assert last_message(response) == "1 report assigned to you."

    assert listed(staff_client, f"{REPORTS}?assignee=me") == [mine]
    assert listed(staff_client, f"{REPORTS}?assignee=nobody") == [nobodys]
    assert listed(staff_client, f"{REPORTS}?assignee={colleague.pk}") == [theirs]
    assert len(listed(staff_client, f"{REPORTS}?assignee=x")) == 3
    html = staff_client.get(REPORTS).content.decode()
    assert "Assigned to me" in html and "Not assigned" in html


def test_the_internal_notes_stay_out_of_the_reporters_data_export(lesson):
    from accounts import privacy

    reporter = UserFactory()
    make_report(lesson, reporter=reporter, notes="The reporter is wrong here.")
    assert "The reporter is wrong here." not in str(privacy.export_data(user=reporter, base_url="http://testserver"))


# The ready-made groups


def test_a_moderator_moderates_comments_and_reports_but_does_not_author(staff_groups, lesson):
    moderator = member_of("Moderator", staff_groups)
    comment = comment_on(lesson)
    flag(comment)
    make_report(lesson)

    assert moderator.get(COMMENTS).status_code == 200
    assert moderator.get(REPORTS).status_code == 200
    assert moderator.get("/admin/comments/commentban/add/").status_code == 200
    assert moderator.get(f"/admin/courses/lesson/{lesson.pk}/change/").status_code == 200
    assert moderator.get("/admin/courses/lesson/add/").status_code == 403
    assert moderator.get("/admin/courses/course/").status_code == 403
    page = moderator.get(f"{COMMENTS}{comment.pk}/change/")
    assert page.status_code == 200 and "Spam" in page.content.decode()
    assert dismiss_in_admin(moderator, comment).status_code == 302
    assert not Flag.objects.open().exists()
    assert set(overview(moderator)) == {
        "Flagged comments",
        "New problem reports",
        "Scheduled lessons",
        "Scheduled changes",
    }


def test_an_author_writes_lessons_but_does_not_moderate(staff_groups, lesson):
    author = member_of("Author", staff_groups)
    comment = comment_on(lesson)

    assert author.get("/admin/courses/lesson/add/").status_code == 200
    assert author.get(f"/admin/courses/lesson/{lesson.pk}/change/").status_code == 200
    assert author.get("/admin/courses/course/add/").status_code == 200
    assert author.get(COMMENTS).status_code == 403
    response = author.post(COMMENTS, {"action": "hide", "_selected_action": [comment.pk]})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.hidden_at is None
    assert set(overview(author)) == {"Scheduled lessons", "Scheduled changes"}
    assert not author.user.has_perm("courses.delete_lesson")


def test_the_groups_hold_the_permissions_of_their_role(staff_groups):
    def codes(name: str) -> set[str]:
        return {
            f"{app}.{code}"
            for app, code in staff_groups[name].permissions.values_list("content_type__app_label", "codename")
        }

    written = ("course", "lesson", "tag", "lessonlink", "lessonimage")
    assert codes("Author") == {
        *(f"courses.{action}_{model}" for model in written for action in ("add", "change", "view")),
        "courses.view_lessonrevision",
    }
    assert codes("Moderator") == {
        "comments.change_comment", "comments.view_comment",
        "comments.change_flag", "comments.view_flag",
        "comments.add_commentban", "comments.change_commentban", "comments.view_commentban",
        "comments.change_problemreport", "comments.view_problemreport",
        "courses.view_lesson",
    }  # fmt: skip
    admin = codes("Admin")
    for code in (
        "courses.delete_lesson",
        "comments.delete_comment",
        "progress.add_xpentry",
        "certificates.change_certificate",
        "accounts.change_user",
    ):
        assert code in admin, code
    assert {code.split(".")[0] for code in admin} == {"courses", "comments", "progress", "certificates", "accounts"}


def test_the_groups_migration_can_run_again_and_be_reversed(staff_groups):
    moderator = staff_groups["Moderator"]
    extra = moderator.permissions.model.objects.get(codename="delete_comment")
    moderator.permissions.add(extra)
    before = {name: set(group.permissions.all()) for name, group in staff_groups.items()}

    staff_groups_migration.create_groups(apps, None)
    after = {group.name: set(group.permissions.all()) for group in Group.objects.filter(name__in=before)}
    assert after["Author"] == before["Author"] and after["Moderator"] == before["Moderator"]
    assert extra in after["Moderator"], "what an operator added stays"
    assert after["Admin"] >= before["Admin"], "Admin gains the permissions of models added since, loses none"

    staff_groups_migration.delete_groups(apps, SimpleNamespace(connection=connection))
    assert not Group.objects.filter(name__in=before).exists()


def test_the_admin_group_cannot_grant_roles_or_take_over_a_superuser(client):
    """Review finding: the "Admin" group holds every accounts permission, so it could tick "Superuser status"."""
    from django.contrib.auth.models import Group

    admin_member = UserFactory(is_staff=True)
    admin_member.groups.add(Group.objects.get(name="Admin"))
    superuser = StaffFactory()
    learner = UserFactory()
    client.force_login(admin_member)

    page = client.get(f"/admin/accounts/user/{learner.pk}/change/").text
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    client.post(
        f"/admin/accounts/user/{admin_member.pk}/change/",
        {"email": admin_member.email, "is_active": "on", "is_superuser": "on", "groups": [1, 2, 3]},
    )
    admin_member.refresh_from_db()
    assert not admin_member.is_superuser
    assert client.get(f"/admin/accounts/user/{superuser.pk}/change/").status_code in {200, 403}
    response = client.post(
        f"/admin/accounts/user/{superuser.pk}/change/", {"email": "taken@example.com", "is_active": "on"}
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.email != "taken@example.com"
    assert client.post(f"/admin/accounts/user/{superuser.pk}/password/", {}).status_code == 403
