"""The digital card: a human-typeable number with a check digit, and a signed, short-lived QR.

The card number is what a customer can read out at the till; the Luhn check digit catches every
single mistyped digit and most swaps of neighbours. The QR payload carries the card number, the
member's key sealed (so the till reads the member directly, without the card's claim first, and
the cashier's scanner learns no account id), a timestamp and an HMAC, so a forged or edited code
is refused and a screenshot goes stale. Payloads from before the member's key was in them (``LC1.``)
are read as long as they are fresh.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from stdnum import luhn

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import DomainRefusal, RefusalKind

CARD_NUMBER_DIGITS = 10
#: The payload's version: ``LC2.`` names the member, ``LC1.`` (issued before) only the card.
QR_PREFIX = "LC2."
QR_PREFIX_CARD_ONLY = "LC1."
QR_SALT = "loyalty.card.qr"
_MEMBER_KEY_INFO = b"loyalty.card.qr.member-key"
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


@dataclass(frozen=True)
class QrCard:
    """What a genuine QR payload says."""

    card_number: str
    #: The member's key in the members table; None in a payload from before it was sealed in.
    member_sub: str | None = None


def issue_qr(card_number: str, member_sub: str | None = None, *, secret: str, ttl_s: int, clock: Clock) -> QrCode:
    """The card's QR payload; without ``member_sub``, the card-only payload issued before (``LC1.``)."""
    signer = _ClockedSigner(secret, clock)
    issued = datetime.fromtimestamp(signer.get_timestamp(), UTC)
    if member_sub is None:
        payload = QR_PREFIX_CARD_ONLY + signer.sign(card_number).decode("ascii")
    else:
        payload = QR_PREFIX + signer.sign(f"{card_number}.{_seal(member_sub, secret)}").decode("ascii")
    return QrCode(payload=payload, expires_at=issued + timedelta(seconds=ttl_s))


def is_qr_payload(code: str) -> bool:
    return code.startswith((QR_PREFIX, QR_PREFIX_CARD_ONLY))


def read_qr(payload: str, *, secret: str, ttl_s: int, clock: Clock, field: str = "code") -> QrCard:
    """What a QR payload says; raises if forged, edited or expired.

    ``field`` is what the caller's request calls the payload, for the refusal to name."""
    # Read as if a little later, allowing as much more age: a code signed by a server whose clock
    # runs up to CLOCK_SKEW_S ahead is still good, and expiry stays at ttl_s from signing.
    skewed = _ClockedSigner(secret, lambda: clock() + timedelta(seconds=CLOCK_SKEW_S))
    try:
        value = skewed.unsign(_signed_part(payload), max_age=ttl_s + CLOCK_SKEW_S)
    except SignatureExpired as exc:
        if exc.date_signed is not None and exc.date_signed > clock() + timedelta(seconds=CLOCK_SKEW_S):
            # Signed with our key but dated ahead of our clock: not a code we issued.
            raise InvalidCardCode("the QR code is not genuine", field=field) from exc
        raise ExpiredCardCode("the QR code has expired: ask the customer to refresh the card", field=field) from exc
    except BadSignature as exc:
        raise InvalidCardCode("the QR code is not genuine", field=field) from exc
    return _signed_card(payload, value, secret, field)


def read_stale_qr(payload: str, *, secret: str, field: str = "code") -> QrCard:
    """What a genuine QR payload of any age says.

    It says which card a request named (so that a retry can be matched to its first attempt
    after the code has gone stale), never that the card may be used now: :func:`read_qr` says that.
    """
    signer = TimestampSigner(secret, salt=QR_SALT, digest_method=hashlib.sha256)
    try:
        value = signer.unsign(_signed_part(payload))
    except BadSignature as exc:
        raise InvalidCardCode("the QR code is not genuine", field=field) from exc
    return _signed_card(payload, value, secret, field)


def _signed_part(payload: str) -> str:
    return payload[len(QR_PREFIX) :]  # both prefixes are four characters


def _signed_card(payload: str, value: bytes, secret: str, field: str) -> QrCard:
    text = value.decode("ascii")
    sub: str | None = None
    if payload.startswith(QR_PREFIX):
        number, _, sealed = text.partition(".")
        sub = _unseal(sealed, secret, field)
    else:
        number = text
    if not (number.isdigit() and len(number) == CARD_NUMBER_DIGITS and luhn.is_valid(number)):
        raise InvalidCardCode("the QR code is not genuine", field=field)
    return QrCard(number, sub)


def _seal(member_sub: str, secret: str) -> str:
    """The member's key, encrypted: the payload is plain text to any scanner, and the key is the
    member's account id at the identity provider, which the till has no business reading.
    Deterministic (AES-SIV): the card number beside it identifies the card anyway."""
    sealed = _member_key_cipher(secret).encrypt(member_sub.encode("utf-8"), None)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def _unseal(sealed: str, secret: str, field: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        return _member_key_cipher(secret).decrypt(raw, None).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise InvalidCardCode("the QR code is not genuine", field=field) from exc


@functools.lru_cache(maxsize=4)
def _member_key_cipher(secret: str) -> AESSIV:
    """A key of its own for sealing, derived from the card secret (one secret to deploy)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MEMBER_KEY_INFO).derive(secret.encode())
    return AESSIV(key)
