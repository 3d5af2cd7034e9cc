"""Every list's ``cursor`` and ``next_cursor`` go through here: signed for the list and the caller."""

from __future__ import annotations

from chalicelib.config import settings
from chalicelib.domain.cursors import open_cursor, seal
from chalicelib.domain.identity import Identity


def position(identity: Identity, listing: str, cursor: str | None) -> str | None:
    """Where the caller's previous page of ``listing`` ended; None for the first page."""
    if cursor is None:
        return None
    return open_cursor(cursor, secret=settings().cursor_secret, listing=listing, caller=identity.sub)


def next_cursor(identity: Identity, listing: str, last: str | None) -> str | None:
    """The cursor of the page after the one that ended at ``last`` (None: there is none)."""
    if last is None:
        return None
    return seal(last, secret=settings().cursor_secret, listing=listing, caller=identity.sub)
