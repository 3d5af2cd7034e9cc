"""In-memory fakes of the ports, for unit tests of services without moto or DynamoDB Local."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.domain.catalog import Beacon, Store
from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Offer
from chalicelib.domain.program import ProgramRules
from chalicelib.domain.promotions import Promotion
from chalicelib.store.activity import MemberRead
from chalicelib.store.catalog import CatalogVersion
from chalicelib.store.ledger import KeyAlreadyUsed, MemberChange, StaleRead, StoredResponse


class InMemoryCatalog:
    """A ``CatalogSource``: what one process writes bumps the version and its local writes;
    ``written_elsewhere`` is another warm Lambda's write (the version moves, the local count not).
    ``reads`` counts every call by kind, as the DynamoDB requests they stand for."""

    def __init__(self, program: ProgramRules | None = None, *things: Any) -> None:
        self.things: dict[tuple[type[Any], str], Any] = {}
        self.program_rules = program
        self.counts: dict[str, int] = {}
        self.counter = 0
        self.writes_here = 0
        self.reads: Counter[str] = Counter()
        for thing in things:
            self._store(thing)

    def write(self, thing: Any) -> None:
        self._store(thing)
        self.counter += 1
        self.writes_here += 1

    def written_elsewhere(self, thing: Any) -> None:
        self._store(thing)
        self.counter += 1

    def _store(self, thing: Any) -> None:
        if isinstance(thing, ProgramRules):
            self.program_rules = thing
            return
        id_field = {Store: "store_id", Beacon: "beacon_id", Offer: "offer_id", Promotion: "promotion_id"}[type(thing)]
        key = getattr(thing, id_field)
        self.things[(type(thing), key)] = thing

    def _all(self, cls: type[Any]) -> list[Any]:
        self.reads[cls.__name__] += 1
        return [t for (kind, _), t in sorted(self.things.items(), key=lambda kv: kv[0][1]) if kind is cls]

    def version(self) -> CatalogVersion | None:
        self.reads["version"] += 1
        return CatalogVersion("fake", self.counter) if self.counter else None

    def local_writes(self) -> int:
        return self.writes_here

    def program(self) -> ProgramRules | None:
        self.reads["program"] += 1
        return self.program_rules

    def stores(self) -> list[Store]:
        return self._all(Store)

    def beacons(self) -> list[Beacon]:
        return self._all(Beacon)

    def offers(self) -> list[Offer]:
        return [dataclasses.replace(o, issued=0) for o in self._all(Offer)]

    def issued_counts(self) -> dict[str, int]:
        self.reads["issued_counts"] += 1
        return dict(self.counts)

    def promotions(self) -> list[Promotion]:
        return self._all(Promotion)


class InMemoryChanges:
    """A ``repositories.Changes`` with the store's semantics that matter to a service: a change
    that moves the member lands only on the revision it was read at (``StaleRead``), a key commits
    once (``KeyAlreadyUsed``) and replays its response, ledger entries are numbered after the new
    revision. ``revisions`` is the members' current revision, by sub."""

    def __init__(self) -> None:
        self.revisions: dict[str, int] = {}
        self.responses: dict[str, StoredResponse] = {}
        self.entries: dict[str, list[LedgerEntry]] = {}
        self.applied: list[MemberChange] = []

    def apply(self, change: MemberChange) -> None:
        if change.idempotency_key in self.responses:
            raise KeyAlreadyUsed(change.idempotency_key)
        sub = change.member.sub
        if change.moves_member:
            if self.revisions.get(sub, 0) != change.member.revision:
                raise StaleRead(sub)
            self.revisions[sub] = change.member.revision + 1
            self.entries.setdefault(change.member.customer_id, []).extend(change.entries())
        self.responses[change.idempotency_key] = StoredResponse(
            change.request_hash, change.response_status, change.response
        )
        self.applied.append(change)

    def stored_response(self, key: str) -> StoredResponse | None:
        return self.responses.get(key)

    def another_writer_moves(self, sub: str) -> None:
        """Another till's change lands first: a read taken before it is now stale."""
        self.revisions[sub] = self.revisions.get(sub, 0) + 1


class InMemoryMembers:
    """A ``repositories.Members``: members by sub and claims by (kind, value). A member is read at
    the revision ``changes`` holds for them (so a change committed through the fake is seen as
    moving the member), but the fake does not re-derive balances: a test reads what a change
    decided from ``InMemoryChanges.applied``, not from the member."""

    def __init__(self, changes: InMemoryChanges, *members: Member) -> None:
        self.changes = changes
        self.members: dict[str, Member] = {}
        self.claims: dict[tuple[str, str], tuple[str, str]] = {}
        for member in members:
            self.add(member)

    def add(self, member: Member) -> None:
        self.members[member.sub] = member
        self.changes.revisions.setdefault(member.sub, member.revision)
        for kind, value in (("customer", member.customer_id), ("card", member.card_number), ("phone", member.phone)):
            if value:
                self.claims[(kind, value)] = (member.sub, member.customer_id)

    def find_claim(self, kind: str, value: str) -> tuple[str, str] | None:
        return self.claims.get((kind, value))

    def read_member(self, sub: str, *, with_activity: bool = False) -> MemberRead:
        member = self.members.get(sub)
        if member is not None:
            member = dataclasses.replace(member, revision=self.changes.revisions.get(sub, member.revision))
        return MemberRead(member, None)


def alice(**changes: Any) -> Member:
    """A member for tests of services on the fakes (Alice, Bronze, joined 2026-05-04)."""
    joined = datetime(2026, 5, 4, 12, tzinfo=UTC)
    member = Member(
        customer_id="cus_alice",
        sub="alice",
        name="Alice",
        phone="+4915123456789",
        birthday=date(1990, 4, 12),
        card_number="2000000000017",
        referral_code="ABCDEFGH",
        joined_at=joined,
        marketing_consent=True,
        consent_updated_at=joined,
        timezone="Europe/Berlin",
        tier="Bronze",
    )
    return dataclasses.replace(member, **changes)


class FakeSender:
    """A push sender that answers as scripted per token (``Delivered`` when nothing is scripted)
    and records every batch it was given. ``script[token]`` is a list of outcome makers used in
    turn, e.g. ``[lambda t: Retry(t, "UNAVAILABLE"), lambda t: Delivered(t, "n")]``; ``raises``
    makes the whole call fail, as a broken network would."""

    def __init__(self) -> None:
        from collections.abc import Callable

        from chalicelib.push import Outcome

        self.script: dict[str, list[Callable[[str], Outcome]]] = {}
        self.batches: list[list[Any]] = []
        self.raises: Exception | None = None

    def send(self, pushes: Any) -> list[Any]:
        from chalicelib.push import MAX_BATCH, Delivered

        assert 0 < len(pushes) <= MAX_BATCH, "a batch holds 1 to 500 pushes"
        if self.raises is not None:
            raise self.raises
        self.batches.append(list(pushes))
        answers = []
        for push in pushes:
            scripted = self.script.get(push.token)
            maker = scripted.pop(0) if scripted else (lambda t: Delivered(t, f"projects/p/messages/{t}"))
            answers.append(maker(push.token))
        return answers

    def sent_to(self, token: str) -> list[Any]:
        return [p for batch in self.batches for p in batch if p.token == token]
