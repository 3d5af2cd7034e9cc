"""The digital card: a human-typeable number with a check digit, and a signed, short-lived QR.

The card number is what a customer can read out at the till; the Luhn check digit catches every
single mistyped digit and most swaps of neighbours. The QR payload carries only the card number,
a timestamp and an HMAC, so a forged or edited code is refused and a screenshot goes stale.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from stdnum import luhn

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import DomainRefusal, RefusalKind

CARD_NUMBER_DIGITS = 10
QR_PREFIX = "LC1."
QR_SALT = "loyalty.card.qr"
#: How far ahead of ours another server's clock may be when it signs a QR code.
CLOCK_SKEW_S = 5
_SEPARATORS = re.compile(r"[\s\-.]")


class InvalidCardCode(DomainRefusal):
    """The code is neither a valid card number nor a genuine QR payload."""

    default_field = "code"
    default_code = "invalid_qr"


class ExpiredCardCode(DomainRefusal):
    """A genuine QR payload whose validity has run out (a stale screenshot)."""

    kind = RefusalKind.EXPIRED
    default_field = "code"
    default_code = "qr_expired"


def new_card_number(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh card number: nine random digits (no leading zero) and a Luhn check digit."""
    body = str(10 ** (CARD_NUMBER_DIGITS - 2) + randbelow(9 * 10 ** (CARD_NUMBER_DIGITS - 2)))
    return body + luhn.calc_check_digit(body)


def parse_card_number(typed: str, *, field: str = "code") -> str | None:
    """The card number in ``typed`` (spaces and dashes allowed), or None if it is not one.

    Raises :class:`InvalidCardCode` when it has the shape of a card number but the check digit
    does not match: a mistyped digit must not find another customer.
    """
    digits = _SEPARATORS.sub("", typed)
    if not digits.isdigit() or len(digits) != CARD_NUMBER_DIGITS:
        return None
    if not luhn.is_valid(digits):
        raise InvalidCardCode("the card number's check digit does not match", field=field, code="invalid_card_number")
    return digits


def format_card_number(number: str) -> str:
    """Grouped for reading aloud: ``1234 567 890``."""
    return f"{number[:4]} {number[4:7]} {number[7:]}"


@dataclass(frozen=True)
class QrCode:
    payload: str
    expires_at: datetime


class _ClockedSigner(TimestampSigner):
    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret, salt=QR_SALT, digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def issue_qr(card_number: str, *, secret: str, ttl_s: int, clock: Clock) -> QrCode:
    signer = _ClockedSigner(secret, clock)
    issued = datetime.fromtimestamp(signer.get_timestamp(), UTC)
    payload = QR_PREFIX + signer.sign(card_number).decode("ascii")
    return QrCode(payload=payload, expires_at=issued + timedelta(seconds=ttl_s))


def is_qr_payload(code: str) -> bool:
    return code.startswith(QR_PREFIX)


def read_qr(payload: str, *, secret: str, ttl_s: int, clock: Clock, field: str = "code") -> str:
    """The card number inside a QR payload; raises if forged, edited or expired.

    ``field`` is what the caller's request calls the payload, for the refusal to name."""
    # Read as if a little later, allowing as much more age: a code signed by a server whose clock
    # runs up to CLOCK_SKEW_S ahead is still good, and expiry stays at ttl_s from signing.
    skewed = _ClockedSigner(secret, lambda: clock() + timedelta(seconds=CLOCK_SKEW_S))
    try:
        value = skewed.unsign(payload[len(QR_PREFIX) :], max_age=ttl_s + CLOCK_SKEW_S)
    except SignatureExpired as exc:
        if exc.date_signed is not None and exc.date_signed > clock() + timedelta(seconds=CLOCK_SKEW_S):
            # Signed with our key but dated ahead of our clock: not a code we issued.
            raise InvalidCardCode("the QR code is not genuine", field=field) from exc
        raise ExpiredCardCode("the QR code has expired: ask the customer to refresh the card", field=field) from exc
    except BadSignature as exc:
        raise InvalidCardCode("the QR code is not genuine", field=field) from exc
    return _signed_card_number(value, field)


def qr_card_number(payload: str, *, secret: str, field: str = "code") -> str:
    """The card number in a genuine QR payload of any age.

    It says which card a request named (so that a retry can be matched to its first attempt
    after the code has gone stale), never that the card may be used now: :func:`read_qr` says that.
    """
    signer = TimestampSigner(secret, salt=QR_SALT, digest_method=hashlib.sha256)
    try:
        value = signer.unsign(payload[len(QR_PREFIX) :])
    except BadSignature as exc:
        raise InvalidCardCode("the QR code is not genuine", field=field) from exc
    return _signed_card_number(value, field)


def _signed_card_number(value: bytes, field: str) -> str:
    number = value.decode("ascii")
    if not (number.isdigit() and len(number) == CARD_NUMBER_DIGITS and luhn.is_valid(number)):
        raise InvalidCardCode("the QR code is not genuine", field=field)
    return number
