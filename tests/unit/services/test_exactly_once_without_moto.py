"""``exactly_once`` through the ``Changes`` port with an in-memory fake: the exactly-once rules of
every member change (purchases, refunds, check-ins) without moto."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.domain.changes import Visit
from chalicelib.domain.members import Member
from chalicelib.errors import Conflict
from chalicelib.services import repositories
from chalicelib.services.idempotency import exactly_once
from chalicelib.store import ledger
from tests.fakes import InMemoryChanges, alice

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


def member(revision: int) -> Member:
    return alice(customer_id="c_1", revision=revision)


@pytest.fixture
def store() -> InMemoryChanges:
    fake = InMemoryChanges()
    with repositories.replaced(changes=fake):
        yield fake


def visit_change(store: InMemoryChanges, key: str, fingerprint: str, body: dict[str, object]) -> ledger.MemberChange:
    """A change decided on the member as the store has it now."""
    read = member(store.revisions.get("alice", 0))
    return ledger.MemberChange(read, key, fingerprint, AT, body, response_status=201, visit=Visit({}, 1, 100, AT))


def no_sleep(_: float) -> None:
    pass


def test_a_replayed_key_returns_the_first_response_and_changes_nothing(store: InMemoryChanges) -> None:
    first = exactly_once("k", "h", lambda: visit_change(store, "k", "h", {"n": 1}), sleep=no_sleep)
    again = exactly_once("k", "h", lambda: visit_change(store, "k", "h", {"n": 2}), sleep=no_sleep)

    assert (first.status, first.body, first.replayed) == (201, {"n": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"n": 1}, True)
    assert store.revisions["alice"] == 1
    assert len(store.applied) == 1


def test_the_same_key_with_another_body_is_a_409(store: InMemoryChanges) -> None:
    exactly_once("k", "h", lambda: visit_change(store, "k", "h", {"n": 1}), sleep=no_sleep)

    with pytest.raises(Conflict) as refused:
        exactly_once("k", "other", lambda: visit_change(store, "k", "other", {"n": 2}), sleep=no_sleep)

    assert refused.value.code == "idempotency_key_reused"
    assert store.revisions["alice"] == 1


def test_a_change_decided_on_a_stale_read_is_decided_again_on_a_fresh_one(store: InMemoryChanges) -> None:
    reads: list[int] = []

    def prepare() -> ledger.MemberChange:
        change = visit_change(store, "k", "h", {"n": 1})
        reads.append(change.member.revision)
        if len(reads) == 1:
            store.another_writer_moves("alice")
        return change

    outcome = exactly_once("k", "h", prepare, sleep=no_sleep)

    assert reads == [0, 1]
    assert outcome.body == {"n": 1}
    assert store.revisions["alice"] == 2


def test_a_member_always_busy_is_a_retryable_409_with_nothing_written(store: InMemoryChanges) -> None:
    def prepare() -> ledger.MemberChange:
        change = visit_change(store, "k", "h", {"n": 1})
        store.another_writer_moves("alice")
        return change

    with pytest.raises(Conflict) as refused:
        exactly_once("k", "h", prepare, sleep=no_sleep)

    assert refused.value.code == "card_busy"
    assert store.applied == []


def test_the_fake_refuses_a_committed_key_and_a_stale_revision_as_the_store_does() -> None:
    fake = InMemoryChanges()
    fake.apply(visit_change(fake, "k", "h", {}))

    with pytest.raises(ledger.KeyAlreadyUsed):
        fake.apply(visit_change(fake, "k", "h", {}))
    with pytest.raises(ledger.StaleRead):
        fake.apply(dataclasses.replace(visit_change(fake, "k2", "h", {}), member=member(0)))
