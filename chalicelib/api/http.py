"""The one decorator every route goes through.

It authenticates, parses the body and query into their models, calls the view, renders the
result through the response model, and maps every error to API.md's error body. Chalice's HTTP
middleware does not see exceptions raised in views, so the mapping lives here, once. The
operation it records on each handler is what ``openapi.py`` documents.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast
from urllib.parse import unquote

import structlog
from chalice.app import Blueprint, Chalice, Response, RouteEntry
from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError, create_model
from pydantic_core import ErrorDetails

from chalicelib import schedule
from chalicelib.api.schemas.common import CardCode, DeadLetterId, DeviceToken, Identifier, MessageId
from chalicelib.auth import authenticate
from chalicelib.config import settings
from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import (
    BadRequest,
    InvalidField,
    LoyaltyError,
    MethodNotAllowed,
    PayloadTooLarge,
    from_refusal,
)
from chalicelib.services.idempotency import Outcome
from chalicelib.store.base import as_unavailable

log = structlog.get_logger("loyalty.api")

PUBLIC: frozenset[Role] | None = None
ANY_MEMBER = frozenset({Role.CUSTOMER})
STAFF = frozenset({Role.CASHIER, Role.MARKETER, Role.ADMIN})
CASHIER = frozenset({Role.CASHIER})
ADMIN = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str
    roles: frozenset[Role] | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    tag: str
    path_params: type[BaseModel] | None = None
    idempotency_key: bool = False
    #: The success body's media type (``text/csv`` for an export; JSON otherwise).
    produces: str = "application/json"


@dataclass(frozen=True)
class TextBody:
    """A view's answer that is not JSON (an export): its text, media type and extra headers."""

    text: str
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


B = TypeVar("B", bound=BaseModel | None)
Q = TypeVar("Q", bound=BaseModel | None)


@dataclass(frozen=True)
class Call(Generic[B, Q]):
    """What a view gets: the verified caller and the parsed request, typed as its operation's body
    and query models (None where it has none)."""

    identity: Identity
    body: B
    query: Q
    headers: Mapping[str, str]


ANONYMOUS = Identity(sub="")

#: What a view returns: a service's typed result (a TypedDict), a model, or the outcome of an
#: exactly-once operation; None for a 204.
Rendered = Mapping[str, object] | BaseModel | Outcome | TextBody | None

C = TypeVar("C")


def command(kind: type[C], body: BaseModel, **extra: object) -> C:
    """The service's command (a frozen dataclass the service defines) from the validated body: the
    fields by name, nested models as the command's own types. Services do not import the API's
    models (api -> services), so the body is handed over as their type, converted here once."""
    adapter = _COMMAND_ADAPTERS.get(kind)
    if adapter is None:
        adapter = _COMMAND_ADAPTERS[kind] = TypeAdapter(kind)
    return cast(C, adapter.validate_python({**body.model_dump(), **extra}))


#: Building an adapter costs milliseconds: one per command type, per warm process.
_COMMAND_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}

#: Every path parameter ends up in a DynamoDB key (hash key at most 2048 bytes, range key 1024, UTF-8)
#: or is read as one; outside these bounds it can name nothing, so it is refused before any lookup.
#: A parameter not named here is one of our ids.
PATH_PARAMETERS: Mapping[str, object] = {
    "token": DeviceToken,
    "code": CardCode,
    "message_id": MessageId,
    "dead_letter_id": DeadLetterId,
    # The document names the jobs there are; another name is still API.md's 404, not a 422.
    "name": Annotated[Identifier, Field(json_schema_extra={"enum": list[JsonValue](sorted(schedule.NAMES))})],
}
_PATH_PARAM = re.compile(r"{([^}]+)}")


def path_params_model(path: str, view_name: str) -> type[BaseModel] | None:
    names = _PATH_PARAM.findall(path)
    if not names:
        return None
    fields: dict[str, Any] = {name: (PATH_PARAMETERS.get(name, Identifier), ...) for name in names}
    return create_model(f"{view_name}_path", __config__=ConfigDict(extra="forbid", frozen=True), **fields)


def operation(
    bp: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    roles: frozenset[Role] | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    idempotency_key: bool = False,
    produces: str = "application/json",
) -> Callable[[Callable[..., Rendered]], Callable[..., Response]]:
    """``idempotency_key``: the operation moves points and requires the Idempotency-Key header."""

    def decorate(view: Callable[..., Rendered]) -> Callable[..., Response]:
        tag = bp._import_name.rsplit(".", 1)[-1]
        path_model = path_params_model(path, view.__name__)
        op = Operation(
            method, summary, roles, body, query, response, status, tag, path_model, idempotency_key, produces
        )

        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            try:
                identity = ANONYMOUS if roles is None else authenticate(request.headers.get("authorization"), roles)
                params = parse_path(path_params, path_model) if path_model else {}
                call = Call(
                    identity=identity,
                    body=parse_body(request.raw_body, body) if body else None,
                    query=parse_query(request.query_params or {}, query) if query else None,
                    headers=request.headers,
                )
                result = view(call, **params)
            except Exception as exc:  # noqa: BLE001 - the one place errors become responses
                return error_response(exc)
            return render(result, status, response)

        handler.operation = op  # type: ignore[attr-defined]
        bp.route(path, methods=[method], content_types=["application/json"])(handler)
        return handler

    return decorate


