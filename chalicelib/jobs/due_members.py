"""What the daily member jobs share: find who is due through a month-partitioned index (the
months since the job's last run, never a scan) and change each member once per day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

import structlog

from chalicelib.domain.jobs import JobState, months_since
from chalicelib.domain.program import months_back
from chalicelib.errors import LoyaltyError
from chalicelib.services import program
from chalicelib.services.idempotency import exactly_once, request_hash
from chalicelib.store import catalog, ledger

#: How far back a first run (with no recorded last run) looks for members it missed.
FIRST_RUN_LOOKBACK_MONTHS = 3

log = structlog.get_logger("loyalty.jobs")

#: (sub, day, moment, idempotency key, request hash) -> the member's change.
Prepare = Callable[[str, date, datetime, str, str], ledger.MemberChange]


@dataclass(frozen=True)
class Done:
    sub: str
    body: dict[str, Any]


def run(name: str, at: datetime, due: Callable[[str, str], list[str]], prepare: Prepare) -> Iterator[Done]:
    """Each member ``due(month, through_day)`` names, changed by ``prepare`` once per day: the
    change commits with an idempotency record keyed by job, member and day, so a second run for
    the same moment yields nothing for members already done. Records the run when exhausted."""
    rules = program.rules()
    today = program.local_time(rules, at).date()
    state = catalog.get(JobState, name)
    for month in months_back(program.month_key(rules, at), months_since(state, today, FIRST_RUN_LOOKBACK_MONTHS)):
        for sub in due(month, today.isoformat()):
            key = f"job|{name}|{sub}|{today.isoformat()}"
            fingerprint = request_hash({"job": name, "sub": sub, "day": today.isoformat()})
            try:
                outcome = exactly_once(key, fingerprint, partial(prepare, sub, today, at, key, fingerprint))
            except LoyaltyError as exc:
                log.warning("member_skipped", job=name, code=exc.code)
                continue
            if not outcome.replayed:
                yield Done(sub, outcome.body)
    if state is None or state.last_run_at is None or state.last_run_at < at:
        catalog.put(JobState(name, last_run_at=at))
