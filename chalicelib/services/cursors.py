"""Every list's ``cursor`` and ``next_cursor`` go through here: signed for the list and the caller."""

from __future__ import annotations

from chalicelib.config import settings
from chalicelib.domain.cursors import InvalidCursor, open_cursor, seal
from chalicelib.domain.identity import Identity
from chalicelib.errors import BadRequest


def position(identity: Identity, listing: str, cursor: str | None) -> str | None:
    """Where the caller's previous page of ``listing`` ended; None for the first page."""
    if cursor is None:
        return None
    try:
        return open_cursor(cursor, secret=settings().cursor_secret, listing=listing, caller=identity.sub)
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor", field="cursor") from None


def next_cursor(identity: Identity, listing: str, last: str | None) -> str | None:
    """The cursor of the page after the one that ended at ``last`` (None: there is none)."""
    if last is None:
        return None
    return seal(last, secret=settings().cursor_secret, listing=listing, caller=identity.sub)
