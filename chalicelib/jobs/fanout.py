"""The moments the program speaks at (birthdays, surprises, reminders, win-back, keep-in-touch,
points expiring): a job selects members through an index and enqueues them in batches on the
contacts queue; the queue's consumer decides per member through the moment's ``contact``, which
sends through the issuing service (``issuing.send``: the contact policy, once per key).

Cost grows with the members selected, not with the members: ``select`` queries an index, never
scans. A job run twice, or interrupted and run again, contacts nobody twice: each member's send is
exactly once per contact key, so a body delivered twice or selected again only replays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import structlog

from chalicelib import queues
from chalicelib.domain.clock import isoformat
from chalicelib.domain.contact import Refused
from chalicelib.services.catalog_cache import one_reading
from chalicelib.services.issuing import Sent

#: Members per queue message: a consumer's batch (10 messages) is then up to 1,000 members.
SUBS_PER_MESSAGE = 100

log = structlog.get_logger("loyalty.jobs")

#: What deciding for one member came to: sent (or replayed), refused by the policy, or None
#: (nothing to say to them).
Outcome = Sent | Refused | None


@dataclass(frozen=True)
class Fanout:
    name: str
    #: The ``sub`` of every member due at the moment, through an index.
    select: Callable[[datetime], Iterable[str]]
    #: Decide for one member at the moment and send through the issuing service.
    contact: Callable[[str, datetime], Outcome]


class FanoutRun(TypedDict):
    job: str
    at: str
    #: Members the index selected (each once).
    selected: int
    #: Queue messages enqueued (up to ``SUBS_PER_MESSAGE`` members each).
    messages: int


#: Every moment by job name (filled by ``chalicelib.jobs`` from the moment modules).
MOMENTS: dict[str, Fanout] = {}
#: Other work on the contacts queue by the body's ``job`` (a campaign's run and its members).
HANDLERS: dict[str, Callable[[Mapping[str, Any]], None]] = {}


def register(fanout: Fanout) -> Fanout:
    MOMENTS[fanout.name] = fanout
    return fanout


def run(fanout: Fanout, at: datetime) -> FanoutRun:
    subs = list(dict.fromkeys(fanout.select(at)))
    bodies = [
        {"job": fanout.name, "at": isoformat(at), "subs": chunk} for chunk in queues.chunks(subs, SUBS_PER_MESSAGE)
    ]
    messages = queues.send(queues.CONTACTS, bodies)
    log.info("job_fanned_out", job=fanout.name, selected=len(subs), messages=messages)
    return {"job": fanout.name, "at": isoformat(at), "selected": len(subs), "messages": messages}


def on_contacts(body: Mapping[str, Any]) -> None:
    """The contacts queue's consumer, for one message: every member in it is decided on. A member
    whose decision fails (a throttled table) fails the message after the others were tried, so it
    comes back whole: those already sent replay, nobody is contacted twice."""
    handler = HANDLERS.get(str(body["job"]))
    if handler is not None:
        with one_reading():
            handler(body)
        return
    fanout = MOMENTS[str(body["job"])]
    at = datetime.fromisoformat(str(body["at"]))
    counts = {"sent": 0, "replayed": 0, "refused": 0, "nothing": 0, "failed": 0}
    failure: Exception | None = None
    with one_reading():  # the program's rules and offers read once for the whole message
        for sub in body["subs"]:
            try:
                outcome = fanout.contact(str(sub), at)
            except Exception as exc:  # noqa: BLE001 - the others in the message are still decided
                counts["failed"] += 1
                failure = exc
                continue
            counts[_counted(outcome)] += 1
    log.info("contacts_decided", job=fanout.name, **counts)
    if failure is not None:
        raise failure


def _counted(outcome: Outcome) -> str:
    if isinstance(outcome, Sent):
        return "replayed" if outcome.replayed else "sent"
    if isinstance(outcome, Refused):
        return "refused"
    return "nothing"
