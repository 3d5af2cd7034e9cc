"""The OpenAPI 3.1 document, built from the routes the app really has and their models."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Chalice
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from chalicelib.api.http import Operation
from chalicelib.api.schemas.common import ErrorBody
from chalicelib.services.idempotency import MAX_KEY_LENGTH

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{([^}]+)}")
#: What ``services.idempotency.scoped_key`` accepts: printable, at most MAX_KEY_LENGTH once trimmed.
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "One per intended operation (a UUID): the same key and body replay the first answer.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"^[!-~]([ -~]*[!-~])?$"},
}


def operations(app: Chalice) -> dict[tuple[str, str], Operation | None]:
    """Every (path, method) the app routes, with the operation recorded on its handler (or None)."""
    return {
        (path, method): getattr(entry.view_function, "operation", None)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not getattr(entry.view_function, "answers_undeclared_methods", False)
    }


def document(app: Chalice) -> dict[str, Any]:
    ops = operations(app)
    models: set[type[BaseModel]] = {ErrorBody}
    for op in ops.values():
        if op is not None:
            models.update(m for m in (op.body, op.response) if m is not None)
    _, defs = models_json_schema(
        [
            (m, "validation" if _is_request(m, ops) else "serialization")
            for m in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in sorted(ops.items()):
        if op is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(path, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Loyalty program API",
            "version": "1.0.0",
            "description": "The contract of the mobile app, the point of sale and the marketing console.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _is_request(model: type[BaseModel], ops: dict[tuple[str, str], Operation | None]) -> bool:
    return any(op is not None and op.body is model for op in ops.values())


def _body_required(model: type[BaseModel]) -> bool:
    """A body whose model can be built from nothing may be left out (``http.parse_body``)."""
    try:
        model()
    except ValidationError:
        return True
    return False


def _without_title(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "title"}


def _operation(path: str, op: Operation) -> dict[str, Any]:
    path_schemas = op.path_params.model_json_schema()["properties"] if op.path_params is not None else {}
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _without_title(path_schemas[name])}
        for name in _PATH_PARAM.findall(path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", []))
        params += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    if op.idempotency_key:
        params.append(IDEMPOTENCY_KEY)
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }
    success: dict[str, Any] = {"description": op.summary}
    if op.produces != "application/json":
        success["content"] = {op.produces: {"schema": {"type": "string"}}}
        success["headers"] = {
            "X-Next-Cursor": {
                "description": "The next page's cursor (absent on the last page)",
                "schema": {"type": "string"},
            }
        }
    elif op.response is not None:
        success["content"] = {"application/json": {"schema": {"$ref": REF.format(model=op.response.__name__)}}}
    elif op.status != 204:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{"bearer": []}] if op.roles is not None else [],
        "parameters": params,
        "responses": {str(op.status): success, "4XX": error},
    }
    if op.roles is not None:
        out["x-roles"] = sorted(r.value for r in op.roles)
    if op.body is not None:
        out["requestBody"] = {
            "required": _body_required(op.body),
            "content": {"application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
        }
    return out
