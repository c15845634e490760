"""`manage.py db_worker` with the heartbeat's timings cut from seconds to tenths, for tests that start real workers.

    python -m tests.worker.quick_worker --no-reload --no-startup-delay --interval 0.2

A worker beats every 0.2 s, is taken as dead after 1 s of silence, and releases dead workers' tasks every 0.5 s:
what takes about a minute with the real timings (worker/heartbeat.py) takes seconds.
"""

import os
import sys
from datetime import timedelta

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import execute_from_command_line

    from worker import heartbeat as worker

    worker.HEARTBEAT_INTERVAL = timedelta(seconds=0.2)
    worker.STALE_AFTER = timedelta(seconds=1)
    worker.RELEASE_EVERY = timedelta(seconds=0.5)
    execute_from_command_line(["manage.py", "db_worker", *sys.argv[1:]])
