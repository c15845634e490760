"""Comments with the page's script: posted without a reload, previewed, and tied to a code block."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from comments.models import Comment, CommentBan, ProblemReport
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


def signed_in(page, learner) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill("correct horse battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_url("**/")


def test_a_learner_comments_on_a_code_block_without_a_reload(page):
    learner = UserFactory(display_name="Ada")
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    lesson = LessonFactory(
        course__slug="asyncio",
        slug="one",
        body='## Start\n\n```python title="Hello"\nprint(1)\n```\n\n```python title="Second"\nprint(2)\n```\n',
    )
    signed_in(page, learner)
    page.goto(lesson.get_absolute_url())
    url = page.url
    second = page.locator("figure.code-block").nth(1)
    second.get_by_role("button", name="Comment on this code").click()
    form = page.locator("#new-comment")
    expect(form.get_by_text("About the code block: Second")).to_be_visible()
    expect(form.get_by_label("Your comment")).to_be_focused()
    form.get_by_label("Your comment").fill("Why *print*?")
    form.get_by_role("button", name="Preview").click()
    expect(form.locator("[data-preview] em")).to_have_text("print")
    form.get_by_role("button", name="Post comment").click()

    comment = page.locator(".comment").first
    expect(comment.get_by_text("Why print?")).to_be_visible()
    expect(comment.get_by_role("link", name="Second")).to_have_attribute("href", "#code-2")
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    expect(page.locator("figure.code-block").nth(1).locator(".code-comment-control")).to_contain_text("1")
    assert page.url == url  # no reload
    stored = Comment.objects.get()
    assert (stored.code_block, stored.code_block_title, stored.author) == (2, "Second", learner)


def test_a_refused_comment_keeps_its_text_and_says_why(browser, live_server):
    """The refusal is a 403, which the browser logs: this test has a page of its own, without the console check."""
    page = browser.new_context(base_url=live_server.url).new_page()
    learner = UserFactory()
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    signed_in(page, learner)
    page.goto(lesson.get_absolute_url())
    CommentBan.objects.create(learner=learner, reason="Spam links")  # while the page is open
    form = page.locator("#new-comment")
    form.get_by_label("Your comment").fill("Kept, please")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert")).to_contain_text("You can no longer comment: Spam links")
    expect(form.get_by_label("Your comment")).to_have_value("Kept, please")
    assert not Comment.objects.exists()
    page.context.close()


def test_a_problem_report_says_where_the_reader_was(page):
    """The report carries the text the reader selected and the heading of its section."""
    lesson = LessonFactory(
        course__slug="asyncio",
        slug="one",
        body=(
            "## First part\n\nNothing here.\n\n## Second part\n\nThe evnet loop runs tasks.\n\n"
            "## Third part\n\nMore.\n"
        ),
    )
    page.goto(lesson.get_absolute_url())
    paragraph = page.locator(".lesson-content p", has_text="evnet")
    paragraph.evaluate(
        """element => {
            const range = document.createRange();
            const text = element.firstChild;
            range.setStart(text, 4);
            range.setEnd(text, 15);
            document.getSelection().removeAllRanges();
            document.getSelection().addRange(range);
        }"""
    )
    page.get_by_text("Report a problem", exact=True).click()
    page.get_by_label("Typo").check()
    page.get_by_label("What is wrong?").fill("A typo in 'evnet'.")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("Thank you! Your report was sent.")).to_be_visible()
    report = ProblemReport.objects.get()
    assert (report.section, report.selected_text, report.kind) == ("Second part", "evnet loop", "typo")
    assert report.lesson_version is not None
