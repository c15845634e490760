"""Hostile comments render no active HTML: checked on what is stored and on what the preview returns.

The browser half of this is tests/e2e/test_comment_payloads.py.
"""

import pytest

from comments.models import Comment
from comments.sanitize import render_comment
from tests.comments.conftest import post_url
from tests.comments.html_checks import elements, problems
from tests.comments.payloads import NUL_PAYLOADS, PAYLOADS

pytestmark = pytest.mark.django_db


def test_there_are_at_least_forty_payloads():
    assert len(PAYLOADS) >= 40


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_comment_is_stored_without_active_html(commenter_client, lesson, payload):
    response = commenter_client.post(post_url(lesson), {"body": payload})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{lesson.get_absolute_url()}#comment-{comment.pk}"
    assert comment.body == payload.strip()
    assert problems(comment.body_html) == []
    # The stored HTML is what the lesson page shows.
    assert comment.body_html in commenter_client.get(lesson.get_absolute_url()).text


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_the_preview_of_a_hostile_comment_has_no_active_html(commenter_client, payload):
    response = commenter_client.post("/comments/preview/", {"body": payload})

    assert response.status_code == 200
    assert problems(response.json()["html"]) == []


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_the_preview_page_without_javascript_has_no_active_html(commenter_client, lesson, payload):
    response = commenter_client.post(post_url(lesson), {"body": payload, "preview": "1"})

    assert response.status_code == 200
    assert render_comment(payload.strip()) in response.text
    assert not Comment.objects.exists()


@pytest.mark.parametrize("payload", NUL_PAYLOADS.values(), ids=NUL_PAYLOADS.keys())
def test_a_comment_with_a_nul_character_is_refused_and_the_text_kept(commenter_client, lesson, payload):
    response = commenter_client.post(post_url(lesson), {"body": payload})

    assert response.status_code == 400
    assert "The comment contains a character that cannot be stored." in response.text
    assert "window.__pwned=1" in response.text  # in the form again
    assert not Comment.objects.exists()
    assert commenter_client.post("/comments/preview/", {"body": payload}).status_code == 400
    assert problems(render_comment(payload)) == []


def test_raw_html_shows_as_the_text_that_was_typed():
    html = render_comment("<script>alert(1)</script> and <b>bold</b>")

    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt;</p>\n"


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "[click](data:image/png;base64,iVBORw0KGgo=)",
        "[click](/accounts/logout/)",
        "[click](#comments)",
        "[click](//evil.example/)",
        "<JavaScript:alert(1)>",
        "[click][r]\n\n[r]: vbscript:alert(1)",
    ],
)
def test_a_link_to_anything_but_http_https_or_mailto_stays_text(text):
    assert "a" not in [tag for tag, _ in elements(render_comment(text))]


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[docs](https://docs.python.org/3/)", "https://docs.python.org/3/"),
        ("<HTTP://example.com/a?b=c&d=e>", "HTTP://example.com/a?b=c&d=e"),
        ("[mail me](mailto:ada@example.com)", "mailto:ada@example.com"),
        ("<ada@example.com>", "mailto:ada@example.com"),
        ('[x](https://example.com "a \\"title\\"")', "https://example.com"),
    ],
)
def test_http_https_and_mailto_links_stay_links_marked_as_user_content(text, href):
    (link,) = [attributes for tag, attributes in elements(render_comment(text)) if tag == "a"]

    assert link["href"] == href
    assert link["rel"] == "nofollow ugc noopener"


def test_a_link_title_keeps_its_quotes_inside_the_attribute():
    (link,) = [
        a for tag, a in elements(render_comment('[x](https://ok.example "\\" onclick=\\"alert(1)")')) if tag == "a"
    ]

    assert link == {"href": "https://ok.example", "title": '" onclick="alert(1)', "rel": "nofollow ugc noopener"}


