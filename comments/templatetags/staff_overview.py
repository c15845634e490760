"""What the admin's home page counts for staff: flagged comments, new problem reports, scheduled lessons and
scheduled drafts of changes.

One query per count, each shown only to those allowed to open the list it links to.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comments import selectors

register = template.Library()


@dataclass
class Count:
    label: str
    count: int
    url: str


@register.inclusion_tag("admin/comments/staff_overview.html", takes_context=True)
def staff_overview(context) -> dict:
    """``{% staff_overview %}``: the counts, each linking to the admin list that shows those rows."""
    user = context["request"].user
    counts = []
    if user.has_perm("comments.view_comment"):
        counts.append(
            Count(
                _("Flagged comments"),
                selectors.flagged_comments().count(),
                _changelist("comments_comment", flagged="yes", hidden="no"),
            )
        )
    if user.has_perm("comments.view_problemreport"):
        counts.append(
            Count(
                _("New problem reports"),
                selectors.new_reports().count(),
                _changelist("comments_problemreport", status__exact="new"),
            )
        )
    if user.has_perm("courses.view_lesson"):
        counts.append(
            Count(
                _("Scheduled lessons"),
                selectors.scheduled_lessons(now=timezone.now()).count(),
                _changelist("courses_lesson", state="scheduled"),
            )
        )
        counts.append(
            Count(
                _("Scheduled changes"),
                selectors.scheduled_changes().count(),
                _changelist("courses_lesson", state="changes_scheduled"),
            )
        )
    return {"counts": counts}


def _changelist(name: str, **query: str) -> str:
    return f"{reverse(f'admin:{name}_changelist')}?{urlencode(query)}"
