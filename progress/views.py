import json

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from courses.models import Lesson
from courses.selectors import neighbours
from courses.views import paginate
from progress import selectors, services
from progress.models import Achievement, Level, XPEntry
from progress.selectors import lesson_panel, standing
from web.http import wants_json
from web.page_cache import cached_page

# Rows of the XP history on each page of /me/
XP_HISTORY_PAGE_SIZE = 25


def refuse(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def outcome_messages(outcome: services.Outcome, *, level_before: Level, level_after: Level) -> list[str]:
    """What the learner is told after completing a lesson: the XP it paid, each achievement, a new level."""
    if outcome.completed:
        said = (
            _("Lesson complete: +%(xp)s XP.") % {"xp": outcome.lesson_xp}
            if outcome.lesson_xp
            else _("Lesson complete.")
        )
    else:
        said = _("You completed this lesson already; it pays its XP once.")
    return [said, *reward_messages(outcome, level_before=level_before, level_after=level_after)]


def exercise_messages(outcome: services.Outcome, *, level_before: Level, level_after: Level) -> list[str]:
    """What the learner is told after their code passed an exercise's checks."""
    if outcome.completed and outcome.solution_seen:
        said = _("Exercise passed after seeing the solution: +%(xp)s XP, half the exercise's XP.") % {
            "xp": outcome.lesson_xp
        }
    elif outcome.completed:
        said = (
            _("Exercise passed: +%(xp)s XP.") % {"xp": outcome.lesson_xp}
            if outcome.lesson_xp
            else _("Exercise passed.")
        )
    else:
        said = _("You passed this exercise already; it pays its XP once.")
    return [said, *reward_messages(outcome, level_before=level_before, level_after=level_after)]


def reward_messages(outcome: services.Outcome, *, level_before: Level, level_after: Level) -> list[str]:
    """Each achievement a change unlocked, and a new level."""
    said = []
    for achievement in outcome.unlocked:
        said.append(
            _("Achievement unlocked: %(icon)s %(title)s (+%(xp)s XP)")
            % {"icon": achievement.icon, "title": achievement.title, "xp": achievement.bonus_xp}
            if achievement.bonus_xp
            else _("Achievement unlocked: %(icon)s %(title)s") % {"icon": achievement.icon, "title": achievement.title}
        )
    if level_after.number > level_before.number:
        said.append(
            _("You reached level %(number)s: %(title)s!") % {"number": level_after.number, "title": level_after.title}
        )
    return said


def _lesson_response(
    request: HttpRequest, lesson: Lesson, said: list[str], *, moving_on: bool = False
) -> HttpResponse:
    """The lesson page again, with what the learner earned beside its button: JSON with the panel and the end of
    the lesson re-rendered for the script, else a redirect to that place. ``moving_on`` (Mark complete and
    continue): the next lesson instead, where what was earned is said at the top."""
    position = neighbours(lesson, request.user)
    if moving_on and position.next:
        for message in said:
            messages.success(request, message)  # said at the top of the next lesson
        if wants_json(request):
            return JsonResponse({"messages": said, "next_url": position.next.get_absolute_url()})
        return redirect(position.next.get_absolute_url())
    if not wants_json(request):
        for message in said:
            messages.success(request, message, extra_tags="completion")
        return redirect(f"{lesson.get_absolute_url()}#lesson-completion")
    panel = lesson_panel(lesson=lesson, user=request.user)
    context = {"lesson": lesson, "panel": panel, "position": position, "said": said}
    return JsonResponse(
        {
            "completed": panel.lesson_completed,
            "messages": said,
            "panel": render_to_string("progress/panel.html", context, request=request),
            "completion": render_to_string("progress/completion.html", context, request=request),
        }
    )


def _visible_lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    return get_object_or_404(Lesson.objects.visible_to(request.user).select_related("course"), pk=lesson_id)


def _sign_in_first(request: HttpRequest, lesson: Lesson) -> HttpResponse:
    """A visitor without the page's script cannot keep progress in the browser: offer to sign in.

    The script asks for JSON only from a page that was signed in; its session has ended since.
    """
    if wants_json(request):
        return refuse(request, _("Your session has ended. Sign in again to save your progress."), status=401)
    return redirect_to_login(lesson.get_absolute_url())


@require_POST
def complete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Mark a lesson complete and pay its XP once (``services.complete_lesson`` keeps that rule)."""
    lesson = _visible_lesson(request, lesson_id)
    if not request.user.is_authenticated:
        return _sign_in_first(request, lesson)
    if not ratelimit.consume(request, action="complete_lesson", user=request.user):
        return refuse(request, _("Too many completions at once. Wait a minute, then try again."), status=429)
    try:
        outcome = services.complete_lesson(learner=request.user, lesson=lesson)
    except services.LessonNotCompletable:
        return refuse(request, _("Only published lessons can be completed."), status=409)
    said = outcome_messages(outcome, **_levels(outcome))
    return _lesson_response(request, lesson, said, moving_on="continue" in request.POST)


def _levels(outcome: services.Outcome) -> dict[str, Level]:
    """The learner's level before and after the change."""
    ladder = selectors.level_ladder()
    return {
        "level_before": standing(outcome.xp_total - outcome.xp_awarded, ladder).level,
        "level_after": standing(outcome.xp_total, ladder).level,
    }


@require_POST
def exercise_done(request: HttpRequest, lesson_id: int) -> JsonResponse:
    """The learner's code passed the checks of the lesson's exercise (in their browser): pay its XP once.

    For the page's script only, so it answers JSON: ``{"panel": <the learner panel's HTML>, "messages": [...],
    "xp_awarded": <XP this call paid, achievements' bonuses included>}``, or ``{"error": ...}`` with 401 (not
    signed in), 409 (a lesson that is not published or has no checks) or 429 (too many at once); a lesson the
    reader cannot see is the site's 404 page.
    ``services.complete_exercise`` keeps the rule.
    """
    lesson = _visible_lesson(request, lesson_id)
    if not request.user.is_authenticated:
        message = _("Your session has ended. Sign in again to save your progress.")
        return JsonResponse({"error": message}, status=401)
    if not ratelimit.consume(request, action="complete_exercise", user=request.user):
        return JsonResponse({"error": _("Too many exercises at once. Wait a minute, then try again.")}, status=429)
    try:
        outcome = services.complete_exercise(learner=request.user, lesson=lesson)
    except services.ExerciseWithoutChecks:
        return JsonResponse({"error": _("This exercise has no checks to pass.")}, status=409)
    except services.LessonNotCompletable:
        return JsonResponse({"error": _("Only the exercises of published lessons earn XP.")}, status=409)
    context = {"lesson": lesson, "panel": lesson_panel(lesson=lesson, user=request.user)}
    return JsonResponse(
        {
            "panel": render_to_string("progress/panel.html", context, request=request),
            "messages": exercise_messages(outcome, **_levels(outcome)),
            "xp_awarded": outcome.xp_awarded,
        }
    )


@require_POST
def solution(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The reference solution of the lesson's exercise, and for a signed-in learner the record that they saw it.

    A POST, because seeing it changes what a later pass pays (``services.show_solution``). The page's script
    asks for JSON, ``{"html": <the highlighted solution>}``; a form post gets a page of its own.
    """
    lesson = _visible_lesson(request, lesson_id)
    if not lesson.exercise_solution_html:
        raise Http404
    if request.user.is_authenticated and lesson.is_published():
        services.show_solution(learner=request.user, lesson=lesson)
    if wants_json(request):
        return JsonResponse({"html": lesson.exercise_solution_html})
    return render(request, "progress/solution.html", {"lesson": lesson})


@require_POST
def uncomplete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Remove the completion mark; the XP stays (and completing again pays nothing)."""
    lesson = _visible_lesson(request, lesson_id)
    if not request.user.is_authenticated:
        return _sign_in_first(request, lesson)
    removed = services.uncomplete_lesson(learner=request.user, lesson=lesson)
    said = [_("The lesson is no longer marked complete. The XP it earned stays yours.")] if removed else []
    return _lesson_response(request, lesson, said)


def _too_many_to_sync() -> JsonResponse:
    return JsonResponse(
        {"error": _("At most %(max)s lessons can be added at once.") % {"max": services.MAX_SYNC_ITEMS}}, status=413
    )


def _not_lesson_numbers() -> JsonResponse:
    return JsonResponse({"error": _('Send {"lessons": [...]} with lesson numbers.')}, status=400)


def _is_id_list(value: object) -> bool:
    return isinstance(value, list) and all(type(item) is int for item in value)


@require_POST
def sync(request: HttpRequest) -> JsonResponse:
    """Add the completions and passed exercises this browser kept while signed out:
    ``{"lessons": [<lesson id>, ...], "exercises": [<lesson id>, ...], "solutions": [<lesson id>, ...]}``
    (``exercises`` and ``solutions``, the exercises whose reference solution it showed, may be left out).

    Answers which ids were accepted and which were ignored (and why): ``accepted`` and ``ignored`` for
    lessons, ``exercises: {"accepted", "ignored"}`` for exercises; bad input is refused whole.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Sign in to add this browser's progress to your account.")}, status=401)
    if not ratelimit.consume(request, action="sync_progress", user=request.user):
        return JsonResponse({"error": _("Too many requests. Wait a minute, then try again.")}, status=429)
    try:
        body = request.body
    except RequestDataTooBig:  # far more than MAX_SYNC_ITEMS lesson numbers take
        return _too_many_to_sync()
    try:
        payload = json.loads(body)
    except RecursionError:  # arrays in arrays, deeper than the parser goes
        return _not_lesson_numbers()
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": _("The request was not valid JSON.")}, status=400)
    lesson_ids = payload.get("lessons") if isinstance(payload, dict) else None
    if not _is_id_list(lesson_ids):
        return _not_lesson_numbers()
    if len(lesson_ids) > services.MAX_SYNC_ITEMS:
        return _too_many_to_sync()
    exercise_ids = payload.get("exercises", [])
    if not _is_id_list(exercise_ids):
        return JsonResponse({"error": _('Send "exercises" as a list of lesson numbers.')}, status=400)
    if len(exercise_ids) > services.MAX_SYNC_ITEMS:
        message = _("At most %(max)s exercises can be added at once.") % {"max": services.MAX_SYNC_ITEMS}
        return JsonResponse({"error": message}, status=413)
    solution_ids = payload.get("solutions", [])
    if isinstance(solution_ids, list) and len(solution_ids) > services.MAX_SYNC_ITEMS:
        return _too_many_to_sync()
    if not _is_id_list(solution_ids):
        return JsonResponse({"error": _('Send "solutions" as a list of lesson numbers.')}, status=400)
    result = services.sync_local_completions(
        learner=request.user, lesson_ids=lesson_ids, exercise_ids=exercise_ids, solution_ids=solution_ids
    )
    added, passed = len(result.accepted), len(result.exercises_accepted)
    said = []
    if added:
        said.append(
            ngettext(
                "%(count)s lesson from this browser was added to your account.",
                "%(count)s lessons from this browser were added to your account.",
                added,
            )
            % {"count": added}
        )
    if passed:
        said.append(
            ngettext(
                "%(count)s exercise passed in this browser was added to your account.",
                "%(count)s exercises passed in this browser were added to your account.",
                passed,
            )
            % {"count": passed}
        )
    said += [
        _("Achievement unlocked: %(icon)s %(title)s") % {"icon": achievement.icon, "title": achievement.title}
        for achievement in result.outcome.unlocked
    ]
    return JsonResponse(
        {
            "accepted": result.accepted,
            "ignored": result.ignored,
            "exercises": {"accepted": result.exercises_accepted, "ignored": result.exercises_ignored},
            "xp_awarded": result.outcome.xp_awarded,
            "messages": said,
        }
    )


@cached_page  # before login_required, which would load the user that a cached copy does without
@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The signed-in learner's progress; every date and time on it is on their own clock (the template too)."""
    learner = request.user
    with timezone.override(learner.zone):
        summary = selectors.learner_summary(learner=learner, today=timezone.localdate())
        history = paginate(request, XPEntry.objects.history_of(learner), per_page=XP_HISTORY_PAGE_SIZE)
    context = {"summary": summary, "entries": history["page_obj"], **history}
    return TemplateResponse(request, "progress/me.html", context)


def leaderboard(request: HttpRequest) -> HttpResponse:
    """This week's top learners by the XP they earned, and the reader's own place if they are further down."""
    week = selectors.Week.of(timezone.now())
    board = selectors.leaderboard(week=week, ladder=selectors.level_ladder(), reader=request.user)
    in_top = any(leader.learner_id == request.user.pk for leader in board.leaders)
    return render(
        request,
        "progress/leaderboard.html",
        {"week": week, "leaders": board.leaders, "own_rank": board.own_rank, "in_top": in_top},
    )


def how_xp_works(request: HttpRequest) -> HttpResponse:
    """What earns XP, the levels, and the achievements that are not secret."""
    achievements = list(Achievement.objects.all())
    return render(
        request,
        "progress/how_xp_works.html",
        {
            "levels": selectors.level_ladder(),
            "achievements": [achievement for achievement in achievements if not achievement.hidden],
            "secret_count": sum(1 for achievement in achievements if achievement.hidden),
        },
    )
