import pytest
from allauth.account.models import EmailAddress

from tests.factories import LessonFactory, UserFactory


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
def lesson(db):
    return LessonFactory()


@pytest.fixture
def commenter_client(client, commenter):
    client.force_login(commenter)
    return client


def post_url(lesson) -> str:
    return f"/comments/lessons/{lesson.pk}/"
