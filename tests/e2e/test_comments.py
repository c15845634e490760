"""Comments in the browser: a reply reaches its parent's author in the header's bell, in the list and by e-mail."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import expect

from comments.models import Comment
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]

PASSWORD = "correct horse battery"


def verified_learner(**fields):
    learner = UserFactory(**fields)
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    return learner


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_reply_reaches_the_author_in_the_bell_the_list_and_an_email_without_its_text(
    page, browser, live_server, deliver_mail
):
    lesson = LessonFactory(course__slug="asyncio", slug="one", title="Async basics")
    ada = verified_learner(display_name="Ada", email_notifications=True)
    grace = verified_learner(display_name="Grace")
    reply_text = "Tangerine submarines hum beneath the await keyword"

    # Ada comments: the form posts, no script needed.
    sign_in(page, ada.email)
    page.goto(lesson.get_absolute_url())
    page.get_by_label("Your comment").fill("Why does gather() keep the order of its results?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Why does gather() keep the order of its results?")).to_be_visible()
    question = Comment.objects.get(author=ada)

    # Grace replies, in a browser of her own.
    other = browser.new_context(base_url=live_server.url).new_page()
    sign_in(other, grace.email)
    other.goto(lesson.get_absolute_url())
    thread = other.locator(f"#comment-{question.pk}")
    thread.locator("summary", has_text="Reply").click()
    thread.get_by_label("Your reply").fill(reply_text)
    thread.get_by_role("button", name="Reply", exact=True).click()
    expect(other.get_by_text(reply_text)).to_be_visible()
    reply = Comment.objects.get(author=grace)
    other.context.close()

    # Ada reloads: the bell counts one unread notification.
    page.reload()
    bell = page.locator("a.notification-bell")
    expect(bell).to_have_accessible_name(re.compile(r"Notifications\s+1\s+unread"))

    # The worker runs, as it does seconds after a post (before Ada reads it: a read notification mails nobody).
    deliver_mail()

    # Ada opens the list and the notification, and lands on the reply.
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    page.get_by_role("link", name=re.compile("Grace replied to your comment on Async basics")).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(lesson.get_absolute_url())}#comment-{reply.pk}$"))
    expect(page.locator(f"#comment-{reply.pk}").get_by_text(reply_text)).to_be_visible()
    expect(page.locator(f"#comment-{reply.pk}")).to_be_in_viewport()
    expect(page.locator("a.notification-bell")).to_have_accessible_name(re.compile(r"^\W*Notifications$"))

    # The e-mail: the link to the reply, and not a word of it.
    [message] = mail.outbox
    assert message.to == [ada.email]
    link = f"{live_server.url}/comments/{reply.pk}/"  # the comment's lasting address: it goes where it is shown
    [(html, _mimetype)] = message.alternatives
    assert link in message.body
    assert f'href="{link}"' in html
    for part in (message.subject, message.body, html):
        assert reply_text not in part
        assert "Tangerine" not in part
    page.goto(link)
    expect(page).to_have_url(re.compile(rf"{re.escape(lesson.get_absolute_url())}#comment-{reply.pk}$"))
    expect(page.locator(f"#comment-{reply.pk}").get_by_text(reply_text)).to_be_visible()
