"""Comments count toward the comment achievements: each once, even when they arrive at the same moment."""

import threading

import pytest
from django.db import connection

from comments import services
from progress.models import LearnerProgress, Unlock, XPEntry
from tests.comments.conftest import verified
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_comments_posted_at_once_count_ten_and_unlock_their_achievement_once(clean_cache):
    learner = verified(UserFactory())
    lesson = LessonFactory()
    barrier = threading.Barrier(10)
    errors = []

    def post(number: int) -> None:
        barrier.wait()
        try:
            services.post_comment(author=learner, lesson=lesson, body=f"Comment {number}")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert LearnerProgress.objects.get(learner=learner).comments_written == 10
    unlocked = set(Unlock.objects.filter(learner=learner).values_list("achievement__code", flat=True))
    assert {"first-comment", "comments-10"} <= unlocked
    bonuses = XPEntry.objects.filter(learner=learner, achievement__code__in=["first-comment", "comments-10"])
    assert sorted(bonuses.values_list("amount", flat=True)) == [5, 15]
    assert LearnerProgress.objects.get(learner=learner).xp == sum(
        XPEntry.objects.filter(learner=learner).values_list("amount", flat=True)
    )
