"""The check-in rules: a phone's rate, a speed no person reaches, and one visit per dwell window.

Pure: the caller brings the member's last check-in (one small record) and what the sighting
located; the rules return the record to write in its place, or refuse the sighting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from chalicelib.domain.errors import DomainRefusal, RefusalKind
from chalicelib.geo.distance import haversine_m

#: Sightings of the same store within this window are one visit: no new offers.
DWELL = timedelta(minutes=30)
#: Faster than this between two check-ins (over a real distance) is not a person.
MAX_SPEED_M_S = 250 / 3.6
MIN_JUMP_M = 1_000
#: More check-ins in a minute than a phone would send.
PER_MINUTE = 6
RATE_WINDOW = timedelta(minutes=1)


class TooManyCheckins(DomainRefusal):
    kind: ClassVar[RefusalKind] = RefusalKind.RATE_LIMITED
    default_code: ClassVar[str] = "checkin_rate_limited"


class ImpossibleSpeed(DomainRefusal):
    default_code: ClassVar[str] = "impossible_speed"
    default_field: ClassVar[str] = "type"


@dataclass(frozen=True)
class Checkin:
    """The member's last check-in, kept as one record that each check-in replaces."""

    checkin_id: str
    at: datetime
    store_id: str | None
    lon: float | None
    lat: float | None
    wallet_ids: tuple[str, ...]
    minute_start: datetime
    minute_count: int
    #: When the position was known; None on records written before it was kept (then ``at``).
    fixed_at: datetime | None = None


@dataclass(frozen=True)
class Fix:
    """A known position (lon, lat in degrees) and when it was known."""

    lon: float
    lat: float
    at: datetime


@dataclass(frozen=True)
class MinuteCount:
    start: datetime
    count: int


@dataclass(frozen=True)
class Sighting:
    """What the check-in located: the store (None: nothing known) and a position, if any."""

    store_id: str | None
    position: tuple[float, float] | None


@dataclass(frozen=True)
class CheckinDecision:
    #: The record that replaces the previous one (its ``wallet_ids`` are filled by what is issued).
    record: Checkin
    #: The same store within the dwell window: the visit goes on, nothing new is issued.
    same_visit: bool

    @property
    def may_issue(self) -> bool:
        """A new visit to a known store: offers may be issued."""
        return self.record.store_id is not None and not self.same_visit


def count_minute(previous: Checkin | None, now: datetime) -> MinuteCount:
    """This check-in counted in its minute; refused beyond what a phone sends (checked before the
    sighting is even read, so a flood costs no look-ups)."""
    if previous is None or now - previous.minute_start >= RATE_WINDOW:
        return MinuteCount(now, 1)
    count = previous.minute_count + 1
    if count > PER_MINUTE:
        raise TooManyCheckins("too many check-ins: a phone sends a few a minute at most")
    return MinuteCount(previous.minute_start, count)


def last_fix(previous: Checkin | None) -> Fix | None:
    if previous is None or previous.lon is None or previous.lat is None:
        return None
    return Fix(previous.lon, previous.lat, previous.fixed_at or previous.at)


def check_travel(fix: Fix, position: tuple[float, float], now: datetime) -> None:
    """Refuse a jump of more than ``MIN_JUMP_M`` at more than ``MAX_SPEED_M_S`` (a second at least
    between the two, so two fixes in one instant are not infinitely fast)."""
    distance = haversine_m(fix.lon, fix.lat, position[0], position[1])
    seconds = max(1.0, (now - fix.at).total_seconds())
    if distance > MIN_JUMP_M and distance / seconds > MAX_SPEED_M_S:
        raise ImpossibleSpeed(f"{distance / 1000:.0f} km in {seconds:.0f} s cannot be travelled")


def decide_checkin(
    previous: Checkin | None, minute: MinuteCount, sighting: Sighting, now: datetime, new_id: str
) -> CheckinDecision:
    """The record this check-in leaves: the same visit's (its id, start and offers) within the
    dwell window at the same store, else a new one named ``new_id``."""
    fix = last_fix(previous)
    if fix is not None and sighting.position is not None:
        check_travel(fix, sighting.position, now)
    same_visit = (
        previous is not None
        and sighting.store_id is not None
        and previous.store_id == sighting.store_id
        and now - previous.at < DWELL
    )
    # A check-in that locates nothing (an unknown beacon) keeps the last known position and when
    # it was known: clearing it would let the next fix skip the speed check.
    if sighting.position is not None:
        fix = Fix(sighting.position[0], sighting.position[1], now)
    record = Checkin(
        checkin_id=new_id,
        at=now,
        store_id=sighting.store_id,
        lon=fix.lon if fix else None,
        lat=fix.lat if fix else None,
        wallet_ids=(),
        minute_start=minute.start,
        minute_count=minute.count,
        fixed_at=fix.at if fix else None,
    )
    if same_visit and previous is not None:
        record = dataclasses.replace(
            record, checkin_id=previous.checkin_id, at=previous.at, wallet_ids=previous.wallet_ids
        )
    return CheckinDecision(record, same_visit)
