"""`manage.py check_integrity`: passes on data the services wrote, and names what is wrong once it is corrupted."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from comments import services as comments
from comments.models import Comment, CommentBan, Notification
from progress import services as progress
from progress.models import Completion, ExerciseCompletion, LearnerProgress, Unlock, XPEntry
from tests.comments.conftest import hide
from tests.factories import LessonFactory, StaffFactory, UserFactory


def learner(name: str):
    user = UserFactory(email=f"{name}@example.com", display_name=name.title())
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


@pytest.fixture
def site(db):
    """A small site in the shape the services leave it: completions, an unlock, threads, follows, moderation."""
    first = LessonFactory(course__slug="asyncio", slug="event-loop")
    second = LessonFactory(
        course=first.course, slug="tasks", exercise="Gather.", exercise_checks='assert True, "runs"'
    )
    ada, grace, alan, barred, late = (learner(name) for name in ["ada", "grace", "alan", "barred", "late"])
    for who, lesson in [(ada, first), (ada, second), (grace, first), (ada, first)]:
        progress.complete_lesson(learner=who, lesson=lesson)
    progress.uncomplete_lesson(learner=grace, lesson=first)
    for who in (ada, grace, ada):
        progress.complete_exercise(learner=who, lesson=second)
    progress.complete_lesson(learner=grace, lesson=first)
    comments.follow(learner=alan, lesson=first)
    comments.follow(learner=barred, lesson=first)
    CommentBan.objects.create(learner=barred, reason="Spam")
    question = comments.post_comment(author=ada, lesson=first, body="Why a loop? [m-1]")
    answer = comments.post_comment(author=grace, lesson=first, body="It runs the tasks. [m-2]", parent=question)
    comments.post_comment(author=ada, lesson=first, body="Thanks! [m-3]", parent=answer)
    comments.post_comment(author=ada, lesson=first, body="And my own reply. [m-4]", parent=question)
    hidden = comments.post_comment(author=alan, lesson=first, body="Buy now [m-5]")
    hide(hidden, by=StaffFactory())
    gone = comments.post_comment(author=grace, lesson=first, body="Oops [m-6]", parent=question)
    comments.delete_comment(user=grace, comment=gone)
    comments.follow(learner=late, lesson=first)  # after every comment: it is owed none of them
    return {"lesson": first, "ada": ada, "grace": grace, "alan": alan, "barred": barred, "answer": answer}


def check_integrity(*args: str) -> tuple[str, bool]:
    """The command's output and whether it passed. The tests' follows are made moments before the comments."""
    out = StringIO()
    try:
        call_command("check_integrity", "--follow-grace", "0", *args, stdout=out, no_color=True)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def line(output: str, name: str) -> str:
    return next(text for text in output.splitlines() if name in text)


def test_every_check_passes_on_data_the_services_wrote(site):
    output, passed = check_integrity()

    assert passed, output
    assert len(output.splitlines()) == 7
    assert all(text.startswith("PASS ") for text in output.splitlines())
    assert line(output, "XP totals equal the ledger") == "PASS XP totals equal the ledger: 3 learners"
    assert Unlock.objects.count() == XPEntry.objects.filter(reason="achievement").count() > 0
    assert line(output, "one passed exercise") == "PASS one passed exercise per learner and lesson: 2 passed exercises"
    # Four comments shown: each owed to the earlier followers (Alan, the barred learner, then the commenters)
    # and to the author of the comment it answers, never to its own author: 2 + 3 + 3 + 3.
    due = line(output, "every notification due exists")
    assert due == "PASS every notification due exists: 11 notifications due"


def test_a_total_changed_behind_the_ledger_fails_and_names_the_learner(site):
    LearnerProgress.objects.filter(learner=site["ada"]).update(xp=F("xp") + 7)

    output, passed = check_integrity()

    assert not passed
    ada_xp = LearnerProgress.objects.get(learner=site["ada"]).xp
    assert line(output, "XP totals") == (
        f"FAIL XP totals equal the ledger: 3 learners, 1 wrong: ada@example.com (#{site['ada'].pk}) "
        f"has {ada_xp} XP, ledger sums to {ada_xp - 7}"
    )
    assert line(output, "notification due").startswith("PASS")


def test_a_ledger_without_a_total_fails(site):
    LearnerProgress.objects.filter(learner=site["grace"]).delete()

    output, passed = check_integrity()

    assert not passed
    assert "grace@example.com" in line(output, "XP totals") and "has no total" in line(output, "XP totals")


def test_a_deleted_notification_fails_and_names_the_lesson_and_the_learner(site):
    Notification.objects.filter(recipient=site["alan"], comment=site["answer"]).delete()

    output, passed = check_integrity()

    assert not passed
    assert line(output, "notification due") == (
        f"FAIL every notification due exists: 11 notifications due, 1 wrong: lesson asyncio/event-loop "
        f"(#{site['lesson'].pk}): comment #{site['answer'].pk} did not notify alan@example.com "
        f"(#{site['alan'].pk}) (follows the lesson)"
    )


def test_a_missing_reply_notification_fails(site):
    Notification.objects.filter(recipient=site["ada"], comment=site["answer"]).delete()

    output, passed = check_integrity()

    assert not passed
    assert f"did not notify ada@example.com (#{site['ada'].pk}) (reply to their comment)" in output


def test_a_barred_follower_is_still_owed_notifications(site):
    Notification.objects.filter(recipient=site["barred"]).delete()

    output, passed = check_integrity()

    assert not passed
    assert "4 wrong" in line(output, "notification due")


def without_constraint(model, name: str) -> None:
    """Drop a unique constraint inside the test's transaction, so a duplicate can be written as a bug would."""
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit; PostgreSQL alters no table with such checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{name}"')


