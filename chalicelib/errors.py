"""Our error hierarchy, and the domain's refusals in its terms. Free of framework imports;
rendered in one place (``api/http.py``)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import DomainRefusal, RefusalKind


class LoyaltyError(Exception):
    """Base of every error the API renders as ``{"error": {"code", "message", ...}}``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class BadRequest(LoyaltyError):
    status = 400
    code = "bad_request"


class InvalidField(LoyaltyError):
    """A field of the request is wrong; ``field`` names it (dotted path for nested fields)."""

    status = 422
    code = "validation_error"

    def __init__(self, field: str, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(f"{field}: {message}", code=code, field=field, **extra)
        self.field = field


class Unauthorized(LoyaltyError):
    status = 401
    code = "unauthorized"


class Forbidden(LoyaltyError):
    status = 403
    code = "forbidden"


class NotFound(LoyaltyError):
    status = 404
    code = "not_found"


class MethodNotAllowed(LoyaltyError):
    """The path exists, the method is not one of its operations (the response says which are)."""

    status = 405
    code = "method_not_allowed"


class Conflict(LoyaltyError):
    status = 409
    code = "conflict"


class Gone(LoyaltyError):
    """Something that existed is no longer usable (an expired QR code)."""

    status = 410
    code = "gone"


class PayloadTooLarge(LoyaltyError):
    status = 413
    code = "payload_too_large"


class RateLimited(LoyaltyError):
    status = 429
    code = "rate_limited"


class Unavailable(LoyaltyError):
    """A dependency (the database) does not answer; the client may retry."""

    status = 503
    code = "unavailable"


def from_refusal(refusal: DomainRefusal) -> LoyaltyError:
    """The one translation of the domain's refusals to API.md's error body (a new kind of refusal
    is a type error here until it is given its status)."""
    match refusal.kind:
        case RefusalKind.INVALID:
            return InvalidField(refusal.field, refusal.message, code=refusal.code)
        case RefusalKind.EXPIRED:
            return Gone(refusal.message, code=refusal.code, field=refusal.field)
        case RefusalKind.NOT_ISSUED:
            return BadRequest(refusal.message, code=refusal.code, field=refusal.field)
        case RefusalKind.RATE_LIMITED:
            # A pace names no field (API.md's 429 body has none).
            return RateLimited(refusal.message, code=refusal.code)
