"""Stores (and later beacons and geofences) as staff see them."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import STAFF, Call, operation
from chalicelib.services import places

places_bp = Blueprint(__name__)


@operation(
    places_bp,
    "GET",
    "/stores",
    summary="The program's stores",
    roles=STAFF,
    query=schemas.PageQuery,
    response=schemas.StoreList,
)
def list_stores(call: Call) -> Any:
    return places.stores_page(call.query.limit, call.query.cursor)
