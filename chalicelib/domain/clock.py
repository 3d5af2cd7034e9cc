"""Time is injected: every rule that depends on "now" takes a clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, to the second, as API.md writes timestamps."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
