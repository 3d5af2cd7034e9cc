"""The member side's storage behind small protocols, so a service can be unit-tested with an
in-memory fake (``tests/fakes.py``) instead of moto. The default binding is the DynamoDB store,
which connects lazily as before; ``replaced`` swaps a binding for a test (as ``ports.replaced``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from chalicelib.store import ledger


class Changes(Protocol):
    """Exactly-once member changes: what ``services/idempotency.exactly_once`` commits and replays."""

    def apply(self, change: ledger.MemberChange) -> None:
        """Commit all of ``change`` or none; ``ledger.StaleRead`` if the member moved since it was
        read, ``ledger.KeyAlreadyUsed`` if its idempotency key committed before."""
        ...

    def stored_response(self, key: str) -> ledger.StoredResponse | None: ...


class _DynamoChanges:
    def apply(self, change: ledger.MemberChange) -> None:
        ledger.apply(change)

    def stored_response(self, key: str) -> ledger.StoredResponse | None:
        return ledger.stored_response(key)


@dataclasses.dataclass(frozen=True)
class Repositories:
    changes: Changes = dataclasses.field(default_factory=_DynamoChanges)


_current = Repositories()


def changes() -> Changes:
    return _current.changes


@contextmanager
def replaced(**bindings: Any) -> Iterator[Repositories]:
    """Within: the process's repositories with ``bindings`` (``changes=``); the previous after."""
    global _current
    previous = _current
    _current = dataclasses.replace(previous, **bindings)
    try:
        yield _current
    finally:
        _current = previous
