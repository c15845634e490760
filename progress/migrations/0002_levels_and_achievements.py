"""The starting ladder of levels and the first achievements; admins edit both afterwards."""

from django.db import migrations

LEVELS = [
    (0, 0, "Curiosity", "호기심"),
    (1, 100, "First Steps", "첫걸음"),
    (2, 250, "Explorer", "탐험가"),
    (3, 450, "Apprentice", "견습생"),
    (4, 700, "Problem Solver", "문제 해결사"),
    (5, 1000, "Builder", "제작자"),
    (6, 1400, "Debugger", "디버거"),
    (7, 1900, "Practitioner", "실천가"),
    (8, 2500, "Engineer", "엔지니어"),
    (9, 3200, "Architect", "설계자"),
    (10, 4000, "Expert", "전문가"),
    (11, 5000, "Mentor", "멘토"),
    (12, 6200, "Master", "장인"),
    (13, 7500, "Legend", "전설"),
]

ACHIEVEMENTS = [
    # lessons_completed
    dict(code="first-lesson", rule="lessons_completed", threshold=1, tag="", bonus_xp=5, hidden=False, icon="🌱",
         title_en="First Lesson Completed", title_ko="첫 레슨 완료",
         description_en="Complete your first lesson.", description_ko="첫 레슨을 완료하세요."),
    dict(code="lessons-5", rule="lessons_completed", threshold=5, tag="", bonus_xp=10, hidden=False, icon="📘",
         title_en="5 Lessons Completed", title_ko="레슨 5개 완료",
         description_en="Complete 5 lessons.", description_ko="레슨 5개를 완료하세요."),
    dict(code="lessons-10", rule="lessons_completed", threshold=10, tag="", bonus_xp=15, hidden=False, icon="📚",
         title_en="10 Lessons Completed", title_ko="레슨 10개 완료",
         description_en="Complete 10 lessons.", description_ko="레슨 10개를 완료하세요."),
    dict(code="lessons-25", rule="lessons_completed", threshold=25, tag="", bonus_xp=25, hidden=False, icon="🧗",
         title_en="25 Lessons Completed", title_ko="레슨 25개 완료",
         description_en="Complete 25 lessons.", description_ko="레슨 25개를 완료하세요."),
    dict(code="lessons-50", rule="lessons_completed", threshold=50, tag="", bonus_xp=50, hidden=False, icon="🏅",
         title_en="50 Lessons Completed", title_ko="레슨 50개 완료",
         description_en="Complete 50 lessons.", description_ko="레슨 50개를 완료하세요."),
    dict(code="lessons-100", rule="lessons_completed", threshold=100, tag="", bonus_xp=100, hidden=False, icon="💯",
         title_en="100 Lessons Completed", title_ko="레슨 100개 완료",
         description_en="Complete 100 lessons.", description_ko="레슨 100개를 완료하세요."),
    # courses_completed
    dict(code="first-course", rule="courses_completed", threshold=1, tag="", bonus_xp=20, hidden=False, icon="🎓",
         title_en="First Course Completed", title_ko="첫 강의 완료",
         description_en="Complete every published lesson in a course.",
         description_ko="강의 하나의 공개된 레슨을 모두 완료하세요."),
    dict(code="courses-3", rule="courses_completed", threshold=3, tag="", bonus_xp=40, hidden=False, icon="🏆",
         title_en="3 Courses Completed", title_ko="강의 3개 완료",
         description_en="Complete every published lesson in 3 courses.",
         description_ko="강의 3개의 공개된 레슨을 모두 완료하세요."),
    dict(code="courses-5", rule="courses_completed", threshold=5, tag="", bonus_xp=60, hidden=False, icon="👑",
         title_en="5 Courses Completed", title_ko="강의 5개 완료",
         description_en="Complete every published lesson in 5 courses.",
         description_ko="강의 5개의 공개된 레슨을 모두 완료하세요."),
    # xp_reached
    dict(code="xp-100", rule="xp_reached", threshold=100, tag="", bonus_xp=5, hidden=False, icon="✨",
         title_en="100 XP Reached", title_ko="XP 100 달성",
         description_en="Earn 100 XP in total.", description_ko="XP 100을 모으세요."),
    dict(code="xp-500", rule="xp_reached", threshold=500, tag="", bonus_xp=10, hidden=False, icon="⭐",
         title_en="500 XP Reached", title_ko="XP 500 달성",
         description_en="Earn 500 XP in total.", description_ko="XP 500을 모으세요."),
    dict(code="xp-1000", rule="xp_reached", threshold=1000, tag="", bonus_xp=20, hidden=False, icon="🌟",
         title_en="1,000 XP Reached", title_ko="XP 1,000 달성",
         description_en="Earn 1,000 XP in total.", description_ko="XP 1,000을 모으세요."),
    dict(code="xp-2500", rule="xp_reached", threshold=2500, tag="", bonus_xp=40, hidden=False, icon="🚀",
         title_en="2,500 XP Reached", title_ko="XP 2,500 달성",
         description_en="Earn 2,500 XP in total.", description_ko="XP 2,500을 모으세요."),
    dict(code="xp-5000", rule="xp_reached", threshold=5000, tag="", bonus_xp=75, hidden=False, icon="💎",
         title_en="5,000 XP Reached", title_ko="XP 5,000 달성",
         description_en="Earn 5,000 XP in total.", description_ko="XP 5,000을 모으세요."),
    # streak_days
    dict(code="streak-3", rule="streak_days", threshold=3, tag="", bonus_xp=10, hidden=False, icon="🔥",
         title_en="3-Day Streak", title_ko="3일 연속 학습",
         description_en="Complete at least one lesson a day for 3 days in a row.",
         description_ko="3일 연속으로 매일 레슨을 하나 이상 완료하세요."),
    dict(code="streak-7", rule="streak_days", threshold=7, tag="", bonus_xp=20, hidden=False, icon="📅",
         title_en="7-Day Streak", title_ko="7일 연속 학습",
         description_en="Complete at least one lesson a day for 7 days in a row.",
         description_ko="7일 연속으로 매일 레슨을 하나 이상 완료하세요."),
    dict(code="streak-14", rule="streak_days", threshold=14, tag="", bonus_xp=35, hidden=False, icon="💪",
         title_en="14-Day Streak", title_ko="14일 연속 학습",
         description_en="Complete at least one lesson a day for 14 days in a row.",
         description_ko="14일 연속으로 매일 레슨을 하나 이상 완료하세요."),
    dict(code="streak-30", rule="streak_days", threshold=30, tag="", bonus_xp=60, hidden=False, icon="🏃",
         title_en="30-Day Streak", title_ko="30일 연속 학습",
         description_en="Complete at least one lesson a day for 30 days in a row.",
         description_ko="30일 연속으로 매일 레슨을 하나 이상 완료하세요."),
    dict(code="streak-100", rule="streak_days", threshold=100, tag="", bonus_xp=100, hidden=True, icon="🐉",
         title_en="100-Day Streak", title_ko="100일 연속 학습",
         description_en="Complete at least one lesson a day for 100 days in a row.",
         description_ko="100일 연속으로 매일 레슨을 하나 이상 완료하세요."),
    # tag_lessons
    dict(code="asyncio-lessons-3", rule="tag_lessons", threshold=3, tag="asyncio", bonus_xp=10, hidden=False, icon="⚡",
         title_en="3 asyncio Lessons Completed", title_ko="asyncio 레슨 3개 완료",
         description_en="Complete 3 lessons tagged asyncio.",
         description_ko="asyncio 태그가 달린 레슨 3개를 완료하세요."),
    dict(code="python-lessons-5", rule="tag_lessons", threshold=5, tag="python", bonus_xp=10, hidden=False, icon="🐍",
         title_en="5 Python Lessons Completed", title_ko="Python 레슨 5개 완료",
         description_en="Complete 5 lessons tagged python.",
         description_ko="python 태그가 달린 레슨 5개를 완료하세요."),
    dict(code="asyncio-lessons-10", rule="tag_lessons", threshold=10, tag="asyncio", bonus_xp=30, hidden=False, icon="🔀",
         title_en="10 asyncio Lessons Completed", title_ko="asyncio 레슨 10개 완료",
         description_en="Complete 10 lessons tagged asyncio.",
         description_ko="asyncio 태그가 달린 레슨 10개를 완료하세요."),
    # early_bird
    dict(code="early-bird", rule="early_bird", threshold=1, tag="", bonus_xp=15, hidden=True, icon="🌅",
         title_en="Early Bird", title_ko="얼리버드",
         description_en="Complete a lesson before 7:00 AM in your time zone.",
         description_ko="내 시간대 기준 오전 7시 전에 레슨을 완료하세요."),
    # night_owl
    dict(code="night-owl", rule="night_owl", threshold=1, tag="", bonus_xp=15, hidden=True, icon="🦉",
         title_en="Night Owl", title_ko="올빼미",
         description_en="Complete a lesson at or after 11:00 PM in your time zone.",
         description_ko="내 시간대 기준 밤 11시 이후에 레슨을 완료하세요."),
    dict(code="night-owl-10", rule="night_owl", threshold=10, tag="", bonus_xp=30, hidden=True, icon="🌙",
         title_en="10 Late-Night Lessons", title_ko="심야 레슨 10개",
         description_en="Complete 10 lessons at or after 11:00 PM in your time zone.",
         description_ko="내 시간대 기준 밤 11시 이후에 레슨 10개를 완료하세요."),
    # comments_written
    dict(code="first-comment", rule="comments_written", threshold=1, tag="", bonus_xp=5, hidden=False, icon="💬",
         title_en="First Comment Written", title_ko="첫 댓글 작성",
         description_en="Write your first comment.", description_ko="첫 댓글을 작성하세요."),
    dict(code="comments-10", rule="comments_written", threshold=10, tag="", bonus_xp=15, hidden=False, icon="🙋",
         title_en="10 Comments Written", title_ko="댓글 10개 작성",
         description_en="Write 10 comments.", description_ko="댓글 10개를 작성하세요."),
    dict(code="comments-50", rule="comments_written", threshold=50, tag="", bonus_xp=40, hidden=False, icon="📣",
         title_en="50 Comments Written", title_ko="댓글 50개 작성",
         description_en="Write 50 comments.", description_ko="댓글 50개를 작성하세요."),
]


def load(apps, schema_editor):
    Level = apps.get_model("progress", "Level")
    Achievement = apps.get_model("progress", "Achievement")
    Level.objects.bulk_create(
        Level(number=number, xp_required=xp, title_en=title_en, title_ko=title_ko)
        for number, xp, title_en, title_ko in LEVELS
    )
    Achievement.objects.bulk_create(
        Achievement(position=position, **achievement) for position, achievement in enumerate(ACHIEVEMENTS, start=1)
    )


def unload(apps, schema_editor):
    apps.get_model("progress", "Level").objects.filter(number__in=[level[0] for level in LEVELS]).delete()
    apps.get_model("progress", "Achievement").objects.filter(
        code__in=[achievement["code"] for achievement in ACHIEVEMENTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("progress", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
