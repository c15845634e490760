"""Staff run levels, achievements and the XP ledger in the admin; support staff look a learner's progress up."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from progress import services
from progress.models import Achievement, Completion, LearnerProgress, Level, Reason, Rule, Unlock, XPEntry
from tests.factories import LessonFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_XP = "/admin/progress/xpentry/add/"


@pytest.fixture
def no_achievements():
    """The seeded achievements pay bonuses; tests of plain XP start without them."""
    Achievement.objects.all().delete()


def xp_of(learner) -> int:
    return LearnerProgress.objects.get(learner=learner).xp


def field_errors(response, name: str) -> list[str]:
    return [str(error) for error in response.context["adminform"].form.errors.get(name, [])]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# The ledger and the staff form that grants or deducts XP


def test_staff_grant_xp_with_a_note_and_the_ledger_names_them(
    staff_client, staff, learner, no_achievements, assert_ledger_balances
):
    response = staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "50", "note": "Found a typo in lesson 3"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/progress/xpentry/?learner__id__exact={learner.pk}"

    entry = XPEntry.objects.get(learner=learner)
    assert (entry.amount, entry.reason, entry.note, entry.created_by) == (
        50,
        Reason.ADJUSTMENT,
        "Found a typo in lesson 3",
        staff,
    )
    assert xp_of(learner) == 50
    assert_ledger_balances()

    ledger = staff_client.get(response["Location"])
    assert f"50 XP granted to {learner.email}, who now has 50 XP." in ledger.text
    assert "Found a typo in lesson 3" in ledger.text and "+50" in ledger.text


def test_staff_deduct_xp_within_what_the_learner_has(staff_client, learner, no_achievements, assert_ledger_balances):
    staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "50", "note": "Bonus"})
    response = staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "-20", "note": "Bonus paid twice"})
    assert response.status_code == 302
    assert xp_of(learner) == 30
    assert_ledger_balances()
    assert f"20 XP deducted from {learner.email}, who now has 30 XP." in staff_client.get(response["Location"]).text


def test_a_deduction_below_zero_is_refused_on_the_form_and_writes_nothing(
    staff_client, learner, no_achievements, assert_ledger_balances
):
    services.adjust_xp(learner=learner, amount=10, note="Welcome", by=None)
    before = list(XPEntry.objects.values_list("pk", flat=True))

    response = staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "-30", "note": "Spam comments"})
    assert response.status_code == 200
    assert field_errors(response, "amount") == ["The learner has 10 XP: a deduction cannot take more than that."]
    assert 'value="-30"' in response.text and 'value="Spam comments"' in response.text
    assert f'<option value="{learner.pk}" selected>' in response.text, "the learner chosen stays chosen"
    assert list(XPEntry.objects.values_list("pk", flat=True)) == before
    assert xp_of(learner) == 10
    assert_ledger_balances()


def test_a_deduction_from_a_learner_without_xp_leaves_no_trace(staff_client, learner):
    response = staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "-1", "note": "Test"})
    assert field_errors(response, "amount") == ["The learner has 0 XP: a deduction cannot take more than that."]
    assert not XPEntry.objects.exists()
    assert not LearnerProgress.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "0", "note": "Nothing"}, "amount", "Enter an amount other than 0."),
        ({"amount": "5", "note": "   "}, "note", "This field is required."),
        ({"amount": "", "note": "Bonus"}, "amount", "This field is required."),
        ({"amount": "99999999999", "note": "Bonus"}, "amount", "Ensure this value is less than or equal to 1000000."),
        ({"amount": "five", "note": "Bonus"}, "amount", "Enter a whole number."),
    ],
)
def test_the_grant_form_says_what_is_missing(staff_client, learner, data, field, message):
    response = staff_client.post(ADD_XP, {"learner": learner.pk, **data})
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert not XPEntry.objects.exists()


def test_the_grant_form_needs_a_learner(staff_client):
    response = staff_client.post(ADD_XP, {"learner": "", "amount": "5", "note": "Bonus"})
    assert field_errors(response, "learner") == ["This field is required."]
    response = staff_client.post(ADD_XP, {"learner": "nobody", "amount": "5", "note": "Bonus"})
    assert response.status_code == 200 and field_errors(response, "learner")
    assert not XPEntry.objects.exists()


def test_the_grant_form_asks_for_learner_amount_and_reason_only(staff_client, learner):
    response = staff_client.get(ADD_XP)
    form = response.context["adminform"].form
    assert list(form.fields) == ["learner", "amount", "note"]
    assert "<h1>Grant or deduct XP</h1>" in response.text
    assert 'name="_save"' in response.text
    assert 'name="_continue"' not in response.text and 'name="_addanother"' not in response.text

    chosen = staff_client.get(ADD_XP, {"learner": learner.pk})
    assert f'<option value="{learner.pk}" selected>' in chosen.text
    for odd in ["x", "99999999999999999999", "-1"]:
        assert staff_client.get(ADD_XP, {"learner": odd}).status_code == 200


def test_the_ledger_links_to_the_grant_form_by_its_name(staff_client):
    text = staff_client.get("/admin/progress/xpentry/").text
    assert f'href="{ADD_XP}" class="addlink">Grant or deduct XP</a>' in text


def test_ledger_rows_cannot_be_changed_or_deleted(staff_client, learner):
    entry = services.adjust_xp(learner=learner, amount=10, note="Welcome", by=None)
    change_url = f"/admin/progress/xpentry/{entry.pk}/change/"

    view = staff_client.get(change_url)
    assert view.status_code == 200, "the row can be looked at"
    assert 'name="_save"' not in view.text and "deletelink" not in view.text
    assert staff_client.post(change_url, {"learner": learner.pk, "amount": "999", "note": "x"}).status_code == 403
    assert staff_client.get(f"/admin/progress/xpentry/{entry.pk}/delete/").status_code == 403
    assert staff_client.post(f"/admin/progress/xpentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403

    changelist = staff_client.get("/admin/progress/xpentry/")
    assert "delete_selected" not in changelist.text
    staff_client.post("/admin/progress/xpentry/", {"action": "delete_selected", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.amount == 10 and xp_of(learner) == 10


def test_the_ledger_is_searched_by_e_mail_and_filtered_by_reason(staff_client, no_achievements):
    ada = UserFactory(email="ada@example.com")
    grace = UserFactory(email="grace@example.com")
    services.adjust_xp(learner=ada, amount=7, note="For Ada", by=None)
    services.adjust_xp(learner=grace, amount=9, note="For Grace", by=None)
    services.complete_lesson(learner=grace, lesson=LessonFactory(title="Queues", xp=20))

    found = staff_client.get("/admin/progress/xpentry/", {"q": "ada@"}).text
    assert "For Ada" in found and "For Grace" not in found
    lessons = staff_client.get("/admin/progress/xpentry/", {"reason__exact": Reason.LESSON}).text
    assert "Queues" in lessons and "For Grace" not in lessons
    mine = staff_client.get("/admin/progress/xpentry/", {"learner__id__exact": grace.pk}).text
    assert "For Grace" in mine and "Queues" in mine and "For Ada" not in mine


# Query budgets: the admin's lists cost the same with 1 row as with 30


def make_ledger_rows(count: int) -> None:
    lesson = LessonFactory(xp=5)
    for _ in range(count):
        learner = UserFactory()
        services.complete_lesson(learner=learner, lesson=lesson)


def make_achievements(count: int) -> None:
    start = Achievement.objects.count()
    learner = UserFactory()
    for number in range(start, start + count):
        achievement = Achievement.objects.create(
            code=f"a-{number}",
            title_en=f"A {number}",
            title_ko=f"가 {number}",
            description_en="Do it.",
            description_ko="하세요.",
            icon="⭐",
            rule=Rule.LESSONS_COMPLETED,
            threshold=1000,
        )
        Unlock.objects.create(learner=learner, achievement=achievement, unlocked_at=timezone.now())


def make_levels(count: int) -> None:
    start = Level.objects.count()
    for number in range(start, start + count):
        Level.objects.create(number=number, xp_required=number * 100, title_en=f"L{number}", title_ko=f"레{number}")


def make_completions(count: int) -> None:
    learner = UserFactory()
    for _ in range(count):
        Completion.objects.create(learner=learner, lesson=LessonFactory(), completed_at=timezone.now())


@pytest.mark.parametrize(
    ("url", "model", "make_rows"),
    [
        ("/admin/progress/level/", Level, make_levels),
        ("/admin/progress/achievement/", Achievement, make_achievements),
        ("/admin/progress/xpentry/", XPEntry, make_ledger_rows),
        ("/admin/progress/completion/", Completion, make_completions),
    ],
)
def test_the_admin_lists_cost_the_same_queries_for_1_and_30_rows(staff_client, url, model, make_rows, no_achievements):
    model.objects.all().delete()
    make_rows(1)
    one = queries_for(staff_client, url)
    make_rows(29)
    assert model.objects.count() == 30
    assert queries_for(staff_client, url) == one


def test_the_achievement_list_counts_unlocks(staff_client, no_achievements):
    make_achievements(1)
    other = UserFactory()
    Unlock.objects.create(learner=other, achievement=Achievement.objects.get(), unlocked_at=timezone.now())
    response = staff_client.get("/admin/progress/achievement/")
    assert re.search(r'<td class="field-unlock_count">2</td>', response.text)


# Levels: the ladder stays whole


def level_form(**overrides) -> dict:
    return {"number": "20", "xp_required": "20000", "title_en": "Sage", "title_ko": "현자"} | overrides


def test_staff_add_a_level_at_the_top_of_the_ladder(staff_client):
    response = staff_client.post("/admin/progress/level/add/", level_form())
    assert response.status_code == 302
    assert Level.objects.get(number=20).title_en == "Sage"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"number": "0", "xp_required": "5"}, "xp_required", "Level 0 is where every learner starts: it needs 0 XP."),
        ({"number": "1"}, "number", "Level with this Number already exists."),
        ({"xp_required": "7500"}, "xp_required", "Level with this XP required already exists."),
        (
            {"number": "20", "xp_required": "300"},
            "xp_required",
            "Each level must need more XP than the levels below it: level 13 needs 7500 XP, level 20 300.",
        ),
        (
            {"number": "14", "xp_required": "30"},
            "xp_required",
            "Each level must need more XP than the levels below it: level 13 needs 7500 XP, level 14 30.",
        ),
    ],
)
def test_a_level_that_breaks_the_ladder_is_refused_with_a_message(staff_client, overrides, field, message):
    """The seeded ladder: level 0 at 0 XP, 1 at 100, … 13 at 7500."""
    count = Level.objects.count()
    response = staff_client.post("/admin/progress/level/add/", level_form(**overrides))
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert "Constraint" not in response.text
    assert 'value="Sage"' in response.text
    assert Level.objects.count() == count


def test_moving_a_level_past_its_neighbour_is_refused(staff_client):
    level = Level.objects.get(number=2)  # 250 XP, between 100 and 450
    data = {"number": "2", "xp_required": "500", "title_en": level.title_en, "title_ko": level.title_ko}
    response = staff_client.post(f"/admin/progress/level/{level.pk}/change/", data)
    assert field_errors(response, "xp_required") == [
        "Each level must need more XP than the levels below it: level 2 needs 500 XP, level 3 450."
    ]
    level.refresh_from_db()
    assert level.xp_required == 250


def test_the_model_refuses_an_out_of_order_ladder_wherever_it_is_saved_from():
    level = Level(number=20, xp_required=50, title_en="Late", title_ko="늦음")
    with pytest.raises(ValidationError) as refused:
        level.full_clean()
    assert refused.value.message_dict == {
        "xp_required": ["Each level must need more XP than the levels below it: level 13 needs 7500 XP, level 20 50."]
    }
    Level(number=20, xp_required=9000, title_en="Late", title_ko="늦음").full_clean()


def changelist_form(levels: list[Level], **xp: int) -> dict:
    """The level list's editable rows as the admin posts them; ``xp`` changes some levels' XP by number."""
    data = {"form-TOTAL_FORMS": len(levels), "form-INITIAL_FORMS": len(levels), "_save": "Save"}
    for index, level in enumerate(levels):
        data |= {
            f"form-{index}-id": level.pk,
            f"form-{index}-xp_required": xp.get(f"level{level.number}", level.xp_required),
            f"form-{index}-title_en": level.title_en,
            f"form-{index}-title_ko": level.title_ko,
        }
    return data


def test_levels_edited_together_in_the_list_must_still_climb(staff_client):
    """Each change alone fits the ladder as it was (1: 100 → 230, 2: 250 → 120); together they cross."""
    levels = Level.objects.ladder()
    response = staff_client.post("/admin/progress/level/", changelist_form(levels, level1=230, level2=120))
    assert response.status_code == 200
    assert "level 1 needs 230 XP, level 2 120." in response.text
    assert list(Level.objects.filter(number__in=[1, 2]).values_list("xp_required", flat=True)) == [100, 250]


def test_levels_are_edited_in_the_list(staff_client):
    levels = Level.objects.ladder()
    response = staff_client.post("/admin/progress/level/", changelist_form(levels, level1=120, level2=260))
    assert response.status_code == 302
    assert list(Level.objects.filter(number__in=[1, 2]).values_list("xp_required", flat=True)) == [120, 260]


def test_level_zero_keeps_0_xp_in_the_list_too(staff_client):
    levels = Level.objects.ladder()
    response = staff_client.post("/admin/progress/level/", changelist_form(levels, level0=10))
    assert response.status_code == 200
    assert "Level 0 is where every learner starts: it needs 0 XP." in response.text
    assert "Constraint" not in response.text
    assert Level.objects.get(number=0).xp_required == 0


def test_level_zero_cannot_be_deleted_so_every_learner_keeps_a_level(staff_client):
    """Regression: deleting it put a learner with 0 XP on level 1, "-100/150 XP to next level"."""
    zero, one, top = Level.objects.get(number=0), Level.objects.get(number=1), Level.objects.order_by("number").last()
    page = staff_client.get(f"/admin/progress/level/{zero.pk}/change/").text
    assert f"/admin/progress/level/{zero.pk}/delete/" not in page
    assert staff_client.post(f"/admin/progress/level/{zero.pk}/delete/", {"post": "yes"}).status_code == 403
    chosen = {"action": "delete_selected", "_selected_action": [zero.pk, one.pk], "post": "yes"}
    assert staff_client.post("/admin/progress/level/", chosen).status_code == 403
    assert Level.objects.filter(pk__in=[zero.pk, one.pk]).count() == 2
    # The other levels can go.
    assert staff_client.post(f"/admin/progress/level/{top.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Level.objects.filter(pk=top.pk).exists()


# Achievements: the tag goes with the tag rule


def achievement_form(**overrides) -> dict:
    return {
        "code": "python-10",
        "icon": "🐍",
        "position": "0",
        "title_en": "Pythonista",
        "description_en": "Complete 10 Python lessons.",
        "title_ko": "파이써니스타",
        "description_ko": "파이썬 레슨 10개를 완료하세요.",
        "rule": Rule.TAG_LESSONS,
        "threshold": "10",
        "tag": "python",
        "bonus_xp": "20",
    } | overrides


def test_staff_add_an_achievement_for_a_tag(staff_client):
    response = staff_client.post("/admin/progress/achievement/add/", achievement_form())
    assert response.status_code == 302
    achievement = Achievement.objects.get(code="python-10")
    assert (achievement.rule, achievement.tag, achievement.threshold) == (Rule.TAG_LESSONS, "python", 10)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tag": ""}, "tag", "The tag rule counts the lessons with one tag: enter that tag's slug."),
        (
            {"rule": Rule.LESSONS_COMPLETED},
            "tag",
            "Only the tag rule uses a tag: leave it empty for “Lessons completed”.",
        ),
        ({"threshold": "0"}, "threshold", "The threshold must be at least 1."),
    ],
)
def test_an_achievement_that_the_database_would_refuse_gets_a_form_error(staff_client, overrides, field, message):
    count = Achievement.objects.count()
    response = staff_client.post("/admin/progress/achievement/add/", achievement_form(**overrides))
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert "Constraint" not in response.text
    assert 'value="Pythonista"' in response.text
    assert Achievement.objects.count() == count


def test_achievements_are_found_by_code_or_title_and_filtered_by_rule(staff_client):
    found = staff_client.get("/admin/progress/achievement/", {"q": "streak"}).text
    assert "3-Day Streak" in found and "First Lesson Completed" not in found
    by_rule = staff_client.get("/admin/progress/achievement/", {"rule__exact": Rule.XP_REACHED}).text
    assert "100 XP Reached" in by_rule and "3-Day Streak" not in by_rule


# Support: a learner's progress on their admin page, completions read-only


def test_a_learners_admin_page_shows_their_progress_and_links_to_their_ledger(staff_client, no_achievements):
    learner = UserFactory(time_zone="Asia/Seoul")
    services.complete_lesson(learner=learner, lesson=LessonFactory(xp=120))
    progress = LearnerProgress.objects.get(learner=learner)
    progress.current_streak, progress.best_streak = 2, 5
    progress.save()

    text = staff_client.get(f"/admin/accounts/user/{learner.pk}/change/").text
    assert '<div class="readonly">120</div>' in text
    assert "1 · First Steps" in text
    assert '<div class="readonly">5</div>' in text and "Asia/Seoul" in text
    assert f'href="/admin/progress/xpentry/?learner__id__exact={learner.pk}">XP ledger</a>' in text
    assert f'href="/admin/progress/completion/?learner__id__exact={learner.pk}">1 lesson completed</a>' in text
    assert f'href="/admin/progress/xpentry/add/?learner={learner.pk}">Grant or deduct XP</a>' in text


def test_a_new_learners_add_page_has_no_progress(staff_client):
    response = staff_client.get("/admin/accounts/user/add/")
    assert response.status_code == 200
    assert "learner progress" not in response.text.lower()


def test_completions_can_be_looked_at_but_not_changed(staff_client, learner):
    lesson = LessonFactory(title="Event loops")
    completion = Completion.objects.create(learner=learner, lesson=lesson, completed_at=timezone.now())
    changelist = staff_client.get("/admin/progress/completion/", {"q": learner.email})
    assert "Event loops" in changelist.text and lesson.course.title in changelist.text
    assert 'href="/admin/progress/completion/add/"' not in changelist.text
    assert staff_client.get("/admin/progress/completion/add/").status_code == 403
    assert staff_client.get(f"/admin/progress/completion/{completion.pk}/delete/").status_code == 403
    view = staff_client.get(f"/admin/progress/completion/{completion.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.text


def test_the_grant_form_finds_learners_by_e_mail_as_staff_type(staff_client):
    UserFactory(email="ada@example.com")
    UserFactory(email="grace@example.com")
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "progress", "model_name": "xpentry", "field_name": "learner", "term": "ada"},
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["ada@example.com"]


def test_staff_who_may_only_read_the_ledger_cannot_grant_xp(client, learner):
    from django.contrib.auth.models import Permission

    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_xpentry"))
    client.force_login(reader)
    assert client.get("/admin/progress/xpentry/").status_code == 200
    assert client.get(ADD_XP).status_code == 403
    assert client.post(ADD_XP, {"learner": learner.pk, "amount": "50", "note": "Bonus"}).status_code == 403
    assert not XPEntry.objects.exists()


def test_a_deduction_larger_than_the_form_allows_is_refused_by_the_form(staff_client, learner):
    response = staff_client.post(ADD_XP, {"learner": learner.pk, "amount": "-99999999999", "note": "Reset"})
    assert field_errors(response, "amount") == ["Ensure this value is greater than or equal to -1000000."]
    assert not XPEntry.objects.exists()


def test_a_learners_admin_page_counts_only_their_own_completions(staff_client, learner, no_achievements):
    lesson = LessonFactory()
    services.complete_lesson(learner=learner, lesson=lesson)
    services.complete_lesson(learner=UserFactory(), lesson=lesson)
    services.complete_lesson(learner=UserFactory(), lesson=LessonFactory())
    text = staff_client.get(f"/admin/accounts/user/{learner.pk}/change/").text
    assert f'href="/admin/progress/completion/?learner__id__exact={learner.pk}">1 lesson completed</a>' in text


def test_a_level_needing_one_xp_less_than_the_level_below_is_refused(staff_client):
    response = staff_client.post("/admin/progress/level/add/", level_form(number="14", xp_required="7499"))
    assert field_errors(response, "xp_required") == [
        "Each level must need more XP than the levels below it: level 13 needs 7500 XP, level 14 7499."
    ]
    assert not Level.objects.filter(number=14).exists()


def test_levels_edited_in_the_list_one_xp_out_of_order_are_refused(staff_client):
    levels = Level.objects.ladder()
    response = staff_client.post("/admin/progress/level/", changelist_form(levels, level1=200, level2=199))
    assert response.status_code == 200
    assert "level 1 needs 200 XP, level 2 199." in response.text
    assert list(Level.objects.filter(number__in=[1, 2]).values_list("xp_required", flat=True)) == [100, 250]


@pytest.mark.parametrize(("number", "xp"), [("", "500"), ("two", "500"), ("20", ""), ("20", "lots")])
def test_a_level_without_a_valid_number_or_xp_is_asked_for_them(staff_client, number, xp):
    response = staff_client.post("/admin/progress/level/add/", level_form(number=number, xp_required=xp))
    assert response.status_code == 200
    assert field_errors(response, "number" if number != "20" else "xp_required")


def test_the_ledger_names_the_staff_member_behind_an_adjustment(staff_client, staff, learner, no_achievements):
    services.adjust_xp(learner=learner, amount=5, note="Bonus", by=staff)
    services.complete_lesson(learner=learner, lesson=LessonFactory(xp=10))
    cells = re.findall(r'<td class="field-by">(.*?)</td>', staff_client.get("/admin/progress/xpentry/").text)
    assert sorted(cells) == ["-", staff.email]  # the lesson row: nobody