def test_an_award_paid_twice_fails_even_without_the_constraint(site):
    without_constraint(XPEntry, "xp_entry_once_per_source")
    entry = XPEntry.objects.get(learner=site["grace"], reason="lesson")
    entry.pk = None
    entry.save()
    LearnerProgress.objects.filter(learner=site["grace"]).update(xp=F("xp") + entry.amount)

    output, passed = check_integrity()

    assert not passed
    assert line(output, "one award") == (
        f"FAIL one award per learner and source: {XPEntry.objects.count()} ledger rows, 1 wrong: grace@example.com "
        f"(#{site['grace'].pk}) was paid for {entry.source} 2 times"
    )
    assert line(output, "XP totals").startswith("PASS")


def test_a_lesson_completed_twice_fails(site):
    without_constraint(Completion, "completion_once_per_lesson")
    completion = Completion.objects.filter(learner=site["ada"]).first()
    completion.pk = None
    completion.save()

    output, passed = check_integrity()

    assert not passed
    assert f"ada@example.com (#{site['ada'].pk}) completed lesson asyncio/" in line(output, "one completion")


def test_an_exercise_passed_twice_fails(site):
    without_constraint(ExerciseCompletion, "exercise_completion_once_per_lesson")
    passed = ExerciseCompletion.objects.get(learner=site["grace"])
    passed.pk = None
    passed.save()

    output, passed_check = check_integrity()

    assert not passed_check
    assert line(output, "one passed exercise") == (
        f"FAIL one passed exercise per learner and lesson: 3 passed exercises, 1 wrong: grace@example.com "
        f"(#{site['grace'].pk}) passed the exercise of lesson asyncio/tasks (#{passed.lesson_id}) 2 times"
    )


def test_an_achievement_unlocked_twice_fails(site):
    without_constraint(Unlock, "unlock_once_per_achievement")
    unlock = Unlock.objects.filter(learner=site["grace"]).select_related("achievement").first()
    unlock.pk = None
    unlock.save()

    output, passed = check_integrity()

    assert not passed
    expected = f"grace@example.com (#{site['grace'].pk}) unlocked {unlock.achievement.code} 2 times"
    assert expected in line(output, "one unlock")


def test_each_posted_comment_is_found_once(site, tmp_path):
    markers = tmp_path / "markers.txt"
    markers.write_text("[m-1]\n[m-2]\n[m-3]\n[m-9] ?\n")

    output, passed = check_integrity("--markers", str(markers))

    assert passed, output
    assert line(output, "stored once") == (
        "PASS each posted comment stored once: 4 comments posted (1 of them without an answer)"
    )


def test_a_posted_comment_that_is_missing_or_stored_twice_fails(site, tmp_path):
    markers = tmp_path / "markers.txt"
    markers.write_text("[m-1]\n[m-2]\n[m-7]\n")
    copy = Comment.objects.get(body__contains="[m-2]")
    copy.pk = None
    copy.save()

    output, passed = check_integrity("--markers", str(markers))

    assert not passed
    assert line(output, "stored once") == (
        "FAIL each posted comment stored once: 3 comments posted, 2 wrong: [m-2] stored 2 times; [m-7] stored 0 times"
    )
