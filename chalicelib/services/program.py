"""The program's rules, read once per warm Lambda and refreshed after a short time."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from chalicelib.config import settings
from chalicelib.domain.clock import Clock
from chalicelib.domain.program import InvalidRules, ProgramRules, check_rules
from chalicelib.errors import InvalidField, Unavailable
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


def current() -> dict[str, Any]:
    return _out(rules())


def update(body: dict[str, Any], *, clock: Clock) -> dict[str, Any]:
    expected = body.pop("version", None)
    return _out(save(TypeAdapter(ProgramRules).validate_python(body), expected, clock=clock))


def _out(saved: ProgramRules) -> dict[str, Any]:
    return TypeAdapter(ProgramRules).dump_python(saved, mode="json")  # type: ignore[no-any-return]


def save(rules: ProgramRules, expected_version: int | None, *, clock: Clock) -> ProgramRules:
    """Validate and save new rules; they apply from the save (other warm Lambdas within the cache's TTL)."""
    try:
        check_rules(rules)
    except InvalidRules as exc:
        raise InvalidField(exc.field, str(exc), code="invalid_rules") from None
    saved = catalog.save_program(rules, expected_version, clock())
    forget()
    return saved


def forget() -> None:
    """Drop the cached rules (after a change, and between tests)."""
    global _cached
    _cached = None


def local_time(program: ProgramRules, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(program.timezone))


def month_key(program: ProgramRules, moment: datetime) -> str:
    return local_time(program, moment).strftime("%Y-%m")