@pytest.mark.parametrize("info", ['python" onmouseover="alert(1)', "<script>", "python{}", "'; alert(1)"])
def test_a_fence_whose_language_is_not_a_plain_name_is_plain_text(info):
    html = render_comment(f"```{info}\nprint(1)\n```")

    figure = dict(elements(html))["figure"]
    assert figure["data-language"] == "text"
    assert '<span class="code-language">text</span>' in html


@pytest.mark.parametrize("language", ["python", "c++", "objective-c", "c#", "js"])
def test_a_fence_keeps_a_plain_language_name(language):
    figure = dict(elements(render_comment(f"```{language}\nx = 1\n```")))["figure"]

    assert figure["data-language"] == language


def test_highlighted_code_keeps_its_classes_and_a_wide_block_stays_scrollable_by_keyboard():
    html = render_comment("```python\n" + "x = 1  # " + "a" * 80 + "\n```")

    tags = elements(html)
    assert ("pre", {"tabindex": "0", "role": "region", "aria-label": "Code 1 (python)"}) in tags
    assert ("span", {"class": "n"}) in tags
    assert problems(html) == []


# Code block references: the title quoted is the lesson's


def test_a_comment_on_a_code_block_quotes_the_lessons_title_not_the_one_sent(commenter_client, lesson):
    """Regression: the title came from a hidden field, so a commenter could make a block say anything."""
    response = commenter_client.post(
        post_url(lesson),
        {"body": "Why print?", "code_block": 1, "code_block_title": "Send your password to evil@example.com"},
    )

    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.code_block, comment.code_block_title) == (1, "Hello")  # LessonFactory's one block
    page = commenter_client.get(lesson.get_absolute_url()).text
    assert '<blockquote class="comment-code-ref"><a href="#code-1">Hello</a></blockquote>' in page
    assert "evil@example.com" not in page


def test_a_comment_on_a_code_block_the_lesson_does_not_have_is_refused_and_keeps_the_text(commenter_client, lesson):
    response = commenter_client.post(post_url(lesson), {"body": "Which block?", "code_block": 2})

    assert response.status_code == 403
    assert "The code block you commented on is no longer in the lesson." in response.text
    assert "Which block?" in response.text
    assert not Comment.objects.exists()


def test_a_reply_is_about_its_threads_code_block_whatever_it_sends(commenter_client, lesson):
    commenter_client.post(post_url(lesson), {"body": "On the block.", "code_block": 1})
    parent = Comment.objects.get()

    commenter_client.post(post_url(lesson), {"body": "Reply.", "parent": parent.pk, "code_block": 7})

    reply = Comment.objects.get(parent=parent)
    assert (reply.code_block, reply.code_block_title) == (1, "Hello")


def test_a_hostile_code_block_title_in_the_lesson_is_quoted_as_text(commenter_client):
    from tests.factories import LessonFactory

    lesson = LessonFactory(body='```python title="<img src=x onerror=alert(1)>"\nprint(1)\n```\n')

    commenter_client.post(post_url(lesson), {"body": "Hm.", "code_block": 1})

    assert Comment.objects.get().code_block_title == "<img src=x onerror=alert(1)>"
    page = commenter_client.get(lesson.get_absolute_url()).text
    assert '<a href="#code-1">&lt;img src=x onerror=alert(1)&gt;</a>' in page


def test_staff_are_named_by_a_badge_no_display_name_can_copy(client, lesson, make_learner, post_comment):
    staff = make_learner(display_name="Grace Hopper", is_staff=True)
    learner = make_learner(display_name="Ada")
    post_comment(staff, lesson, "Welcome to the course.")
    post_comment(learner, lesson, "Thank you!")
    page = client.get(lesson.get_absolute_url()).text
    assert page.count('<span class="badge badge-staff">Staff</span>') == 1
    staff_comment = page[page.index("Grace Hopper") : page.index("Welcome to the course.")]
    assert 'class="badge badge-staff"' in staff_comment
