import uuid

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.services import stop_notification_emails
from comments import services
from comments.forms import CommentForm, EditCommentForm, FlagForm, ProblemReportForm
from comments.models import Comment, Notification, ProblemReport
from comments.notification_mail import unsubscribe_user_id
from comments.sanitize import render_comment
from comments.selectors import FIRST_THREADS, JUST_POSTED, Node, lesson_thread, threads_before
from courses.models import Lesson
from courses.views import paginate
from web.http import wants_json

NOTIFICATIONS_PAGE_SIZE = 30

# The regions of the lesson page where an outcome is said beside the control that caused it.
REPORT_RESULT = "report-result"
FOLLOW_RESULT = "follow-result"


def _lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    return get_object_or_404(Lesson.objects.visible_to(request.user).select_related("course"), pk=lesson_id)


def _first_error(form) -> str:
    """The first message of a bound form's errors, "" if it has none."""
    return next((message for messages in form.errors.values() for message in messages), "")


def _form_page(request: HttpRequest, lesson: Lesson, form, *, error: str = "", status: int = 200, **context):
    """The comment form on a page of its own, with what was typed: where a post without the script ends up
    when it cannot be saved (and the script gets the same reason as JSON)."""
    if wants_json(request):
        message = error or (_first_error(form) if form.is_bound else "") or _("The comment could not be saved.")
        return JsonResponse({"error": message}, status=status)
    context = {"lesson": lesson, "form": form, "error": error, **context}
    return render(request, "comments/comment_form_page.html", context, status=status)


def say_beside(request: HttpRequest, region: str, text: str, level: int = messages.SUCCESS) -> None:
    """Say ``text`` on the next page in the region of id ``region``, beside the control that caused it, rather
    than at the top of the page (base.html leaves out messages tagged "beside"; ``{% said_beside %}`` shows them).

    A message lives in its cookie, and a request with one is never answered from the page cache nor kept in it
    (``web.page_cache.may_use_copy``): the page that shows it is rendered for this reader alone.
    """
    messages.add_message(request, level, text, extra_tags=f"beside {region}")


def result_json(text: str, *, region: str, level: int = messages.SUCCESS, status: int = 200, **more) -> JsonResponse:
    """The outcome for the page's script, which writes it into ``region`` (an id), beside the control."""
    kind = {messages.SUCCESS: "success", messages.INFO: "info"}.get(level, "error")
    return JsonResponse({"messages": [text], "kind": kind, "region": region, **more}, status=status)


def section_response(
    request: HttpRequest,
    lesson: Lesson,
    *,
    comment: Comment | None = None,
    said: str = "",
    region: str = "",
    focus: str = "",
) -> HttpResponse:
    """The lesson's comments again: their HTML for the page's script, or the page that shows ``comment`` (else the
    lesson's comments).

    The script gets the threads it had: the first ones, or all of them once it loaded the rest (``threads=all``).
    ``said``, the outcome, is shown in the section's region of id ``region``: written there by the script (which
    then moves the focus to ``focus``, else to the comment), or said there on the page the redirect returns to.
    """
    anchor = f"comment-{comment.pk}" if comment else "comments"
    if wants_json(request):
        part = "all" if request.POST.get("threads") == "all" else "first"
        thread = lesson_thread(lesson=lesson, user=request.user, part=part)
        html = render_to_string("comments/section.html", {"lesson": lesson, "thread": thread}, request=request)
        answer = {"html": html, "anchor": focus or anchor}
        if said:
            answer |= {"messages": [said], "kind": "success", "region": region}
        return JsonResponse(answer)
    if said:
        say_beside(request, region, said)
    return redirect(comment_location(lesson, comment) if comment else f"{lesson.get_absolute_url()}#comments")


