"""Authors change a published lesson without surprising its learners: drafts of changes, revisions, diff, restore."""

import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.test import Client

from comments.models import ProblemReport
from courses.models import Lesson, LessonRevision, Status
from courses.revisions import diff, save_revision
from tests.factories import LessonFactory, StaffFactory
from tests.progress.test_concurrency import signed_in_opener

pytestmark = pytest.mark.django_db

OLD_BODY = "## Start\n\nThe old words.\n\nA line that stays.\n"
NEW_BODY = "## Start\n\nThe new words.\n\nA line that stays.\n"


def with_first_revision(lesson: Lesson) -> Lesson:
    save_revision(lesson=lesson, content=lesson.content(), publish=True)
    lesson.refresh_from_db()
    return lesson


@pytest.fixture
def lesson():
    return with_first_revision(LessonFactory(course__slug="asyncio", slug="timeouts", title="Timeouts", body=OLD_BODY))


def change_data(lesson: Lesson, *, base: int | None = None, links: list[dict] = (), **overrides) -> dict:
    """The lesson's change form as the admin posts it, with its links as new rows."""
    data = {
        "course": lesson.course_id,
        "title": lesson.title,
        "slug": lesson.slug,
        "position": lesson.position,
        "status": lesson.status,
        "published_at_0": lesson.published_at.strftime("%Y-%m-%d") if lesson.published_at else "",
        "published_at_1": lesson.published_at.strftime("%H:%M:%S") if lesson.published_at else "",
        "summary": lesson.summary,
        "body": lesson.body,
        "exercise": lesson.exercise,
        "exercise_starter": lesson.exercise_starter,
        "exercise_checks": lesson.exercise_checks,
        "exercise_xp": lesson.exercise_xp,
        "xp": lesson.xp,
        "base_revision": base if base is not None else (lesson.revision.number if lesson.revision else ""),
        "links-TOTAL_FORMS": len(links),
        "links-INITIAL_FORMS": 0,
        "links-MIN_NUM_FORMS": 0,
        "links-MAX_NUM_FORMS": 1000,
    }
    for index, link in enumerate(links):
        data |= {f"links-{index}-position": index, f"links-{index}-title": link["title"]}
        data[f"links-{index}-url"] = link["url"]
    return data | overrides


def change_url(lesson: Lesson) -> str:
    return f"/admin/courses/lesson/{lesson.pk}/change/"


