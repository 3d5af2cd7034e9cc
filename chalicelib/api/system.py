"""Health and the API's own description."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import PUBLIC, Call, operation
from chalicelib.api.schemas.common import Health
from chalicelib.services import health

system = Blueprint(__name__)


@operation(system, "GET", "/health", summary="200 once the store answers, 503 otherwise", roles=PUBLIC, response=Health)
def get_health(call: Call[None, None]) -> dict[str, str]:
    return health.check()


@operation(system, "GET", "/openapi.json", summary="This API as an OpenAPI 3.1 document", roles=PUBLIC)
def get_openapi(call: Call[None, None]) -> dict[str, Any]:
    from chalicelib.api.openapi import document

    return document(system.current_app)
