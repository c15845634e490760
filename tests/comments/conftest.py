import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import User
from comments.models import Comment
from tests.accounts.conftest import unreachable_smtp  # noqa: F401 (a fixture, shared with the account e-mail tests)
from tests.factories import LessonFactory, UserFactory


@pytest.fixture
def lesson(db):
    return LessonFactory(course__slug="asyncio", slug="one", title="Async basics")


@pytest.fixture
def make_learner(db):
    """A learner who may comment: their e-mail address is confirmed."""

    def make(**fields) -> User:
        learner = UserFactory(**fields)
        EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
        return learner

    return make


@pytest.fixture
def post_comment():
    """Post a comment (or a reply to ``parent``) as ``author`` through the page's form, without the script."""

    def post(author: User, lesson, body: str, parent: Comment | None = None) -> Comment:
        client = Client()
        client.force_login(author)
        data = {"body": body} | ({"parent": parent.pk} if parent else {})
        response = client.post(f"/comments/lessons/{lesson.pk}/", data)
        assert response.status_code == 302, response.content
        return Comment.objects.filter(author=author).latest("pk")

    return post


def verified(user):
    """``user`` with a confirmed e-mail address, as comments require."""
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


@pytest.fixture
def commenter(db):
    return verified(UserFactory(display_name="Ada"))


@pytest.fixture
def other_commenter(db):
    return verified(UserFactory(display_name="Grace"))


@pytest.fixture
def commenter_client(client, commenter):
    client.force_login(commenter)
    return client


def post_url(lesson) -> str:
    return f"/comments/lessons/{lesson.pk}/"


def hide(comment, *, by) -> None:
    """A moderator hides one comment, as the admin's action does for those it selects."""
    from comments import services
    from comments.models import Comment

    services.hide_comments(comments=Comment.objects.filter(pk=comment.pk), by=by)
    comment.refresh_from_db(fields=["hidden_at", "hidden_by"])


def restore(comment) -> None:
    from comments import services
    from comments.models import Comment

    services.restore_comments(comments=Comment.objects.filter(pk=comment.pk))
    comment.refresh_from_db(fields=["hidden_at", "hidden_by"])
