"""Time is injected: every rule that depends on "now" takes a clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import MINYEAR, UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; pinned to the edge of datetime's range when it lies just beyond it.

    ``0001-01-01T00:00+14:00`` is a valid moment whose UTC form falls in year 0, which Python
    cannot hold; items stored before the API bounded its dates may carry one, and reading them
    must not fail.
    """
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == MINYEAR else datetime.max
        return edge.replace(tzinfo=UTC)


def isoformat(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, to the second, as API.md writes timestamps."""
    return in_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")
