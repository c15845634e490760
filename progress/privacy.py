"""Progress's part of a learner's data (accounts.privacy): what it exports. Its rows go with the account."""

from typing import Any

from accounts.models import User
from accounts.privacy import lesson_link, timestamp
from progress.models import (
    ActivityDay,
    Completion,
    ExerciseCompletion,
    LearnerProgress,
    SolutionView,
    StreakReminder,
    Unlock,
    XPEntry,
)


def export(*, user: User, base_url: str) -> dict[str, Any]:
    progress = LearnerProgress.objects.filter(learner=user).first()
    return {
        "progress": None
        if progress is None
        else {
            "xp": progress.xp,
            "current_streak": progress.current_streak,
            "best_streak": progress.best_streak,
            "last_active_on": timestamp(progress.last_active_on),
            "early_lessons": progress.early_lessons,
            "late_lessons": progress.late_lessons,
            "comments_written": progress.comments_written,
        },
        "completions": [
            {"lesson": lesson_link(base_url, completion.lesson), "completed_at": timestamp(completion.completed_at)}
            for completion in Completion.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("completed_at", "id")
        ],
        "exercises": [
            {"lesson": lesson_link(base_url, passed.lesson), "passed_at": timestamp(passed.completed_at)}
            for passed in ExerciseCompletion.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("completed_at", "id")
        ],
        "solutions_seen": [
            {"lesson": lesson_link(base_url, seen.lesson), "seen_at": timestamp(seen.viewed_at)}
            for seen in SolutionView.objects.filter(learner=user)
            .select_related("lesson__course")
            .order_by("viewed_at", "id")
        ],
        "xp_ledger": [
            {
                "amount": entry.amount,
                "reason": entry.reason,
                "source": entry.source,
                "note": entry.note,
                "lesson": lesson_link(base_url, entry.lesson),
                "achievement": entry.achievement.code if entry.achievement else None,
                "created_at": timestamp(entry.created_at),
            }
            for entry in XPEntry.objects.filter(learner=user)
            .select_related("lesson__course", "achievement")
            .order_by("created_at", "id")
        ],
        "achievements": [
            {
                "code": unlock.achievement.code,
                "title": unlock.achievement.title,
                "unlocked_at": timestamp(unlock.unlocked_at),
            }
            for unlock in Unlock.objects.filter(learner=user).select_related("achievement").order_by("unlocked_at")
        ],
        "activity_days": [
            {"day": timestamp(day.day), "completions": day.completions, "exercises": day.exercises}
            for day in ActivityDay.objects.filter(learner=user).order_by("day")
        ],
        "streak_reminders": [
            {
                "day": timestamp(reminder.day),
                "streak": reminder.streak,
                "queued_at": timestamp(reminder.queued_at),
                "sent_at": timestamp(reminder.sent_at),
            }
            for reminder in StreakReminder.objects.filter(learner=user).order_by("day")
        ],
    }
