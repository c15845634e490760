"""Put 200 comments on one lesson of a ``*_bench`` database for ``make bench``.

The lesson ``COMMENTED_LESSON`` of the big course (``build_large_site``) gets 200 comments in 50
threads by the learners of ``build_progress_bench`` (so their levels show): half the threads are
chains of four replies, each answering the one before (deeper than the three levels the page nests,
so it shows the last two flat), the other half a comment with two replies; a quarter of the
comments are on the lesson's code blocks. Every comment's HTML is rendered as posting would
(``comments.sanitize``). Run this command after those two.

Running the command again leaves comments of the asked size as they are; otherwise (or with
``--force``) the lesson's comments are deleted and written again.
"""

from collections.abc import Sequence
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from comments.models import MAX_DEPTH, Comment
from comments.sanitize import render_comment
from comments.selectors import code_block_titles
from courses.management.commands.build_large_site import BIG_COURSE_SLUG
from courses.models import Lesson
from progress.management.commands.build_progress_bench import DOMAIN, HEAVY_EMAIL, NEW_EMAIL

COMMENTED_LESSON = "lesson-200"  # not the progress bench's lesson-250, which stays without comments
COMMENTS = 200
THREADS = 50
AUTHORS = 40
CHAIN = 5  # a comment and four replies, each to the one before
BODIES = [
    "Why does `await` here not block the *whole* program?",
    "Because the event loop runs other tasks meanwhile. See [the docs](https://docs.python.org/3/library/asyncio.html).",
    "> the event loop runs other tasks\n\nOnly at an `await`, though: a CPU-bound loop still blocks everything.",
    "Here is what I tried:\n\n```python\nimport asyncio\n\nasync def main():\n    await asyncio.sleep(1)\n\n"
    "asyncio.run(main())\n```\n\nIt prints nothing, as expected.",
    "Thanks, that **cleared it up**. Two things I still wonder about:\n\n1. cancellation\n2. timeouts",
]


def thread_sizes(comments: int, threads: int) -> list[int]:
    """``threads`` sizes adding up to ``comments``: chains of ``CHAIN`` and smaller threads, alternating."""
    if comments < threads:
        raise CommandError(f"At least one comment a thread: {comments} comments for {threads} threads.")
    sizes = [CHAIN if number % 2 == 0 else 1 for number in range(threads)]
    while sum(sizes) > comments:
        sizes[sizes.index(max(sizes))] -= 1
    number = 1
    while sum(sizes) < comments:
        sizes[number % threads] += 1
        number += 2 if threads > 1 else 1
    return sizes


def build_threads(*, lesson: Lesson, authors: Sequence[User], comments: int = COMMENTS, threads: int = THREADS):
    """Write the comments of ``lesson``: ``threads`` threads, a quarter of the comments on code blocks.

    In a thread of ``CHAIN`` comments or more, each reply answers the one before; in a smaller one,
    every reply answers the first comment. Returns the comments, oldest first.
    """
    titles = code_block_titles(lesson)
    sizes = thread_sizes(comments, threads)
    # Whole threads are about a code block (replies keep their thread's): the longest first, up to a quarter.
    on_code_blocks: dict[int, int] = {}  # thread → the number of its code block, the blocks in turn
    counted = 0
    for thread in sorted(range(len(sizes)), key=lambda thread: -sizes[thread]) if titles else []:
        if counted + sizes[thread] <= comments // 4:
            on_code_blocks[thread] = len(on_code_blocks) % len(titles) + 1
            counted += sizes[thread]
    start = timezone.now() - timedelta(days=30)
    written: list[Comment] = []
    for thread, size in enumerate(sizes):
        block = on_code_blocks.get(thread)
        root = None
        previous = None
        for position in range(size):
            parent = None
            if position:
                parent = previous if size >= CHAIN else root
            number = len(written)
            body = BODIES[number % len(BODIES)]
            comment = Comment(
                lesson=lesson,
                author=authors[number % len(authors)],
                parent=parent,
                depth=min(parent.depth + 1, MAX_DEPTH) if parent else 0,
                body=body,
                body_html=render_comment(body),
                code_block=block,
                code_block_title=titles[block - 1] if block else "",
            )
            written.append(comment)
            comment.save()
            previous = comment
            root = root or comment
    # Spread over the last 30 days, oldest first, so the page shows times of all kinds.
    step = timedelta(days=30) / max(len(written), 1)
    for number, comment in enumerate(written):
        comment.created_at = start + step * number
    Comment.objects.bulk_update(written, ["created_at"])
    return written


class Command(BaseCommand):
    help = "Put 200 comments on a lesson of the benchmark database (its name must end in _bench)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--comments", type=int, default=COMMENTS, help=f"Comments (default {COMMENTS}).")
        parser.add_argument("--threads", type=int, default=THREADS, help=f"Threads (default {THREADS}).")
        parser.add_argument("--force", action="store_true", help="Delete and write the lesson's comments again.")
        parser.add_argument(
            "--throwaway-database",
            metavar="NAME",
            help="Write into this database although its name does not end in _bench (its name, to confirm).",
        )

    def handle(self, *args, comments: int, threads: int, force: bool, throwaway_database: str | None, **options):
        name = connection.settings_dict["NAME"]
        if not name.endswith("_bench") and throwaway_database != name:
            raise CommandError(
                f"The database {name!r} is not a benchmark database: comments are only written into a database "
                "whose name ends in _bench (make bench creates and uses one), or one named by --throwaway-database."
            )
        lesson = Lesson.objects.filter(course__slug=BIG_COURSE_SLUG, slug=COMMENTED_LESSON).first()
        if lesson is None:
            raise CommandError(f"No lesson {COMMENTED_LESSON} in {BIG_COURSE_SLUG}: run build_large_site first.")
        authors = list(
            User.objects.filter(email__endswith=f"@{DOMAIN}")
            .exclude(email__in=[HEAVY_EMAIL, NEW_EMAIL])
            .order_by("email")[:AUTHORS]
        )
        if not authors:
            raise CommandError("No learners to write the comments: run build_progress_bench first.")
        existing = Comment.objects.filter(lesson=lesson)
        roots = existing.filter(parent__isnull=True)
        if not force and existing.count() == comments and roots.count() == threads:
            self.stdout.write(f"The {comments} comments in {threads} threads are already there.")
            return
        with transaction.atomic():
            existing.delete()
            written = build_threads(lesson=lesson, authors=authors, comments=comments, threads=threads)
        on_code = sum(1 for comment in written if comment.code_block)
        self.stdout.write(
            self.style.SUCCESS(
                f"Comments in {name}: {len(written)} in {threads} threads on {lesson.get_absolute_url()}, "
                f"{on_code} of them on code blocks."
            )
        )
