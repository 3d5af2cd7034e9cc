"""The one way the domain says no to an input.

Every rule that refuses a value (a purchase that cannot be recorded, a birthday nobody can have,
a QR code that went stale) raises a :class:`DomainRefusal` naming the request field it is about.
The domain knows no HTTP: ``chalicelib.errors.from_refusal`` turns a refusal into API.md's error
body, once, and services let refusals pass instead of translating each one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class RefusalKind(StrEnum):
    #: The value breaks a rule (422).
    INVALID = "invalid"
    #: A genuine value whose time has run out (410): asking again with a fresh one will do.
    EXPIRED = "expired"
    #: Not a token this API handed to this caller (400): nothing about it can be corrected.
    NOT_ISSUED = "not_issued"
    #: More of something than a client sends (429): the rule is about the pace, not the value.
    RATE_LIMITED = "rate_limited"


class DomainRefusal(ValueError):
    """``field`` is the request's name for the refused value (dotted for nested fields)."""

    kind: ClassVar[RefusalKind] = RefusalKind.INVALID
    default_code: ClassVar[str] = "validation_error"
    default_field: ClassVar[str] = "body"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field or self.default_field
        self.code = code or self.default_code
