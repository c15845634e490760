"""One log line per request and per task, with the fields an operator greps for."""

import json
import logging
import re
from unittest.mock import ANY

import pytest
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tasks import queue_email
from tests.config.test_deploy import run_manage
from tests.factories import LessonFactory

LINE = re.compile(r"^method=(\S+) path=(\S+) status=(\d+) ms=(\d+\.\d) queries=(\d+)$")


def request_lines(caplog) -> list[tuple[str, ...]]:
    return [LINE.match(record.getMessage()).groups() for record in caplog.records if record.name == "stream.request"]


@pytest.mark.django_db
def test_each_request_logs_method_path_status_time_and_queries(client, caplog):
    lesson = LessonFactory()
    caplog.set_level(logging.INFO, logger="stream.request")
    with CaptureQueriesContext(connection) as queries:
        client.get(lesson.get_absolute_url() + "?token=secret-reset-key&email=ada@example.com")

    [(method, path, status, ms, counted)] = request_lines(caplog)
    assert (method, path, status) == ("GET", lesson.get_absolute_url(), "200")
    assert int(counted) == len(queries) > 0
    assert float(ms) > 0
    assert "secret" not in caplog.text and "ada@" not in caplog.text, "the query string stays out of the log"


@pytest.mark.django_db
def test_answers_from_other_middleware_are_logged_and_odd_paths_stay_on_one_line(client, caplog):
    caplog.set_level(logging.INFO, logger="stream.request")
    client.get("/courses/a%00b/")  # refused by a middleware, before any view
    client.get("/courses/파이썬/%0Aforged=1/")
    client.post("/no-such-page/")

    assert request_lines(caplog) == [
        ("GET", "/courses/a%00b/", "400", ANY, "0"),
        ("GET", "/courses/%ED%8C%8C%EC%9D%B4%EC%8D%AC/%0Aforged=1/", "404", ANY, "0"),
        ("POST", "/no-such-page/", "404", ANY, "0"),
    ]


def test_log_format_json_writes_each_line_as_a_json_object():
    script = "from django.test import Client; Client().get('/healthz/live', HTTP_HOST='localhost')"
    result = run_manage("shell", "--no-imports", "-c", script, LOG_FORMAT="json")
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    [request] = [line for line in lines if line["logger"] == "stream.request"]
    assert request | {"time": None, "ms": None} == {
        "time": None,
        "level": "INFO",
        "logger": "stream.request",
        "message": f"method=GET path=/healthz/live status=200 ms={request['ms']} queries=0",
        "method": "GET",
        "path": "/healthz/live",
        "status": 200,
        "ms": None,
        "queries": 0,
    }


def test_with_request_log_file_the_request_lines_go_to_the_file_alone(tmp_path):
    log = tmp_path / "requests.log"
    script = (
        "import logging; from django.test import Client; Client().get('/healthz/live', HTTP_HOST='localhost'); "
        "logging.getLogger('stream.other').warning('not a request line')"
    )
    result = run_manage("shell", "--no-imports", "-c", script, REQUEST_LOG_FILE=str(log))
    [line] = log.read_text().splitlines()
    assert "stream.request: method=GET path=/healthz/live status=200" in line
    assert "stream.request" not in result.stderr, "each line written once, by the web process, not relayed"
    assert "not a request line" in result.stderr and "not a request line" not in log.read_text()


def test_an_unknown_log_format_stops_the_start():
    result = run_manage("check", LOG_FORMAT="yaml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_one_line_per_task(deliver_mail, caplog):
    caplog.set_level(logging.INFO, logger="stream.task")
    with transaction.atomic():
        queue_email(message=EmailMessage("Subject", "Body", "from@example.com", ["to@example.com"]), kind="test")
    deliver_mail()

    [line] = [record.getMessage() for record in caplog.records if record.name == "stream.task"]
    assert re.fullmatch(
        r"task=accounts\.tasks\.send_email id=[0-9a-f-]{36} outcome=SUCCESSFUL attempt=1 ms=\d+\.\d", line
    ), line
