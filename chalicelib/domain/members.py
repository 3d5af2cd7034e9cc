"""Members of the program as plain data, and the rules about who may join with what."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.domain.changes import Standing
from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.points import Points

#: Crockford-like alphabet without the characters people confuse (0/O, 1/I/L, U/V).
REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
REFERRAL_CODE_LENGTH = 8
MIN_AGE_YEARS = 13
MAX_AGE_YEARS = 120


class InvalidBirthday(DomainRefusal):
    default_field = "birthday"


@dataclass(frozen=True)
class QuietHours:
    """Local times (HH:MM) between which nothing is pushed; may wrap past midnight."""

    start: str
    end: str


@dataclass(frozen=True)
class Member:
    customer_id: str
    sub: str
    name: str
    phone: str
    birthday: date
    card_number: str
    referral_code: str
    joined_at: datetime
    marketing_consent: bool
    consent_updated_at: datetime
    timezone: str
    tier: str
    points_balance: int = 0
    referred_by: str | None = None
    home_store_id: str | None = None
    quiet_hours: QuietHours | None = None
    interests: tuple[str, ...] = ()
    updated_at: datetime | None = None
    visits_total: int = 0
    spend_total_minor: int = 0
    last_visit_at: datetime | None = None
    #: Spend (minor units) and visits per calendar month (``YYYY-MM``, program time zone), kept
    #: for the tier window only: the rolling totals and this month's visits come from here.
    monthly: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Bumped by every balance change; a write conditioned on it never acts on a stale read.
    revision: int = 0
    #: Points taken back by refunds after they were spent: future earnings pay it off first.
    points_debt: int = 0
    #: FIFO expiry lots, (expires_on, remaining), oldest first; they sum to the balance.
    lots: tuple[tuple[str, int], ...] = ()
    #: When points next expire (``YYYY-MM-DD``), as the expiry job's index has it.
    expiry_due: str | None = None
    #: Units bought per item category: the customer's affinity, for choosing offers.
    category_counts: dict[str, int] = field(default_factory=dict)
    #: When the tier is next reviewed, and the end of a grace period below its threshold.
    tier_review_due: str | None = None
    tier_grace_until: str | None = None

    @property
    def points(self) -> Points:
        return Points(balance=self.points_balance, debt=self.points_debt, lots=self.lots)

    @property
    def standing(self) -> Standing:
        return Standing(
            self.points, self.tier, self.monthly, self.expiry_due, self.category_counts, self.tier_review_due
        )

    def visits_in_month(self, month: str) -> int:
        return self.monthly.get(month, (0, 0))[1]


@dataclass(frozen=True)
class Device:
    token: str
    platform: str
    registered_at: datetime


@dataclass(frozen=True)
class ProfileChanges:
    """What a member may change about themselves; None leaves a field as it is."""

    name: str | None = None
    marketing_consent: bool | None = None
    timezone: str | None = None
    quiet_hours: QuietHours | None = None
    clear_quiet_hours: bool = False
    interests: tuple[str, ...] | None = None
    home_store_id: str | None = None
    clear_home_store_id: bool = False


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def normalise_referral_code(raw: str) -> str:
    return raw.strip().upper().replace("-", "").replace(" ", "")


def age_on(birthday: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birthday.month, birthday.day)
    return day.year - birthday.year - int(before_birthday)


def check_birthday(birthday: date, today: date) -> None:
    """A birthday must be real: not in the future, not absurdly old, and old enough to join."""
    if birthday > today:
        raise InvalidBirthday("must not be in the future")
    age = age_on(birthday, today)
    if age > MAX_AGE_YEARS:
        raise InvalidBirthday(f"an age over {MAX_AGE_YEARS} years is not plausible")
    if age < MIN_AGE_YEARS:
        raise InvalidBirthday(f"members must be at least {MIN_AGE_YEARS} years old")
