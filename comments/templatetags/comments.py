import uuid
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from comments.forms import ProblemReportForm
from comments.selectors import Thread, author_name, lesson_thread

register = template.Library()


@register.simple_tag(takes_context=True)
def lesson_comments(context, lesson, ladder=None) -> Thread:
    """``{% lesson_comments lesson ladder=panel.ladder as thread %}``: the lesson's threads, in a fixed number
    of queries; ``ladder``, the levels the page has already read, saves reading them again."""
    return lesson_thread(lesson=lesson, user=context["request"].user, ladder=ladder)


@register.filter
def comment_author(comment) -> str:
    return author_name(comment)


@register.simple_tag(takes_context=True)
def report_form(context, lesson) -> ProblemReportForm:
    """``{% report_form lesson as report_form %}``: the empty "report a problem" form of a lesson page."""
    return ProblemReportForm(lesson=lesson, signed_in=context["request"].user.is_authenticated)


@register.simple_tag(takes_context=True)
def said_beside(context, region: str, pk: int | None = None) -> list:
    """``{% said_beside "report-result" as said %}``: the messages the last request left for the region of that id,
    beside the control that caused them (``comments.views.say_beside``); base.html leaves them out of its list at
    the top of the page. With ``pk``, the region is the comment's: ``{% said_beside "comment" comment.pk %}``.
    """
    stored = context.get("messages")
    if not stored:
        return []
    if pk is not None:
        region = f"{region}-{pk}-result"
    return [message for message in stored if {"beside", region} <= set((message.extra_tags or "").split())]


@register.filter
def ago(moment) -> str:
    """How long ago ``moment`` was, as a reader says it: "just now" under a minute, else "5 minutes ago". The
    page's script says it again from the ``<time>``'s datetime, so a page kept in the cache stays right."""
    if timezone.now() - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(ago)s ago") % {"ago": timesince(moment)}


@register.simple_tag(takes_context=True)
def submission_key(context) -> str:
    """A form's key, which makes posting it again store nothing more: new for each form of each page sent. A page
    rendered for the page cache holds its placeholder instead, replaced in every copy sent (web.page_cache)."""
    return context.get("submission_key") or uuid.uuid4().hex