def parse_body(raw: str | bytes | None, model: type[BaseModel]) -> BaseModel:
    raw = raw.encode() if isinstance(raw, str) else (raw or b"")
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(f"the body is over {settings().max_body_bytes} bytes")
    if not raw.strip():
        try:
            return model()  # a body whose fields are all optional may be left out
        except ValidationError:
            raise BadRequest("a JSON body is required", code="malformed_json") from None
    try:
        return model.model_validate_json(_integral_numbers_as_integers(raw), strict=True)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _integral_numbers_as_integers(raw: bytes) -> bytes:
    """JSON has one kind of number: ``18.0`` is the integer 18 (RFC 8259; JSON Schema's "integer"),
    which strict validation would refuse for an int field. Strings stay strings (``"18"`` is not one)."""
    try:
        value = json.loads(raw, parse_float=_number)
    except (ValueError, RecursionError):
        return raw  # pydantic says what is wrong with it
    return json.dumps(value).encode()


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_path(params: Mapping[str, str], model: type[BaseModel]) -> dict[str, str]:
    try:
        parsed = model.model_validate({k: unquote(v) for k, v in params.items()})
    except ValidationError as exc:
        raise validation_error(exc) from None
    return dict(parsed)


def parse_query(params: Mapping[str, str], model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise validation_error(exc) from None


def validation_error(exc: ValidationError) -> LoyaltyError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return BadRequest("the body is not valid JSON", code="malformed_json")
    details = [{"field": _field(e["loc"]), "message": _message(e)} for e in errors]
    return InvalidField(details[0]["field"], details[0]["message"], details=details)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"])


def render(result: Rendered, status: int, model: type[BaseModel] | None) -> Response:
    if isinstance(result, Outcome):
        response = render(result.body, result.status, model)
        if result.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response
    if status == 204:
        return Response(body="", status_code=204)
    if isinstance(result, TextBody):
        return Response(
            body=result.text, status_code=status, headers={"Content-Type": result.content_type, **result.headers}
        )
    if model is not None and not isinstance(result, model):
        result = model.model_validate(result)
    body = result.model_dump(mode="json", by_alias=True) if isinstance(result, BaseModel) else result
    return Response(body=json.dumps(body), status_code=status, headers=_json_headers())


def _json_headers() -> dict[str, str | list[str]]:
    return {"Content-Type": "application/json"}


def error_response(exc: Exception) -> Response:
    error = _as_ours(exc)
    if error is None:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        body = {"error": {"code": "internal_error", "message": "an internal error occurred"}}
        return Response(body=json.dumps(body), status_code=500, headers=_json_headers())
    if error.status >= 500:
        log.warning("dependency_unavailable", code=error.code, error_type=type(exc).__name__)
    return Response(body=json.dumps(error.body()), status_code=error.status, headers=_json_headers())


def _as_ours(exc: Exception) -> LoyaltyError | None:
    """The error ``exc`` is in API.md's terms; None for one we did not expect (a bug)."""
    if isinstance(exc, LoyaltyError):
        return exc
    if isinstance(exc, DomainRefusal):
        return from_refusal(exc)
    return as_unavailable(exc)


#: The methods API Gateway (REST) can route to a function. One a path does not declare is answered
#: by API Gateway itself, 403 "Missing Authentication Token"; routing every one of them to
#: ``method_not_allowed`` makes AWS and the local server answer alike: 405, Allow and the error body.
GATEWAY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def answer_undeclared_methods(app: Chalice) -> None:
    """Route the gateway methods no operation declares on a path to a 405 (OPTIONS: 204 with Allow).

    Call it once, after every blueprint is registered."""
    for path, routed in list(app.routes.items()):
        missing = [m for m in GATEWAY_METHODS if m not in routed]
        if not missing:
            continue
        allow = allowed_methods(routed)

        def method_not_allowed(allow: str = allow, **path_params: str) -> Response:
            if app.current_request is not None and app.current_request.method == "OPTIONS":
                return Response(body="", status_code=204, headers={"Allow": allow})
            return method_not_allowed_response(app.current_request.method if app.current_request else "", allow)

        method_not_allowed.answers_undeclared_methods = True  # type: ignore[attr-defined]
        name = "method_not_allowed_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
        app.route(path, methods=missing, name=name, content_types=["*/*"])(method_not_allowed)


def allowed_methods(routed: Mapping[str, RouteEntry]) -> str:
    """The Allow header of a path: the methods its operations declare, and OPTIONS."""
    declared = {m for m, entry in routed.items() if hasattr(entry.view_function, "operation")}
    return ", ".join(sorted(declared | {"OPTIONS"}))


def method_not_allowed_response(method: str, allow: str) -> Response:
    error = MethodNotAllowed(f"{method or 'this method'} is not one of {allow} here")
    return Response(
        body=json.dumps(error.body()), status_code=error.status, headers={**_json_headers(), "Allow": allow}
    )
