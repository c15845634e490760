"""Reads of comments: a lesson page's threads in a fixed number of queries however many there are, and what the
admin's home page counts."""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from comments.models import MAX_DEPTH, Comment, Follow, ProblemReport
from courses.models import Lesson, Status
from progress.models import Level
from progress.selectors import standing


@dataclass
class Node:
    """A comment in its thread, with the replies shown under it."""

    comment: Comment
    replies: list["Node"] = field(default_factory=list)
    in_reply_to: str = ""  # a reply shown beside the comment it answers names its author
    placeholder: bool = False  # hidden by a moderator or deleted: shown only to keep its replies in place
    level: Level | None = None

    @property
    def depth(self) -> int:
        return self.comment.depth


@dataclass
class Thread:
    count: int
    roots: list[Node]
    following: bool
    by_code_block: dict[int, int]
    # Why the signed-in reader may not comment, shown instead of the form: a moderator's reason for
    # barring them, or an address still to confirm.
    barred: bool = False
    barred_reason: str = ""
    unverified: bool = False


def author_name(comment: Comment) -> str:
    from django.utils.translation import gettext

    if comment.author is None:
        return gettext("deleted learner")
    return comment.author.display_name or gettext("Learner #%(number)s") % {"number": comment.author_id}


def lesson_thread(*, lesson: Lesson, user, ladder: list[Level] | None = None) -> Thread:
    """Three queries: the comments with their authors' XP, the ladder of levels (none when the page has
    already read it and passes ``ladder``), and the signed-in reader's standing (whether they follow the
    lesson, and whether they may comment)."""
    comments = list(
        Comment.objects.filter(lesson=lesson).select_related("author", "author__progress").order_by("created_at", "id")
    )
    if ladder is None:
        ladder = Level.objects.ladder()
    reader = _reader(user, lesson)
    nodes: dict[int, Node] = {}
    for comment in comments:
        hidden_from_reader = comment.is_hidden and not (user.is_staff or comment.author_id == user.pk)
        node = Node(comment=comment, placeholder=comment.is_deleted or hidden_from_reader)
        if comment.author is not None:
            progress = getattr(comment.author, "progress", None)
            node.level = standing(progress.xp if progress else 0, ladder).level
        nodes[comment.pk] = node
    roots: list[Node] = []
    for node in nodes.values():
        comment = node.comment
        parent = nodes.get(comment.parent_id)
        if parent is None:
            roots.append(node)
        elif parent.depth < MAX_DEPTH:
            parent.replies.append(node)
        else:
            # Deeper than three levels: beside the comment it answers, under that one's parent.
            node.in_reply_to = author_name(parent.comment)
            holder = parent
            while holder.depth >= MAX_DEPTH and holder.comment.parent_id in nodes:
                holder = nodes[holder.comment.parent_id]
            holder.replies.append(node)
    roots = [root for root in roots if _keep(root)]
    for node in nodes.values():
        node.replies = [reply for reply in node.replies if _keep(reply)]
    shown = [node for node in nodes.values() if not node.placeholder]
    by_code_block: dict[int, int] = {}
    for node in shown:
        if node.comment.code_block is not None:
            by_code_block[node.comment.code_block] = by_code_block.get(node.comment.code_block, 0) + 1
    return Thread(count=len(shown), roots=roots, by_code_block=by_code_block, **reader)


def _reader(user, lesson: Lesson) -> dict:
    """One query: does the reader follow ``lesson``, are they barred from commenting, is their address confirmed."""
    if not user.is_authenticated:
        return {"following": False}
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            following=Exists(Follow.objects.filter(learner=OuterRef("pk"), lesson=lesson)),
            verified=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)),
        )
        .values("following", "verified", "comment_ban__id", "comment_ban__reason")
        .first()
    )
    if row is None:
        return {"following": False}
    return {
        "following": row["following"],
        "barred": row["comment_ban__id"] is not None,
        "barred_reason": row["comment_ban__reason"] or "",
        "unverified": not row["verified"],
    }


def _keep(node: Node) -> bool:
    """A placeholder stays only while it holds replies that are shown."""
    node.replies = [reply for reply in node.replies if _keep(reply)]
    return not node.placeholder or bool(node.replies)


# A code block as courses.markdown.render_code_block writes it: its caption starts with the title, if it has one.
_CODE_BLOCK = re.compile(r'<figure class="code-block"[^>]*><figcaption>(?:<span class="code-title">([^<]*)</span>)?')


def code_block_titles(lesson: Lesson) -> list[str]:
    """The titles of the lesson's code blocks, in the order of the page ("" for a block without one)."""
    return [html.unescape(title) for title in _CODE_BLOCK.findall(lesson.body_html)]


# What the admin's home page counts (comments.templatetags.staff_overview)


def flagged_comments() -> QuerySet[Comment]:
    """Comments readers still see that have an open flag: the ones waiting for a moderator."""
    return Comment.objects.flagged().filter(hidden_at__isnull=True)


def new_reports() -> QuerySet[ProblemReport]:
    return ProblemReport.objects.filter(status=ProblemReport.Status.NEW)


def scheduled_lessons(*, now: datetime | None = None) -> QuerySet[Lesson]:
    """Lessons set to published whose publication date is still to come (after ``now``, by default this moment)."""
    return Lesson.objects.filter(status=Status.PUBLISHED, published_at__gt=now or timezone.now())


def scheduled_changes() -> QuerySet[Lesson]:
    """Lessons whose draft of changes the worker will publish at a time (courses.revisions.publish_scheduled_draft)."""
    return Lesson.objects.with_scheduled_changes()
