"""What a report, a flag or a follow did is said beside the control that caused it (issue 17), not at the top of
the page: after a post without the script, the redirect returns to the control's anchor and the page says it
there; the script gets it as JSON, with the id of the region to write it into. And a page that says it is
rendered for its reader alone: never kept in the page cache, never found there by someone else."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from comments.models import Comment, Flag, Follow, ProblemReport
from comments.sanitize import render_comment
from tests.comments.conftest import verified
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

THANKS = "Thank you! Your report was sent."
FLAGGED = "Thank you. A moderator will look at this comment."
FOLLOWING = "You follow this lesson's comments: new comments and replies will be in your notifications."
NOT_FOLLOWING = "You no longer follow this lesson's comments."
REASON_NEEDED = "Say why the comment should be looked at."
JSON = {"HTTP_ACCEPT": "application/json"}


class Regions(HTMLParser):
    """The text inside each element with an id, and the role of that element."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.open: list[str | None] = []
        self.text: dict[str, str] = {}
        self.role: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        element_id = attrs.get("id")
        if element_id:
            self.text.setdefault(element_id, "")
            self.role[element_id] = attrs.get("role") or ""
        self.open.append(element_id)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        for element_id in {element_id for element_id in self.open if element_id}:
            self.text[element_id] += data


def comment_on(lesson, author, body: str = "A comment.") -> Comment:
    return Comment.objects.create(lesson=lesson, author=author, body=body, body_html=render_comment(body))


def report_url(lesson) -> str:
    return f"/comments/lessons/{lesson.pk}/report/"


def report(client, lesson, **data):
    values = {"kind": "typo", "message": "There is a typo.", **data}
    extra = {"REMOTE_ADDR": values.pop("ip", "127.0.0.1"), **values.pop("headers", {})}
    return client.post(report_url(lesson), values, **extra)


def follow(client, lesson, value: str, **headers):
    return client.post(f"/comments/lessons/{lesson.pk}/follow/", {"follow": value}, **headers)


def flag(client, comment, reason: str = "Spam", **headers):
    return client.post(f"/comments/{comment.pk}/flag/", {"reason": reason}, **headers)


@pytest.fixture
def reader(db):
    return verified(UserFactory(display_name="Grace"))


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


# Report a problem


def test_without_the_script_a_report_returns_to_its_anchor_with_the_thanks_beside_the_form(client, lesson):
    response = report(client, lesson)

    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#report-problem"
    page = Regions(client.get(response["Location"]).content.decode())
    assert page.text["report-result"].strip() == THANKS and page.role["report-result"] == "status"
    assert THANKS in page.text["report-problem"]  # inside the anchor the redirect returns to
    assert THANKS not in page.text["messages"]  # not at the top of the page
    assert THANKS not in Regions(client.get(lesson.get_absolute_url()).content.decode()).text["report-result"]


def test_a_bot_is_thanked_in_the_same_place(client, lesson):
    response = report(client, lesson, website="http://spam.example")

    assert response["Location"] == f"{lesson.get_absolute_url()}#report-problem"
    assert Regions(client.get(response["Location"]).content.decode()).text["report-result"].strip() == THANKS
    assert not ProblemReport.objects.exists()


def test_the_script_gets_the_thanks_and_the_region_to_say_it_in(client, lesson):
    response = report(client, lesson, headers=JSON)

    assert response.status_code == 200
    assert response.json() == {"messages": [THANKS], "kind": "success", "region": "report-result"}
    assert ProblemReport.objects.count() == 1
    # Nothing is left to say on the next page: the script has said it.
    page = Regions(client.get(lesson.get_absolute_url()).content.decode())
    assert THANKS not in page.text["report-result"] + page.text["messages"]


def test_the_script_gets_the_marked_form_back_with_what_was_typed(client, lesson):
    response = report(client, lesson, kind="", message="Typed before the mistake", headers=JSON)

    assert response.status_code == 400
    answer = response.json()
    assert answer["region"] == "report-result" and answer["kind"] == "error"
    assert answer["messages"] == ["The report was not sent. Check the fields marked above."]
    assert "Choose what kind of problem it is." in answer["form"]
    assert ">Typed before the mistake</textarea>" in answer["form"]
    assert answer["form"].strip().startswith('<form class="report-form"') and not ProblemReport.objects.exists()


def test_a_rate_limited_report_is_refused_beside_the_form_and_keeps_the_text(client, lesson):
    for number in range(5):
        assert report(client, lesson, message=f"Report {number}", ip="10.0.0.9").status_code == 302

    refused = report(client, lesson, message="The sixth report", ip="10.0.0.9", headers=JSON)

    assert refused.status_code == 429
    answer = refused.json()
    assert answer["messages"][0].startswith("Too many reports from your address.")
    assert (answer["region"], answer["kind"]) == ("report-result", "error")
    assert ">The sixth report</textarea>" in answer["form"]
    # Without the script: the form's own page, the reason beside the form, the text kept.
    page = report(client, lesson, message="The seventh report", ip="10.0.0.9")
    assert page.status_code == 429 and ">The seventh report</textarea>" in page.content.decode()
    assert ProblemReport.objects.count() == 5


# Flag a comment


