"""List cursors: opaque, signed, and good only for the list and the caller they were given to.

A cursor carries where the last page ended (an id, never a decoded database key), signed with
an HMAC. The key is derived from the secret with the list's name and the caller, so a cursor
edited, forged, taken from another list or handed to another caller is refused, and the
position inside it never reaches a query unless this program wrote it.
"""

from __future__ import annotations

import hashlib
import re

from itsdangerous import BadData, URLSafeSerializer

from chalicelib.domain.errors import DomainRefusal, RefusalKind

#: List names go into the key derivation next to the caller; a fixed alphabet without ``/``
#: keeps (list, caller) pairs from running into each other.
_LISTING = re.compile(r"^[a-z][a-z_]*$")


class InvalidCursor(DomainRefusal):
    """The cursor is not one this API gave this caller for this list."""

    kind = RefusalKind.NOT_ISSUED
    default_field = "cursor"
    default_code = "invalid_cursor"


def _serializer(secret: str, listing: str, caller: str) -> URLSafeSerializer:
    if not _LISTING.match(listing):
        raise ValueError(f"not a list name: {listing!r}")
    return URLSafeSerializer(
        secret, salt=f"loyalty.cursor.{listing}/{caller}", signer_kwargs={"digest_method": hashlib.sha256}
    )


def seal(position: str, *, secret: str, listing: str, caller: str) -> str:
    """The cursor a page hands out for the next one, which starts after ``position``."""
    return _serializer(secret, listing, caller).dumps(position)


def open_cursor(cursor: str, *, secret: str, listing: str, caller: str) -> str:
    """The position inside a cursor :func:`seal` made for this list and caller."""
    serializer = _serializer(secret, listing, caller)
    try:
        position = serializer.loads(cursor)
    except (BadData, UnicodeError, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API gave out") from exc
    # Unpadded base64 leaves spare bits in its last character: a cursor with that character
    # changed can decode to the same bytes and pass the HMAC. Only the exact text we sealed is ours.
    if not isinstance(position, str) or not position or serializer.dumps(position) != cursor:
        raise InvalidCursor("the cursor is not one this API gave out")
    return position
