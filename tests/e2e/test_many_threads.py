"""A lesson with many threads in the browser: the rest loads in place by keyboard, a link to a later comment finds
it, and a comment posted from the page appears without the section being drawn again."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from comments.models import Comment
from comments.sanitize import render_comment
from comments.selectors import FIRST_THREADS
from tests.e2e.axe import serious_axe_violations
from tests.factories import LessonFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_cache")]


@pytest.fixture
def lesson():
    lesson = LessonFactory(course__slug="asyncio", slug="one", title="Async basics")
    author = UserFactory(display_name="Ada")
    start = timezone.now() - timedelta(days=1)
    for number in range(1, FIRST_THREADS + 4):
        root = Comment.objects.create(lesson=lesson, author=author, body_html=render_comment(f"Thread {number}"))
        Comment.objects.filter(pk=root.pk).update(created_at=start + timedelta(minutes=number))
    return lesson


def test_the_rest_of_the_threads_loads_in_place_by_keyboard(page, lesson):
    page.goto(lesson.get_absolute_url())
    threads = page.locator("ol.comment-list > li.comment")
    expect(threads).to_have_count(FIRST_THREADS)
    more = page.get_by_role("link", name="Show 3 more threads")
    more.focus()
    url = page.url
    page.keyboard.press("Enter")
    expect(threads).to_have_count(FIRST_THREADS + 3)
    expect(threads.nth(FIRST_THREADS)).to_be_focused()
    expect(threads.nth(FIRST_THREADS)).to_contain_text(f"Thread {FIRST_THREADS + 1}")
    expect(more).to_have_count(0)
    assert page.url == url
    assert serious_axe_violations(page) == []


def test_a_link_to_a_later_comment_finds_it(page, lesson):
    late = Comment.objects.get(body_html__contains=f"Thread {FIRST_THREADS + 2}<")
    page.goto(f"{lesson.get_absolute_url()}#comment-{late.pk}")
    target = page.locator(f"#comment-{late.pk}")
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()


def test_a_comment_posted_from_the_page_appears_and_the_form_is_ready_for_the_next(page, lesson):
    learner = UserFactory(display_name="Grace")
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill("correct horse battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_url("**/")
    page.goto(lesson.get_absolute_url())
    first = page.locator("ol.comment-list > li.comment").first
    first.locator("summary", has_text="Reply").click()
    first.get_by_label("Your reply").fill("An answer to the first")
    first.get_by_role("button", name="Reply").click()
    reply = first.locator("ol.comment-replies > li.comment")
    expect(reply).to_contain_text("An answer to the first")
    expect(reply).to_be_focused()
    expect(page.get_by_role("heading", name=f"{FIRST_THREADS + 4} comments")).to_be_visible()

    form = page.locator("#new-comment")
    form.get_by_label("Your comment").fill("Two in a row")
    form.get_by_role("button", name="Post comment").click()
    expect(page.locator("ol.comment-list > li.comment").last).to_contain_text("Two in a row")
    expect(form.get_by_label("Your comment")).to_have_value("")
    form.get_by_label("Your comment").fill("And a third")
    form.get_by_role("button", name="Post comment").click()
    expect(page.locator("ol.comment-list > li.comment").last).to_contain_text("And a third")
    assert Comment.objects.filter(author=learner).count() == 3  # the next post from the form is a new comment
