import pytest
from django.test import Client

from courses.models import Lesson, Status
from tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


def test_404_page_is_in_the_site_layout_and_the_readers_language(client):
    response = client.get("/courses/no-such-course/")
    assert response.status_code == 404
    assert 'class="site-header"' in response.text
    assert "Page not found" in response.text
    assert 'href="/"' in response.text
    korean = client.get("/courses/no-such-course/", HTTP_ACCEPT_LANGUAGE="ko")
    assert '<html lang="ko">' in korean.text
    assert "페이지를 찾을 수 없습니다" in korean.text


@pytest.mark.django_db(transaction=True)
def test_500_page_renders_in_the_site_layout_while_the_database_is_down(database_down, rf):
    from django.utils import translation

    from config.views import server_error

    with translation.override("ko"):
        response = server_error(rf.get("/"))
    text = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="ko">' in text
    assert 'class="site-header"' in text
    assert "문제가 생겼습니다" in text
    assert 'href="/"' in text


@pytest.mark.parametrize(
    "url",
    [
        "/courses/a%00b/",
        "/courses/asyncio/one%00/",
        "/tags/x%00/",
        "/?page=%00",
        "/?x%00=1",
        "/accounts/confirm-email/abc%00def/",
        "/accounts/password/reset/key/1-%00/",
        "/accounts/login/?next=%00",
        "/admin/courses/lesson/?q=%00",
        "/admin/courses/lesson/?status__exact=%00",
        "/admin/courses/lesson/%00/change/",
        "/admin/accounts/user/?q=%00",
    ],
)
def test_a_nul_character_in_the_url_is_a_400_page_not_a_server_error(staff_client, url):
    """Regression: a %00 in a slug or an admin filter reached PostgreSQL and gave a 500 (DataError)."""
    LessonFactory(course__slug="asyncio", slug="one")
    response = staff_client.get(url)
    assert response.status_code == 400
    assert "The site cannot read this request" in response.text


def test_a_cookie_with_a_nul_character_is_ignored(client):
    """Regression: a session cookie carrying NUL made the session lookup fail with a 500."""
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    response = client.get("/")
    assert response.status_code == 200


@pytest.mark.parametrize("slug", ["a%20b", "a.b", "%E2%80%8B", "a%0Ab"])
def test_a_slug_with_characters_no_slug_can_have_is_404(client, slug):
    assert client.get(f"/courses/{slug}/").status_code == 404
    assert client.get(f"/tags/{slug}/").status_code == 404


@pytest.mark.parametrize("slug", ["a.b", "a%20b", "%E2%80%8B"])
def test_a_slug_no_slug_can_have_is_refused_before_the_database_is_asked(client, django_assert_num_queries, slug):
    with django_assert_num_queries(0):
        assert client.get(f"/courses/{slug}/x/").status_code == 404


def test_korean_slugs_still_resolve(client):
    LessonFactory(course__slug="파이썬", slug="첫-걸음", title="First steps")
    assert client.get("/courses/파이썬/첫-걸음/").status_code == 200


def test_a_tampered_admin_selection_is_refused_with_a_message(staff_client):
    lesson = LessonFactory(status=Status.DRAFT, published_at=None)
    for selection in (["x"], ["1\x00"], [str(lesson.pk), "nope"]):
        response = staff_client.post(
            "/admin/courses/lesson/", {"action": "publish", "_selected_action": selection}, follow=True
        )
        assert response.status_code == 200
        assert "The selection was not valid" in response.text
    assert Lesson.objects.get().status == Status.DRAFT


def test_an_expired_form_gets_a_page_that_says_why(learner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "ko"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert 'class="site-header"' in response.text
    assert "The form has expired" in response.text
    assert "Allow cookies for this site" in response.text


def test_the_too_many_requests_page_is_in_the_site_layout_and_the_readers_language(client, settings):
    """Review finding: past a rate limit (30 sign-ins or 20 sign-ups a minute from one address) allauth
    answered 429 with a bare English page: no layout, no lang, no way back, in Korean too."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "1/m/ip"}
    fields = {"email": "ada@example.com", "password1": "a long passphrase 42", "password2": "a long passphrase 42"}
    client.post("/accounts/signup/", fields)

    response = client.post("/accounts/signup/", {**fields, "email": "bob@example.com"}, HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 429
    assert '<html lang="ko">' in response.text
    assert 'class="site-header"' in response.text
    assert 'href="/"' in response.text
    assert "You have sent too many requests" not in response.text


@pytest.mark.parametrize(("url", "status"), [("/courses/no-such-course/", 404), ("/courses/a%00b/", 400)])
def test_an_error_page_offers_the_way_back_to_the_catalogue(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert '<a class="button" href="/">Go to the course catalogue</a>' in response.text


def test_a_form_sent_over_https_without_a_referer_gets_a_page_that_says_why():
    """Browsers or extensions that strip the Referer header break forms on HTTPS: the page says which setting."""
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # the page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/i18n/setlang/", {"language": "ko", "csrfmiddlewaretoken": token}, secure=True)
    assert response.status_code == 403
    assert "Allow the Referer header for this site" in response.text
