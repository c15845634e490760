"""Fills the load test's database before the simulated learners arrive: the demo course and the learners.

    python -m loadtest.prepare --learners 50 --out learners.json

Run with the site's settings (and so its environment) after the site has migrated the database. Every learner
is ``loadtest-NNN@example.com`` with a confirmed address and the password in the JSON it writes; every third one
follows two lessons, so new comments owe notifications to learners who never commented. It refuses any database
but a load test's own: the embedded server in a ``.loadtest/`` folder, or a ``DATABASE_URL`` database whose name
ends in ``_loadtest``.
"""

import argparse
import json
import os
import sys
from pathlib import Path

PASSWORD = "loadtest-password-not-secret"


def _throwaway_database() -> str | None:
    """Why the configured database may not be filled, or None if it is a load test's own."""
    from django.conf import settings

    if os.environ.get("DATABASE_URL"):
        name = settings.DATABASES["default"]["NAME"]
        return None if name.endswith("_loadtest") else f"the database {name!r} does not end in _loadtest"
    pgdata = os.environ.get("STREAM_PGDATA", "")
    return None if ".loadtest" in Path(pgdata).parts else "the embedded server's data is not in a .loadtest/ folder"


def prepare(*, learners: int) -> dict:
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import User
    from comments import services as comments
    from courses.models import Lesson

    call_command("import_course", str(settings.BASE_DIR / "content" / "asyncio"), verbosity=0)
    lessons = list(Lesson.objects.published().select_related("course").order_by("course__slug", "position"))
    password = make_password(PASSWORD)  # hashed once: the production hasher takes a good part of a second
    emails = [f"loadtest-{number:03d}@example.com" for number in range(1, learners + 1)]
    User.objects.bulk_create([User(email=email, password=password) for email in emails], ignore_conflicts=True)
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, primary=True, verified=True) for user in users],
        ignore_conflicts=True,
    )
    for index, user in enumerate(users[::3]):
        for lesson in (lessons[index % len(lessons)], lessons[(index + 1) % len(lessons)]):
            comments.follow(learner=user, lesson=lesson)
    return {
        "password": PASSWORD,
        "learners": emails,
        "courses": sorted({lesson.course.get_absolute_url() for lesson in lessons}),
        "lessons": [{"id": lesson.pk, "url": lesson.get_absolute_url()} for lesson in lessons],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if reason := _throwaway_database():
        print(f"Refusing to fill this database with load-test learners: {reason}.", file=sys.stderr)
        return 2
    data = prepare(learners=args.learners)
    args.out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print(f"{len(data['learners'])} learners and {len(data['lessons'])} lessons ready for the load test.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