def posted_response(request: HttpRequest, lesson: Lesson, comment: Comment) -> HttpResponse:
    """A comment just posted: for the page's script, its own HTML alone (where it goes, the section's new title and
    counts, and a key for the form's next post); without it, the page that shows it."""
    if not wants_json(request):
        return redirect(comment_location(lesson, comment))
    thread = lesson_thread(lesson=lesson, user=request.user, part=[comment.root_id or comment.pk], reader=JUST_POSTED)
    node, holder = find_node(thread.roots, comment.pk)
    html = render_to_string(
        "comments/comment.html", {"lesson": lesson, "thread": thread, "node": node}, request=request
    )
    title = ngettext("%(counter)s comment", "%(counter)s comments", thread.count) % {"counter": thread.count}
    return JsonResponse(
        {
            "comment": html,
            "holder": f"comment-{holder.comment.pk}" if holder else None,
            "anchor": f"comment-{comment.pk}",
            "title": title,
            "by_code_block": thread.by_code_block,
            "submission": uuid.uuid4().hex,
        }
    )


def find_node(roots: list[Node], pk: int, holder: Node | None = None) -> tuple[Node | None, Node | None]:
    """The node of comment ``pk`` in these threads, and the one whose replies hold it (None at the top)."""
    for node in roots:
        if node.comment.pk == pk:
            return node, holder
        found, found_holder = find_node(node.replies, pk, node)
        if found:
            return found, found_holder
    return None, None


