"""The load test's scenarios (loadtest/locustfile.py) still fit the site: each flow works, as a browser's would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from comments.models import Comment, Notification
from loadtest.prepare import PASSWORD, prepare
from ops.integrity import run_checks
from progress.models import Completion

# Locust patches the standard library for gevent when imported, so the scenarios run in a process of their own.
DRIVER = """
import json, sys
import locust
from locust.env import Environment
import loadtest.locustfile as scenarios

scenarios.Person.host = sys.argv[1]
scenarios.DATA["lessons"] = scenarios.DATA["lessons"][:1]  # everyone on one page, so the second learner replies
scenarios.random.random = lambda: 0.3  # complete (not undo), and reply where there is a comment
environment = Environment(user_classes=[scenarios.Visitor, scenarios.Learner], events=locust.events)
visitor = scenarios.Visitor(environment)
visitor.on_start()
visitor.catalogue(); visitor.course(); visitor.lesson(); visitor.how_xp_works()
for learner in [scenarios.Learner(environment), scenarios.Learner(environment)]:
    learner.on_start()
    learner.catalogue_and_course(); learner.complete(); learner.comment()
    learner.notifications(); learner.my_progress()
print(json.dumps({"answers": scenarios._answers, "failures": scenarios._failures}))
"""


@pytest.mark.django_db(transaction=True)
def test_visitors_and_learners_go_through_every_flow_without_a_failure(live_server, tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps(prepare(learners=2)))
    markers = tmp_path / "markers.txt"
    env = os.environ | {
        "LOADTEST_DATA": str(data),
        "LOADTEST_MARKERS": str(markers),
        "LOADTEST_EVENTS": str(tmp_path / "events.json"),
        "LOADTEST_RUN": "test",
    }
    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, live_server.url], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip

    assert driver.returncode == 0, driver.stderr
    result = json.loads(driver.stdout.splitlines()[-1])
    assert result["failures"] == []
    names = {name for _ended, _status, _failed, name, _began in result["answers"]}
    assert names >= {
        "GET /", "GET /courses/[course]/", "GET /courses/[course]/[lesson]/", "GET /xp/", "GET /accounts/login/",
        "POST /accounts/login/", "POST /progress/lessons/[id]/complete/", "POST /comments/lessons/[id]/",
        "POST /comments/lessons/[id]/ (reply)", "GET /notifications/", "GET /me/",
    }  # fmt: skip
    answers = result["answers"]
    statuses = [status for _ended, status, _failed, name, _began in answers if name != "POST /accounts/login/"]
    assert all(status == 200 for status in statuses)
    assert Completion.objects.count() == 2
    first, reply = Comment.objects.order_by("pk")
    assert reply.parent == first and markers.read_text() == "lt-test-000-001\nlt-test-001-001\n"
    assert Notification.objects.get().recipient == first.author
    checks = run_checks(markers=markers)
    assert all(check.passed for check in checks), [check.line() for check in checks]


def test_the_learners_sign_in_with_the_password_prepare_gives_them(db):
    data = prepare(learners=3)

    from accounts.models import User

    learner = User.objects.get(email=data["learners"][2])
    assert data["password"] == PASSWORD and learner.check_password(PASSWORD)
    assert learner.emailaddress_set.get().verified
    assert len(data["lessons"]) == 5 and len(data["courses"]) == 1


def test_prepare_refuses_a_database_that_is_not_a_load_tests(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STREAM_PGDATA", str(Path(settings.BASE_DIR) / ".pgdata"))
    env = os.environ.copy()
    refused = subprocess.run(
        [sys.executable, "-m", "loadtest.prepare", "--out", str(tmp_path / "data.json")], cwd=settings.BASE_DIR,
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert refused.returncode == 2
    assert "Refusing to fill this database" in refused.stderr
    assert not (tmp_path / "data.json").exists()
