"""The member side's storage behind small protocols, so a service can be unit-tested with an
in-memory fake (``tests/fakes.py``) instead of moto. The default binding is the DynamoDB store,
which connects lazily as before; ``replaced`` swaps a binding for a test (as ``ports.replaced``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from chalicelib.store import activity as activity_store
from chalicelib.store import ledger
from chalicelib.store import members as members_store


class Changes(Protocol):
    """Exactly-once member changes: what ``services/idempotency.exactly_once`` commits and replays."""

    def apply(self, change: ledger.MemberChange) -> None:
        """Commit all of ``change`` or none; ``ledger.StaleRead`` if the member moved since it was
        read, ``ledger.KeyAlreadyUsed`` if its idempotency key committed before."""
        ...

    def stored_response(self, key: str) -> ledger.StoredResponse | None: ...


class Members(Protocol):
    """Finding and reading members: what the till's lookups and the check-in read."""

    def find_claim(self, kind: str, value: str) -> tuple[str, str] | None:
        """The (sub, customer_id) holding a claim (``card``, ``phone``, ``customer``, ``referral``)."""
        ...

    def read_member(self, sub: str, *, with_activity: bool = False) -> activity_store.MemberRead:
        """The member with the catalog's version (and their activity item), in one request."""
        ...


class _DynamoMembers:
    def find_claim(self, kind: str, value: str) -> tuple[str, str] | None:
        return members_store.find_claim(kind, value)

    def read_member(self, sub: str, *, with_activity: bool = False) -> activity_store.MemberRead:
        return activity_store.read_member(sub, with_activity=with_activity)


class _DynamoChanges:
    def apply(self, change: ledger.MemberChange) -> None:
        ledger.apply(change)

    def stored_response(self, key: str) -> ledger.StoredResponse | None:
        return ledger.stored_response(key)


@dataclasses.dataclass(frozen=True)
class Repositories:
    changes: Changes = dataclasses.field(default_factory=_DynamoChanges)
    members: Members = dataclasses.field(default_factory=_DynamoMembers)


_current = Repositories()


def changes() -> Changes:
    return _current.changes


def members() -> Members:
    return _current.members


@contextmanager
def replaced(**bindings: Any) -> Iterator[Repositories]:
    """Within: the process's repositories with ``bindings`` (``changes=``, ``members=``); the previous after."""
    global _current
    previous = _current
    _current = dataclasses.replace(previous, **bindings)
    try:
        yield _current
    finally:
        _current = previous
