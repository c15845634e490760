"""Time the public pages against the running database (the demo course must be loaded).

    make bench            # or: .venv/bin/python scripts/bench_pages.py [--requests N]

Prints, per page, the SQL queries one request makes and the median and 95th-percentile
time of N requests through Django's full request handling (no network, no browser).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from courses.models import Lesson  # noqa: E402


def pages() -> list[str]:
    lesson = Lesson.objects.published().select_related("course").prefetch_related("tags").order_by("?").first()
    if lesson is None:
        sys.exit("No published lesson: run `make run` once (it loads the demo course) or import a course.")
    tag = lesson.tags.first()
    return [
        "/",
        lesson.course.get_absolute_url(),
        lesson.get_absolute_url(),
        *([tag.get_absolute_url()] if tag else []),
        "/healthz",
    ]


class QueryCounter:
    """Counts queries with an execute wrapper (a request's start resets connection.queries)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    client = Client(HTTP_HOST="127.0.0.1")
    print(f"{'page':<48} {'queries':>7} {'median ms':>10} {'p95 ms':>8}")
    for url in pages():
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(args.requests):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{url:<48} {counter.count:>7} {statistics.median(timings):>10.2f} {p95:>8.2f}")


if __name__ == "__main__":
    main()
