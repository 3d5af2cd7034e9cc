"""The program's rules, read once per warm Lambda and refreshed after a short time."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.config import settings
from chalicelib.domain.program import ProgramRules
from chalicelib.errors import Unavailable
from chalicelib.store import catalog

_lock = threading.Lock()
_cached: tuple[float, ProgramRules] | None = None


def rules() -> ProgramRules:
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < settings().program_cache_ttl_s:
        return cached[1]
    with _lock:
        found = catalog.program_rules()
        if found is None:
            raise Unavailable("the program has not been set up yet", code="program_not_configured")
        _cached = (time.monotonic(), found)
        return found


def forget() -> None:
    """Drop the cached rules (after a change, and between tests)."""
    global _cached
    _cached = None


def local_time(program: ProgramRules, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(program.timezone))


def month_key(program: ProgramRules, moment: datetime) -> str:
    return local_time(program, moment).strftime("%Y-%m")