class FormFields(HTMLParser):
    """What a browser would post from a page's lesson form: each named field with its value."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            if attrs.get("type") not in {"checkbox", "radio"} or "checked" in attrs:
                self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n") if not self.values[self._textarea] else data


def opened_form(client, lesson: Lesson) -> dict[str, str]:
    parser = FormFields()
    parser.feed(client.get(change_url(lesson)).text)
    return {name: value for name, value in parser.values.items() if "__prefix__" not in name}


def test_an_edit_of_a_published_lesson_stays_a_draft_until_it_is_published(staff_client, lesson):
    visitor = Client()
    response = staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _continue="1"), follow=True)
    assert "a draft of changes: learners still read the published text" in response.text
    assert "was changed successfully" not in response.text  # which would read as if it were live

    assert "The old words." in visitor.get("/courses/asyncio/timeouts/").text
    lesson.refresh_from_db()
    assert (lesson.revision.number, lesson.draft.number) == (1, 2)
    assert lesson.body == OLD_BODY and lesson.draft.content["body"] == NEW_BODY.rstrip()

    form = staff_client.get(change_url(lesson)).text
    assert "This form shows a draft of changes: revision 2" in form
    assert "The new words." in form and "The old words." not in form
    preview = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/preview/").text
    assert "Draft of changes — not yet public." in preview and "The new words." in preview
    on_the_site = staff_client.get("/courses/asyncio/timeouts/").text
    assert "Draft of changes — not yet public" in on_the_site and "The old words." in on_the_site

    response = staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, base=2, _publish="1"))
    assert response.status_code == 302
    assert "The new words." in visitor.get("/courses/asyncio/timeouts/").text
    lesson.refresh_from_db()
    assert lesson.draft is None and lesson.revision.number == 2 and lesson.revisions.count() == 2
    assert "Draft of changes" not in staff_client.get("/courses/asyncio/timeouts/").text


def test_publishing_changes_at_once_makes_one_revision_that_learners_read(staff_client, lesson):
    response = staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _publish="1"), follow=True)
    assert "Published revision 2: learners now read it." in response.text
    assert "The new words." in Client().get("/courses/asyncio/timeouts/").text
    assert LessonRevision.objects.filter(lesson=lesson).count() == 2


def test_an_edit_of_an_unpublished_lesson_applies_at_once_and_is_recorded(staff_client):
    lesson = with_first_revision(LessonFactory(status=Status.DRAFT, published_at=None, body=OLD_BODY))
    response = staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, revision_message="Reworded"))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.body == NEW_BODY.rstrip() and "The new words." in lesson.body_html
    assert lesson.draft is None
    assert (lesson.revision.number, lesson.revision.message, lesson.revision.author.is_staff) == (2, "Reworded", True)


def test_saving_without_a_change_makes_no_revision(staff_client, lesson):
    staff_client.post(change_url(lesson), change_data(lesson))
    assert lesson.revisions.count() == 1


def test_links_changed_in_a_draft_reach_learners_only_when_published(staff_client, lesson):
    link = {"title": "asyncio.timeout", "url": "https://docs.python.org/3/library/asyncio-task.html#timeouts"}
    staff_client.post(change_url(lesson), change_data(lesson, links=[link]))
    assert not lesson.links.exists()
    lesson.refresh_from_db()
    assert lesson.draft.content["links"] == [link]
    assert "asyncio.timeout" in staff_client.get(change_url(lesson)).text  # the form shows the draft's links

    staff_client.post(change_url(lesson), change_data(lesson, base=2, links=[link], _publish="1"))
    assert list(lesson.links.values("title", "url")) == [link]
    assert "asyncio.timeout" in Client().get("/courses/asyncio/timeouts/").text


def test_the_revisions_page_shows_what_changed_line_by_line(staff_client, lesson):
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, title="Timeouts, again"))
    page = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/revisions/").text
    assert "Changes from revision 1 to revision 2" in page
    assert '<span class="visually-hidden">removed: </span>The old words.</del>' in page
    assert '<span class="visually-hidden">added: </span>The new words.</ins>' in page
    assert '<span class="visually-hidden">added: </span>Timeouts, again</ins>' in page
    assert "A line that stays." in page  # as context, unmarked
    assert '<ins><span class="visually-hidden">added: </span>A line that stays.' not in page
    assert "Published: learners read it" in page and "Draft of changes" in page


def test_the_diff_of_two_revisions_names_only_the_fields_that_differ():
    old = {"title": "A", "body": "one\ntwo\nthree\n", "links": [{"title": "Docs", "url": "https://a.example"}]}
    new = {"title": "A", "body": "one\n2\nthree\n", "links": []}
    changes = diff(old, new)
    assert [change.name for change in changes] == ["body", "links"]
    assert [(line.kind, line.text) for line in changes[0].lines] == [
        ("same", "one"),
        ("removed", "two"),
        ("added", "2"),
        ("same", "three"),
    ]
    assert [(line.kind, line.text) for line in changes[1].lines] == [("removed", "Docs — https://a.example")]


def test_restoring_a_revision_makes_a_new_draft_and_keeps_the_history(staff_client, lesson):
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _publish="1"))
    response = staff_client.post(f"/admin/courses/lesson/{lesson.pk}/revisions/1/restore/", follow=True)
    assert "Revision 1 is restored as revision 3, a draft of changes" in response.text
    lesson.refresh_from_db()
    assert lesson.body == NEW_BODY.rstrip()  # learners still read revision 2
    assert (lesson.revision.number, lesson.draft.number) == (2, 3)
    assert lesson.draft.content["body"] == OLD_BODY and lesson.draft.origin == LessonRevision.Origin.RESTORE
    assert lesson.draft.restored_from == 1 and lesson.draft.message == ""
    assert "Restored from revision 1" in staff_client.get(f"/admin/courses/lesson/{lesson.pk}/revisions/").text
    assert [revision.content["body"] for revision in lesson.revisions.order_by("number")] == [
        OLD_BODY,
        NEW_BODY.rstrip(),
        OLD_BODY,
    ]


def test_a_restore_needs_a_post_and_the_right_to_change_lessons(client, lesson):
    viewer = StaffFactory(is_superuser=False)
    client.force_login(viewer)
    assert client.post(f"/admin/courses/lesson/{lesson.pk}/revisions/1/restore/").status_code == 403
    assert lesson.revisions.count() == 1


def test_discarding_a_draft_keeps_it_in_the_history(staff_client, lesson):
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY))
    staff_client.post(f"/admin/courses/lesson/{lesson.pk}/draft/discard/")
    lesson.refresh_from_db()
    assert lesson.draft is None and lesson.body == OLD_BODY and lesson.revisions.count() == 2
    assert "The old words." in staff_client.get(change_url(lesson)).text


def test_a_save_over_a_newer_revision_is_refused_with_the_text_kept(staff_client, lesson):
    """Two authors opened the lesson at revision 1; the second to save is told, and loses nothing."""
    other = Client()
    other.force_login(StaffFactory())
    other.post(change_url(lesson), change_data(lesson, body=NEW_BODY))

    mine = "## Start\n\nMy own words.\n"
    response = staff_client.post(change_url(lesson), change_data(lesson, base=1, body=mine))
    assert response.status_code == 200
    assert "This lesson changed since you opened it: revision 2 (learner" in response.text
    assert "My own words." in response.text
    assert 'name="base_revision" value="2"' in response.text
    assert lesson.revisions.count() == 2

    response = staff_client.post(change_url(lesson), change_data(lesson, base=2, body=mine))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.draft.number == 3 and lesson.draft.content["body"] == mine.rstrip()


@pytest.mark.django_db(transaction=True)
def test_two_staff_saving_one_lesson_at_once_lose_no_update(live_server, clean_cache):
    """Both opened revision 1 and save at the same instant: one save is kept, the other is refused and told."""
    lesson = with_first_revision(LessonFactory(body=OLD_BODY))
    openers = [signed_in_opener(live_server, StaffFactory(), change_url(lesson)) for _ in range(2)]
    start = threading.Barrier(2)
    answers: dict[str, tuple[int, str]] = {}

    def save(opener, token: str, words: str) -> None:
        data = change_data(lesson, base=1, body=f"## Start\n\n{words}\n") | {"csrfmiddlewaretoken": token}
        start.wait()
        try:
            with opener.open(
                live_server.url + change_url(lesson), data=urlencode(data).encode(), timeout=60
            ) as answer:
                answers[words] = (answer.status, answer.read().decode())
        except HTTPError as error:
            answers[words] = (error.code, "")

    threads = [
        threading.Thread(target=save, args=(opener, token, f"Words of author {number}."))
        for number, (opener, token) in enumerate(openers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _text in answers.values()) == [200, 302]
    kept = next(words for words, (status, _text) in answers.items() if status == 302)
    refused = next(text for status, text in answers.values() if status == 200)
    assert "This lesson changed since you opened it: revision 2" in refused
    lesson.refresh_from_db()
    assert lesson.revisions.count() == 2 and kept in lesson.draft.content["body"]


def test_a_refused_stale_save_keeps_the_links_as_opened_and_the_second_save_keeps_them(staff_client, lesson):
    """Regression: the form opened before another author's draft lost its links on the refusal, and a second
    save recorded a draft without them."""
    links = [{"title": f"Docs {number}", "url": f"https://docs.example/{number}"} for number in range(3)]
    staff_client.post(change_url(lesson), change_data(lesson, links=links, _publish="1"))
    lesson.refresh_from_db()
    mine = opened_form(staff_client, lesson) | {"body": NEW_BODY, "_continue": "1"}
    assert [mine[f"links-{index}-title"] for index in range(3)] == ["Docs 0", "Docs 1", "Docs 2"]

    other = Client()
    other.force_login(StaffFactory())
    other.post(change_url(lesson), opened_form(other, lesson) | {"body": "## Theirs\n", "_continue": "1"})

    refused = staff_client.post(change_url(lesson), mine)
    assert refused.status_code == 200
    assert "This lesson changed since you opened it: revision 3" in refused.text
    assert "This field is required." not in refused.text
    again = FormFields()
    again.feed(refused.text)
    response = staff_client.post(change_url(lesson), again.values | {"_continue": "1"})
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.draft.content["links"] == links and lesson.draft.content["body"] == NEW_BODY.rstrip()


def test_a_problem_report_names_the_revision_the_reporter_read(staff_client, lesson):
    reader = Client()
    page = reader.get("/courses/asyncio/timeouts/").text
    assert f'name="lesson_revision" value="{lesson.revision_id}"' in page
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY, _publish="1"))

    reader.post(
        f"/comments/lessons/{lesson.pk}/report/",
        {"kind": "typo", "message": "A typo in the old words.", "lesson_revision": lesson.revision_id},
    )
    report = ProblemReport.objects.get()
    assert report.lesson_revision.number == 1
    page = staff_client.get(f"/admin/comments/problemreport/{report.pk}/change/").text
    revision_page = f"/admin/courses/lesson/{lesson.pk}/revisions/1/"
    assert revision_page in page
    assert f"/admin/courses/lesson/{lesson.pk}/change/" in page
    assert "The old words." in staff_client.get(revision_page).text


def test_a_report_naming_another_lessons_revision_keeps_none(lesson):
    other = with_first_revision(LessonFactory())
    Client().post(
        f"/comments/lessons/{lesson.pk}/report/",
        {"kind": "typo", "message": "Wrong.", "lesson_revision": other.revision_id},
    )
    assert ProblemReport.objects.get().lesson_revision is None


def test_bulk_publishing_and_unpublishing_are_recorded_with_who_and_when(staff_client, staff, lesson):
    staff_client.post("/admin/courses/lesson/", {"action": "unpublish", "_selected_action": [lesson.pk]})
    staff_client.post("/admin/courses/lesson/", {"action": "publish", "_selected_action": [lesson.pk]})
    entries = LogEntry.objects.filter(object_id=str(lesson.pk)).order_by("action_time")
    assert [(entry.user_id, entry.get_change_message()) for entry in entries] == [
        (staff.pk, "Unpublished."),
        (staff.pk, "Published."),
    ]


def test_the_drafts_of_selected_lessons_are_published_in_bulk(staff_client, lesson):
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY))
    response = staff_client.post(
        "/admin/courses/lesson/", {"action": "publish_drafts", "_selected_action": [lesson.pk]}, follow=True
    )
    assert "1 draft of changes published." in response.text
    assert "The new words." in Client().get("/courses/asyncio/timeouts/").text


def test_an_import_records_a_revision_for_each_lesson_it_changes(tmp_path: Path):
    demo = Path(__file__).resolve().parents[2] / "content" / "asyncio"
    for source in demo.iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    call_command("import_course", tmp_path, verbosity=0)
    assert set(LessonRevision.objects.values_list("number", "origin")) == {(1, "import")}
    assert not Lesson.objects.filter(revision=None).exists()

    call_command("import_course", tmp_path, verbosity=0)
    assert LessonRevision.objects.count() == 5

    first = tmp_path / "01-async-await.md"
    first.write_text(first.read_text().replace("## ", "## Changed: ", 1))
    call_command("import_course", tmp_path, verbosity=0)
    changed = Lesson.objects.get(slug="async-await")
    assert changed.revision.number == 2 and "Changed: " in changed.body_html
    assert LessonRevision.objects.count() == 6


def test_an_import_that_changes_a_lesson_replaces_its_draft_of_changes(tmp_path: Path, staff_client):
    demo = Path(__file__).resolve().parents[2] / "content" / "asyncio"
    for source in demo.iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    call_command("import_course", tmp_path, verbosity=0)
    lesson = Lesson.objects.get(slug="async-await")
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY))
    lesson.refresh_from_db()
    assert lesson.draft is not None

    first = tmp_path / "01-async-await.md"
    first.write_text(first.read_text().replace("## ", "## Changed: ", 1))
    call_command("import_course", tmp_path, verbosity=0)
    lesson.refresh_from_db()
    assert lesson.draft is None and lesson.revision.number == 3 and lesson.revision.origin == "import"


def test_publishing_an_unchanged_draft_says_it_is_published(staff_client, lesson):
    """Regression: "Publish changes" on the draft as it stood said it was saved as a draft."""
    staff_client.post(change_url(lesson), change_data(lesson, body=NEW_BODY))
    response = staff_client.post(
        change_url(lesson), change_data(lesson, body=NEW_BODY, base=2, _publish="1"), follow=True
    )
    assert "Published revision 2: learners now read it." in response.text
    assert lesson.revisions.count() == 2


def test_a_revisions_page_compares_it_with_the_one_before_it(staff_client, lesson):
    """Regression: the link passed only ?b=N, and the list then compared N with the second newest."""
    for words in ["Second.", "Third."]:
        staff_client.post(change_url(lesson), opened_form(staff_client, lesson) | {"body": words, "_publish": "1"})
    second = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/revisions/2/").text
    compare = f"/admin/courses/lesson/{lesson.pk}/revisions/?a=1&amp;b=2"
    assert f'<a href="{compare}">Compare with the revision before it</a>' in second
    difference = staff_client.get(compare.replace("&amp;", "&")).text
    assert "The old words." in difference and "Second." in difference
    first = staff_client.get(f"/admin/courses/lesson/{lesson.pk}/revisions/1/").text
    assert "Compare with the revision before it" not in first
