"""Structured logging: one JSON object per line, key/value context, never secrets or phone numbers."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog

#: The standard-library logger Chalice's app writes to (``Chalice(app_name=...).log``).
CHALICE_LOGGER = "loyalty"


def configure(level: int = logging.INFO) -> None:
    logging.getLogger(CHALICE_LOGGER).addFilter(without_request_data)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            exception_without_message,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def without_request_data(record: logging.LogRecord) -> bool:
    """Chalice logs an error that escaped a view with the request's raw path (a phone number, a
    QR payload) and the exception's message: keep the line, the error's type and its frames only."""
    if record.exc_info and record.exc_info[0] is not None:
        error_type, _, tb = record.exc_info
        record.msg = "unhandled_error %s"
        record.args = (error_type.__name__,)
        record.exc_text = "".join(traceback.format_list(traceback.extract_tb(tb))).rstrip()
    else:
        record.msg = record.msg if not record.args else f"{record.msg} (arguments withheld)"
        record.args = ()
    return True


def exception_without_message(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """An exception as its type and where it was raised, never its message: messages quote the
    values that failed (a validation error's input, an item's key), which may be personal data."""
    exc_info = event.pop("exc_info", None)
    if not exc_info:
        return event
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    error_type, _, tb = exc_info
    if error_type is None:
        return event
    event["exception"] = {
        "type": error_type.__name__,
        "frames": [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)],
    }
    return event