@require_http_methods(["GET", "POST"])
def post_comment(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Post a comment or a reply. On any refusal the typed text comes back in the form, with the reason.

    A GET (signing in from a refusal's page returns here) goes to the lesson's comments.
    """
    lesson = _lesson(request, lesson_id)
    if request.method == "GET":
        return redirect(f"{lesson.get_absolute_url()}#comments")
    form = CommentForm(request.POST)
    if not request.user.is_authenticated:
        form.is_valid()
        return _form_page(
            request, lesson, form, status=403,
            error=_("Your session has ended. Sign in, then post your comment again: your text is kept below."),
        )  # fmt: skip
    if not form.is_valid():
        return _form_page(request, lesson, form, status=400)
    if "preview" in request.POST:
        return _form_page(request, lesson, form, preview=render_comment(form.cleaned_data["body"]))
    data = form.cleaned_data
    earlier = services.made_from_form(request.user, data["submission"]) if data["submission"] else None
    if earlier is not None and services.is_retry(earlier, body=data["body"], parent_id=data["parent"]):
        # This form was posted already (its answer was lost, or it was pressed twice): the same answer again.
        return posted_response(request, lesson, earlier)
    if not ratelimit.consume(request, action="comment", user=request.user):
        return _form_page(
            request, lesson, form, status=429,
            error=_("You are commenting faster than we allow. Wait a little, then post again: your text is kept."),
        )  # fmt: skip
    parent = None
    if form.cleaned_data["parent"]:
        parent = Comment.objects.filter(pk=form.cleaned_data["parent"], lesson=lesson).first()
        if parent is None:
            return _form_page(
                request, lesson, form, status=400, error=_("The comment you replied to is no longer there.")
            )
    try:
        comment = services.post_comment(
            author=request.user,
            lesson=lesson,
            body=form.cleaned_data["body"],
            parent=parent,
            code_block=form.cleaned_data["code_block"],
            base_url=request.build_absolute_uri("/"),
            # The same form with other words (shown again from the browser's cache) makes a comment of its own.
            submission=None if earlier is not None else data["submission"],
            submission_is_new=True,
        )
    except ValidationError as error:
        return _form_page(request, lesson, form, status=403, error=error.messages[0])
    return posted_response(request, lesson, comment)


@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The HTML a comment will have, for the page's script: for signed-in learners, who are the ones with a form."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Sign in to comment.")}, status=403)
    if not ratelimit.consume(request, action="comment_preview", user=request.user):
        return JsonResponse({"error": _("Too many previews at once. Wait a minute, then try again.")}, status=429)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    return JsonResponse({"html": render_comment(form.cleaned_data["body"])})


def _own_comment(request: HttpRequest, pk: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("lesson__course"), pk=pk, deleted_at__isnull=True)
    if not services.can_change(user=request.user, comment=comment):
        raise PermissionDenied
    return comment


@login_required
@require_http_methods(["GET", "POST"])
def edit_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    form = EditCommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_comment(user=request.user, comment=comment, body=form.cleaned_data["body"])
        except ValidationError as error:
            return _form_page(request, comment.lesson, form, status=403, error=error.messages[0], comment=comment)
        return section_response(request, comment.lesson, comment=comment)
    status = 400 if form.is_bound else 200
    return _form_page(request, comment.lesson, form, status=status, comment=comment)


@login_required
@require_POST
def delete_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    services.delete_comment(user=request.user, comment=comment)
    return section_response(request, comment.lesson)


@require_POST
def follow(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Turn the lesson's reply notifications on (``follow=1``) or off."""
    lesson = _lesson(request, lesson_id)
    if not request.user.is_authenticated:
        return redirect_to_login(f"{lesson.get_absolute_url()}#comments")
    if request.POST.get("follow") == "1":
        services.follow(learner=request.user, lesson=lesson)
        said = _("You follow this lesson's comments: new comments and replies will be in your notifications.")
    else:
        services.unfollow(learner=request.user, lesson=lesson)
        said = _("You no longer follow this lesson's comments.")
    return section_response(request, lesson, said=said, region=FOLLOW_RESULT, focus="follow-button")


def comment_location(lesson: Lesson, comment: Comment) -> str:
    """Where ``comment`` is shown: on the lesson page when its thread is among the first ones, else on the page of
    the later threads."""
    if threads_before(comment) < FIRST_THREADS:
        return f"{lesson.get_absolute_url()}#comment-{comment.pk}"
    return f"{reverse('comments:more', kwargs={'lesson_id': lesson.pk})}#comment-{comment.pk}"


def show_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment's own address, for notifications and e-mails."""
    comment = get_object_or_404(Comment, pk=pk)
    return redirect(comment_location(_lesson(request, comment.lesson_id), comment))


def more_threads(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The lesson's threads after the first ones: their HTML for the lesson page's script, or a page of their own."""
    lesson = _lesson(request, lesson_id)
    thread = lesson_thread(lesson=lesson, user=request.user, part="rest")
    context = {"lesson": lesson, "thread": thread}
    if wants_json(request):
        return JsonResponse({"html": render_to_string("comments/threads.html", context, request=request)})
    return render(request, "comments/more_threads_page.html", context)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = paginate(request, Notification.objects.for_list(request.user), per_page=NOTIFICATIONS_PAGE_SIZE)
    return render(request, "comments/notifications.html", {"notifications": page["page_obj"], **page})


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go to what it is about."""
    notification = get_object_or_404(
        Notification.objects.select_related("comment__lesson__course", "report__lesson__course"),
        pk=pk,
        recipient=request.user,
    )
    services.mark_read(learner=request.user, notification_ids=[notification.pk])
    if notification.comment is not None:
        return redirect(comment_location(notification.comment.lesson, notification.comment))
    return redirect(notification.report.lesson.get_absolute_url())


@login_required
@require_POST
def mark_notifications_read(request: HttpRequest) -> HttpResponse:
    """``id`` marks one notification read; without it, all of them."""
    ids = [int(value) for value in request.POST.getlist("id") if value.isascii() and value.isdigit()]
    services.mark_read(learner=request.user, notification_ids=ids or None)
    return redirect("comments:notifications")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop e-mail about comments for the learner the signed token names; no sign-in needed.

    A mail client's one-click unsubscribe (RFC 8058) posts ``List-Unsubscribe=One-Click`` without a
    CSRF token, so that post is exempt: all it can ever do is turn e-mail off for the token's learner.
    The page's own form is CSRF-protected like every other.
    """
    user_id = unsubscribe_user_id(token)
    subscribed = None
    if user_id is not None:
        subscribed = User.objects.filter(pk=user_id).values_list("email_notifications", flat=True).first()
    if subscribed is None:
        return render(request, "comments/unsubscribe_invalid.html", status=400)
    if request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click":
        stop_notification_emails(user_id=user_id)
        return render(request, "comments/unsubscribe.html", {"subscribed": False})
    return _unsubscribe_page(request, user_id=user_id, subscribed=subscribed)


@csrf_protect
def _unsubscribe_page(request: HttpRequest, *, user_id: int, subscribed: bool) -> HttpResponse:
    """The link opened in a browser: a page that asks, and its form."""
    if request.method == "POST":
        stop_notification_emails(user_id=user_id)
        return redirect(request.path)
    return render(request, "comments/unsubscribe.html", {"subscribed": subscribed})


@login_required
@require_http_methods(["GET", "POST"])
def flag_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the moderators to look at a comment, with a reason; once per learner and comment.

    The lesson page links each comment's "Flag" here (a form under each of hundreds of comments would
    weigh more than the comments): GET shows the form, POST sends it. The page's script opens the same form
    under the comment and posts it for JSON. Either way the outcome is said beside the comment's actions.
    """
    comment = get_object_or_404(
        Comment.objects.visible_to(request.user).select_related("lesson__course"), pk=pk, deleted_at__isnull=True
    )
    if request.method == "GET":
        return render(request, "comments/flag_form_page.html", {"comment": comment, "form": FlagForm()})
    region = flag_result_id(comment)
    form = FlagForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return result_json(_first_error(form), region=region, level=messages.ERROR, status=400)
        return render(request, "comments/flag_form_page.html", {"comment": comment, "form": form}, status=400)
    try:
        services.flag_comment(learner=request.user, comment=comment, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        said, level = error.messages[0], messages.INFO
    else:
        said, level = _("Thank you. A moderator will look at this comment."), messages.SUCCESS
    if wants_json(request):
        return result_json(said, region=region, level=level)
    say_beside(request, region, said, level)
    return redirect(comment_location(comment.lesson, comment))


def flag_result_id(comment: Comment) -> str:
    """The id of the region beside a comment's actions where the outcome of flagging it is said."""
    return f"comment-{comment.pk}-result"


@require_POST
def report_problem(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """A problem with a lesson page, from anyone. The thanks is said beside the report's form, back on the lesson
    page at its anchor (or written there by the page's script); on a refusal, a page of its own shows the form
    again with what was typed and why (the script says why beside the form, which keeps the text)."""
    lesson = _lesson(request, lesson_id)
    form = ProblemReportForm(request.POST, lesson=lesson, signed_in=request.user.is_authenticated)
    if form.is_spam:
        # Answered as if it were sent, so the bot learns nothing; nothing is kept or mailed.
        return _report_sent(request, lesson)
    if not form.is_valid():
        return _report_page(request, lesson, form, status=400)
    if (
        form.cleaned_data["submission"]
        and ProblemReport.objects.filter(submission=form.cleaned_data["submission"]).exists()
    ):
        return _report_sent(request, lesson)  # sent already: its answer was lost, or it was pressed twice
    if not ratelimit.consume(request, action="report_problem"):
        return _report_page(
            request, lesson, form, status=429,
            error=_("Too many reports from your address. Wait a few minutes, then send it again: your text is kept."),
        )  # fmt: skip
    data = form.cleaned_data
    services.report_problem(
        lesson=lesson,
        kind=data["kind"],
        message=data["message"],
        reporter=request.user if request.user.is_authenticated else None,
        email=data.get("email", ""),
        section=data["section"],
        selected_text=data["selected_text"],
        lesson_version=data["lesson_version"],
        lesson_revision_id=data["lesson_revision"],
        base_url=request.build_absolute_uri("/"),
        submission=data["submission"],
    )
    return _report_sent(request, lesson)


def _report_sent(request: HttpRequest, lesson: Lesson) -> HttpResponse:
    thanks = _("Thank you! Your report was sent.")
    if wants_json(request):
        return result_json(thanks, region=REPORT_RESULT)
    say_beside(request, REPORT_RESULT, thanks)
    return redirect(f"{lesson.get_absolute_url()}#report-problem")


def _report_page(request: HttpRequest, lesson: Lesson, form, *, status: int, error: str = "") -> HttpResponse:
    if wants_json(request):
        # The form again, its fields marked, for the script to put in place of the one on the page.
        html = render_to_string("comments/report_form.html", {"lesson": lesson, "report_form": form}, request=request)
        said = error or _("The report was not sent. Check the fields marked above.")
        return result_json(said, region=REPORT_RESULT, level=messages.ERROR, status=status, form=html)
    context = {"lesson": lesson, "report_form": form, "error": error}
    return render(request, "comments/report_form_page.html", context, status=status)
