"""Reads of comments: a lesson page's threads in a fixed number of queries however many there are, and what the
admin's home page counts."""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from comments.models import MAX_DEPTH, Comment, Follow, ProblemReport
from courses.models import Lesson, Status
from progress.models import Level
from progress.selectors import level_ladder, standing


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


# The lesson page shows this many threads; "more" loads the rest.
FIRST_THREADS = 20


@dataclass
class Thread:
    count: int
    roots: list[Node]
    following: bool
    by_code_block: dict[int, int]
    more: int = 0  # threads after these, not loaded
    # Why the signed-in reader may not comment, shown instead of the form: a moderator's reason for
    # barring them, or an address still to confirm.
    barred: bool = False
    barred_reason: str = ""
    unverified: bool = False


def author_name(comment: Comment) -> str:
    if comment.author is None:
        return gettext("deleted learner")
    return comment.author.display_name or gettext("Learner #%(number)s") % {"number": comment.author_id}


def lesson_thread(
    *,
    lesson: Lesson,
    user,
    ladder: list[Level] | None = None,
    part: str | list[int] = "first",
    reader: dict | None = None,
) -> Thread:
    """The threads of ``part``: the first ``FIRST_THREADS`` (oldest first), the "rest" after them, "all", or those
    of a list of root comments. Four queries however many comments: theirs with their authors' XP, the counts of the
    whole lesson (comments shown, by code block, threads), the ladder of levels (none when the page has read it
    and passes ``ladder``), and the signed-in reader's standing (following the lesson, may they comment; none when
    the caller knows it and passes ``reader``, as ``_reader`` gives it)."""
    roots = Comment.objects.filter(lesson=lesson, parent=None).order_by("created_at", "id").values("pk")
    if part == "first":
        roots = roots[:FIRST_THREADS]
    elif part == "rest":
        roots = roots[FIRST_THREADS:]
    elif part != "all":
        roots = list(part)
    comments = list(
        Comment.objects.filter(Q(pk__in=roots) | Q(root__in=roots), lesson=lesson)
        .select_related("author", "author__progress")
        .order_by("created_at", "id")
    )
    if ladder is None:
        ladder = level_ladder()
    reader = _reader(user, lesson) if reader is None else reader
    nodes: dict[int, Node] = {}
    for comment in comments:
        node = Node(comment=comment, placeholder=comment.is_deleted or _hidden_from(user, comment))
        if comment.author is not None:
            progress = getattr(comment.author, "progress", None)
            node.level = standing(progress.xp if progress else 0, ladder).level
        nodes[comment.pk] = node
    shown_roots: list[Node] = []
    for node in nodes.values():
        comment = node.comment
        parent = nodes.get(comment.parent_id)
        if parent is None:
            shown_roots.append(node)
        elif parent.depth < MAX_DEPTH:
            parent.replies.append(node)
        else:
            # Deeper than three levels: beside the comment it answers, under that one's parent.
            node.in_reply_to = author_name(parent.comment)
            holder = parent
            while holder.depth >= MAX_DEPTH and holder.comment.parent_id in nodes:
                holder = nodes[holder.comment.parent_id]
            holder.replies.append(node)
    shown_roots = [root for root in shown_roots if _keep(root)]
    for node in nodes.values():
        node.replies = [reply for reply in node.replies if _keep(reply)]
    count, by_code_block, threads = _counts(lesson, user)
    more = max(threads - FIRST_THREADS, 0) if part == "first" else 0
    return Thread(count=count, roots=shown_roots, by_code_block=by_code_block, more=more, **reader)


def _hidden_from(user, comment: Comment) -> bool:
    return comment.is_hidden and not (user.is_staff or comment.author_id == user.pk)


def _counts(lesson: Lesson, user) -> tuple[int, dict[int, int], int]:
    """One query over the whole lesson: the comments the reader is shown, those by code block, the threads."""
    shown = Q(deleted_at__isnull=True)
    if not user.is_staff:
        shown &= (
            Q(hidden_at__isnull=True) | Q(author_id=user.pk) if user.is_authenticated else Q(hidden_at__isnull=True)
        )
    rows = (
        Comment.objects.filter(lesson=lesson)
        .values("code_block")
        .annotate(shown=Count("pk", filter=shown), threads=Count("pk", filter=Q(parent=None)))
        .order_by()
    )
    by_code_block = {row["code_block"]: row["shown"] for row in rows if row["code_block"] is not None and row["shown"]}
    return sum(row["shown"] for row in rows), by_code_block, sum(row["threads"] for row in rows)


def threads_before(comment: Comment) -> int:
    """How many threads of its lesson start before ``comment``'s."""
    root_id = comment.root_id or comment.pk
    root = Comment.objects.filter(pk=root_id).values("created_at").get()
    earlier = Q(created_at__lt=root["created_at"]) | Q(created_at=root["created_at"], pk__lt=root_id)
    return Comment.objects.filter(earlier, lesson_id=comment.lesson_id, parent=None).count()


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


# The standing of a reader who has just posted, in ``_reader``'s shape, known without its query: they may comment
# (the post was accepted), and posting made them follow the lesson.
JUST_POSTED = {"following": True, "barred": False, "barred_reason": "", "unverified": False}


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
