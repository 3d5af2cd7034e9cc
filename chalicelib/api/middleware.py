"""Cross-cutting work: a request id on every log line of the request, one access-log line,
and API.md's error body for the errors Chalice raises itself before a view runs (unsupported media
type, bad request); for every invocation of any function, its figures flushed as metrics, and
outside HTTP the Lambda request id on its log lines."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from chalice.app import Request, Response

from chalicelib import metrics
from chalicelib.services.catalog_cache import one_reading

log = structlog.get_logger("loyalty.http")

_CHALICE_CODES = {
    "BadRequestError": "bad_request",
    "UnauthorizedError": "unauthorized",
    "ForbiddenError": "forbidden",
    "NotFoundError": "not_found",
    "MethodNotAllowedError": "method_not_allowed",
    "RequestTimeoutError": "request_timeout",
    "ConflictError": "conflict",
    "UnprocessableEntityError": "unprocessable_entity",
    "TooManyRequestsError": "rate_limited",
    "UnsupportedMediaType": "unsupported_media_type",
    "InternalServerError": "internal_error",
}


def access_log(event: Request, get_response: Callable[[Request], Response]) -> Response:
    started = time.perf_counter()
    request_id = (event.context or {}).get("requestId") or uuid.uuid4().hex
    # Every line logged while the request runs (an unhandled_error, a store warning) carries the
    # access line's id, so it can be matched to its request; unbound after, so a warm Lambda's
    # next request never inherits it.
    # The catalog's version is read once per request.
    with structlog.contextvars.bound_contextvars(request_id=request_id), one_reading():
        response = _as_error_body(get_response(event))
    response.headers["X-Request-Id"] = request_id
    log.info(
        "request",
        request_id=request_id,
        method=event.method,
        route=(event.context or {}).get("resourcePath"),
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return response


def _as_error_body(response: Response) -> Response:
    """Chalice's own ``{"Code", "Message"}`` errors in API.md's ``{"error": {...}}`` shape."""
    body: Any = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        response.body = json.dumps({"error": {"code": code, "message": str(body.get("Message", ""))}})
        response.headers["Content-Type"] = "application/json"
    return response


def invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Every function's invocation (the API's requests included): its metrics flushed at its end,
    and, for the streams, queues and schedules, Lambda's request id on every line it logs."""
    request_id = getattr(getattr(event, "context", None), "aws_request_id", None)
    try:
        if isinstance(event, Request) or request_id is None:
            return get_response(event)
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            return get_response(event)
    finally:
        metrics.flush()
