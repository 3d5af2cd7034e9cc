"""Stores and merchants as the API serves them (cached per warm Lambda, refreshed after a while)."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from chalicelib.config import settings
from chalicelib.domain.catalog import Store
from chalicelib.store import catalog

_lock = threading.Lock()
_stores: tuple[float, dict[str, Store]] | None = None


def stores() -> dict[str, Store]:
    global _stores
    cached = _stores
    if cached is not None and time.monotonic() - cached[0] < settings().program_cache_ttl_s:
        return cached[1]
    with _lock:
        by_id = {s.store_id: s for s in catalog.list_all(Store)}
        _stores = (time.monotonic(), by_id)
        return by_id


def forget() -> None:
    global _stores
    _stores = None


def store(store_id: str) -> Store | None:
    return stores().get(store_id)


def stores_page(limit: int, cursor: str | None) -> dict[str, Any]:
    """Stores ordered by id, ``limit`` at a time after ``cursor`` (the last id of the page before)."""
    ordered = sorted(stores().values(), key=lambda s: s.store_id)
    if cursor is not None:
        ordered = [s for s in ordered if s.store_id > cursor]
    page = ordered[:limit]
    return {
        "items": [dataclasses.asdict(s) for s in page],
        "next_cursor": page[-1].store_id if len(ordered) > limit else None,
    }