def test_without_the_script_a_flag_returns_to_the_comment_with_the_thanks_beside_its_actions(
    reader_client, lesson, commenter
):
    flagged = comment_on(lesson, commenter, "Buy cheap watches")
    other = comment_on(lesson, commenter, "A fair question")

    response = flag(reader_client, flagged)

    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#comment-{flagged.pk}"
    html = reader_client.get(response["Location"]).content.decode()
    page = Regions(html)
    region = f"comment-{flagged.pk}-result"
    assert page.text[region].strip() == FLAGGED and page.role[region] == "status"
    assert FLAGGED in page.text[f"comment-{flagged.pk}"]  # the anchor the redirect returns to
    assert FLAGGED not in page.text[f"comment-{other.pk}"] + page.text["messages"]
    assert f'id="comment-{other.pk}-result"' not in html  # no empty region under every comment


def test_a_second_flag_is_answered_beside_the_same_comment(reader_client, lesson, commenter):
    comment = comment_on(lesson, commenter)
    flag(reader_client, comment)
    reader_client.get(lesson.get_absolute_url())  # the first thanks is read

    again = flag(reader_client, comment, reason="Still spam")

    page = Regions(reader_client.get(again["Location"]).content.decode())
    assert page.text[f"comment-{comment.pk}-result"].strip() == "You have already flagged this comment."
    assert FLAGGED not in page.text[f"comment-{comment.pk}-result"]
    assert Flag.objects.count() == 1


def test_the_script_gets_the_flags_outcome_and_the_comments_region(reader_client, lesson, commenter):
    comment = comment_on(lesson, commenter)

    sent = flag(reader_client, comment, **JSON)
    again = flag(reader_client, comment, **JSON)
    empty = flag(reader_client, comment, reason="", **JSON)

    region = f"comment-{comment.pk}-result"
    assert sent.status_code == 200 and sent.json() == {"messages": [FLAGGED], "kind": "success", "region": region}
    assert again.json() == {"messages": ["You have already flagged this comment."], "kind": "info", "region": region}
    assert empty.status_code == 400
    assert empty.json() == {
        "messages": ["Say why the comment should be looked at."],
        "kind": "error",
        "region": region,
    }
    assert Flag.objects.count() == 1


def test_the_lesson_page_holds_the_flag_form_for_the_script_only_for_a_signed_in_reader(
    client, reader, lesson, commenter
):
    comment_on(lesson, commenter)
    assert 'id="flag-form-template"' not in client.get(lesson.get_absolute_url()).content.decode()
    client.force_login(reader)
    html = client.get(lesson.get_absolute_url()).content.decode()
    template = html[html.index('<template id="flag-form-template">') : html.index("</template>")]
    assert 'name="csrfmiddlewaretoken"' in template and 'name="reason"' in template and "data-flag-form" in template


# Follow the lesson's comments


def test_without_the_script_following_returns_to_the_comments_with_the_outcome_beside_the_button(
    reader_client, reader, lesson
):
    response = follow(reader_client, lesson, "1")

    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#comments"
    page = Regions(reader_client.get(response["Location"]).content.decode())
    assert page.text["follow-result"].strip() == FOLLOWING and page.role["follow-result"] == "status"
    assert FOLLOWING in page.text["comments"] and FOLLOWING not in page.text["messages"]
    assert Follow.objects.filter(learner=reader, lesson=lesson).exists()

    response = follow(reader_client, lesson, "0")

    page = Regions(reader_client.get(response["Location"]).content.decode())
    assert page.text["follow-result"].strip() == NOT_FOLLOWING
    assert not Follow.objects.filter(learner=reader, lesson=lesson).exists()


def test_the_script_gets_the_section_the_outcome_and_the_button_to_focus(reader_client, lesson):
    answer = follow(reader_client, lesson, "1", **JSON).json()

    assert (answer["messages"], answer["region"], answer["anchor"]) == ([FOLLOWING], "follow-result", "follow-button")
    section = Regions(answer["html"])
    assert "follow-result" in section.text and section.text["follow-result"] == ""  # the script writes it
    assert 'id="follow-button" aria-pressed="true"' in answer["html"]
    assert follow(reader_client, lesson, "0", **JSON).json()["messages"] == [NOT_FOLLOWING]


def test_posting_a_comment_says_nothing_beside_the_follow_button(reader_client, lesson):
    response = reader_client.post(f"/comments/lessons/{lesson.pk}/", {"body": "Hello"})
    page = Regions(reader_client.get(response["Location"]).content.decode())
    assert page.text["follow-result"] == ""


# The page cache


def test_a_message_beside_a_control_never_reaches_another_readers_page_or_a_later_one(client, lesson, reader):
    def said(page) -> str:
        return " ".join(Regions(page.content.decode()).text.values())

    visitor = Client()
    visitor.get(lesson.get_absolute_url())  # the visitors' copy is in the cache

    assert THANKS in said(client.get(report(client, lesson)["Location"]))

    for page in (visitor.get(lesson.get_absolute_url()), Client().get(lesson.get_absolute_url())):
        assert THANKS not in said(page)
    assert THANKS not in said(client.get(lesson.get_absolute_url()))  # said once

    # A signed-in reader's own copy: the outcome of following is not kept in it either.
    signed_in = Client()
    signed_in.force_login(reader)
    signed_in.get(lesson.get_absolute_url())
    assert FOLLOWING in said(signed_in.get(follow(signed_in, lesson, "1")["Location"]))
    assert FOLLOWING not in said(signed_in.get(lesson.get_absolute_url()))
    assert FOLLOWING not in said(visitor.get(lesson.get_absolute_url()))
