"""``purchases.record`` on in-memory fakes of its ports (catalog, members, member changes) and a
fixed clock: the till's recipe — find the member, decide, commit exactly once — without moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.services import catalog_cache, purchases, repositories
from scripts.seed import PROGRAM, STORES
from tests.fakes import InMemoryCatalog, InMemoryChanges, InMemoryMembers, alice

NOON = datetime(2026, 11, 23, 11, tzinfo=UTC)
CASHIER = Identity("cashier-1", frozenset({Role.CASHIER}), "m_kiez", "s_kiez_mitte")
ALICE = alice()


@pytest.fixture
def changes() -> Iterator[InMemoryChanges]:
    committed = InMemoryChanges()
    with (
        catalog_cache.replaced(InMemoryCatalog(PROGRAM, *STORES)),
        repositories.replaced(changes=committed, members=InMemoryMembers(committed, ALICE)),
    ):
        yield committed


def buy(amount: int, key: str = "k1", customer_id: str = "cus_alice", **more: object) -> purchases.Outcome:
    command = purchases.RecordPurchase(
        store_id="s_kiez_mitte", amount=amount, currency="EUR", customer_id=customer_id, **more
    )
    return purchases.record(CASHIER, command, key, clock=lambda: NOON, sleep=lambda _: None)


def test_a_purchase_earns_points_in_one_change_with_its_ledger_entry(changes: InMemoryChanges) -> None:
    outcome = buy(1_000)
    assert outcome.status == 201 and not outcome.replayed
    assert outcome.body["points_earned"] > 0 and outcome.body["customer_id"] == "cus_alice"
    (change,) = changes.applied
    assert [e.points for e in changes.entries["cus_alice"]] == [outcome.body["points_earned"]]
    assert change.purchase is not None and change.purchase.record.amount == 1_000


def test_the_same_key_replays_the_first_receipt_without_a_second_change(changes: InMemoryChanges) -> None:
    first = buy(1_000)
    again = buy(1_000)
    assert again.replayed and again.body == first.body
    assert len(changes.applied) == 1


def test_the_same_key_with_another_amount_is_a_conflict(changes: InMemoryChanges) -> None:
    buy(1_000)
    with pytest.raises(Conflict) as refused:
        buy(2_000)
    assert refused.value.code == "idempotency_key_reused"


def test_a_purchase_decided_on_a_stale_read_is_decided_again(changes: InMemoryChanges) -> None:
    real_apply = changes.apply
    moved = []

    def another_till_first(change: purchases.ledger.MemberChange) -> None:
        if not moved:
            moved.append(change)
            changes.another_writer_moves("alice")
        real_apply(change)

    changes.apply = another_till_first  # type: ignore[method-assign]
    outcome = buy(1_000)
    assert outcome.status == 201
    assert len(changes.applied) == 1 and changes.applied[0].member.revision == 1


def test_an_unknown_customer_is_404_naming_the_field(changes: InMemoryChanges) -> None:
    with pytest.raises(NotFound) as missing:
        buy(1_000, customer_id="cus_nobody")
    assert missing.value.extra["field"] == "customer_id" and missing.value.code == "customer_not_found"
    assert not changes.applied


def test_another_currency_is_refused_before_anything_is_written(changes: InMemoryChanges) -> None:
    command = purchases.RecordPurchase(store_id="s_kiez_mitte", amount=1_000, currency="USD", customer_id="cus_alice")
    with pytest.raises(InvalidField) as refused:
        purchases.record(CASHIER, command, "k1", clock=lambda: NOON, sleep=lambda _: None)
    assert refused.value.field == "currency" and not changes.applied
