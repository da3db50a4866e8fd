"""One format for every log line of a process (vidplat's, uvicorn's, SAQ's), with tokens redacted.

Everything goes through the standard library's logging; structlog only renders the records:
readable console lines by default, one JSON object per line with `VIDPLAT_LOG_FORMAT=json`.
What the request id middleware and the job hooks bind (request, organization, user, job) is
merged into every line from `structlog.contextvars`.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from vidplat.domain.events import EVENTS

REDACTED = "[redacted]"
# Playback grants travel as `?token=...` (access logs print the whole path) and access tokens
# after `Bearer`: neither ever reaches a log line.
_SECRETS = re.compile(r"(?i)(token=|bearer\s+)[^\s&\"'\]]+")


def redact(text: str) -> str:
    return _SECRETS.sub(rf"\g<1>{REDACTED}", text)


# What every record has; anything else on a record was passed as `extra=` and becomes a field.
# (`message` and `asctime` are left by other formatters, such as pytest's, that saw it first;
# `color_message` is uvicorn's own copy of the message with terminal colours.)
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


def _extras(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    record: logging.LogRecord | None = event.get("_record")
    if record is not None:
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES:
                event.setdefault(key, value)
    return event


def _redact_values(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact(value)
    return event


class QuietCron(logging.Filter):
    """SAQ announces each cron run four times (scheduled, enqueued, processing, finished): DEBUG, not INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and "cron:" in record.getMessage():
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def formatter(log_format: str) -> logging.Formatter:
    """The one formatter of every handler: `console` or `json`."""
    pre_chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _extras,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_values,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Every logger configure_logging (or uvicorn's own setup) changes, and only on the loggers
# themselves: saving their state and putting it back undoes it.
CONFIGURED_LOGGERS = ("", EVENTS.name, "saq", *UVICORN_LOGGERS)


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger's records to one stderr handler at `level`; safe to call again."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    # The level is the handler's: domain events are always recorded (metrics count them) and
    # only shown when they reach it.
    handler.setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    EVENTS.setLevel(logging.DEBUG)
    # Python warnings (a library's deprecation, SQLAlchemy's reflection notes) become records in
    # the same format, not bare lines that break a JSON log.
    logging.captureWarnings(True)
    saq = logging.getLogger("saq")
    if not any(isinstance(f, QuietCron) for f in saq.filters):
        saq.addFilter(QuietCron())
    # Uvicorn's own loggers propagate here rather than printing in a second format.
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
