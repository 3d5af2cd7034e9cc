"""Is the service able to work: does the store answer."""

from __future__ import annotations

from chalicelib.errors import Unavailable
from chalicelib.store import tables


def check() -> dict[str, str]:
    try:
        tables.ping()
    except Exception as exc:
        raise Unavailable("the database does not answer", code="store_unavailable") from exc
    return {"status": "ok"}
