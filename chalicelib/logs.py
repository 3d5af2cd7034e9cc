"""Structured logging: one JSON object per line, key/value context, never secrets or phone numbers."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog


def configure(level: int = logging.INFO) -> None:
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
