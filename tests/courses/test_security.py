import pytest

from courses.models import LessonLink
from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db

SCRIPT_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example.com/",
    "/relative/path",
]


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_a_link_saved_past_validation_is_not_rendered_as_a_live_href(client, url):
    """Regression: a LessonLink written by the shell or a fixture rendered a javascript: href."""
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    LessonLink.objects.create(lesson=lesson, title="Sneaky link", url=url)
    text = client.get("/courses/asyncio/one/").text
    assert "Sneaky link" in text
    assert "script:" not in text.split("Sneaky link")[0].rsplit("<li>", 1)[-1]
    assert "<a" not in text.split("Sneaky link")[0].rsplit("<li>", 1)[-1]


def test_a_web_link_is_rendered_as_a_link(client):
    lesson = LessonFactory(course__slug="asyncio", slug="one")
    LessonLink.objects.create(lesson=lesson, title="Docs", url="https://docs.python.org/3/")
    assert (
        '<a href="https://docs.python.org/3/" rel="noopener external">Docs</a>'
        in client.get("/courses/asyncio/one/").text
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "<script>alert(1)</script>",
        "![x](javascript:alert(1))",
    ],
)
def test_lesson_markdown_never_produces_script(markdown):
    lesson = LessonFactory(body=markdown)
    assert "<script" not in lesson.body_html
    assert 'href="javascript' not in lesson.body_html.lower()
    assert 'src="javascript' not in lesson.body_html.lower()
