"""Log lines that machines read too: one per request (config.middleware.RequestLogMiddleware) and one per task
(the worker), as ``key=value`` pairs, or every line as a JSON object with ``LOG_FORMAT=json``."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

request_logger = logging.getLogger("stream.request")
task_logger = logging.getLogger("stream.task")


def log_fields(logger: logging.Logger, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """One line of ``key=value`` pairs; the JSON format writes the fields as the object's own keys.

    Values must need no quoting (numbers, words, percent-encoded paths): they are written as they are.
    """
    if logger.isEnabledFor(level):
        logger.log(level, " ".join(f"{key}={value}" for key, value in fields.items()), extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the line's fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
