"""On DynamoDB Local, whose cancellation reasons are DynamoDB's own (not moto's): an offer refused
in the transaction, by its wallet key or its budget, is left out and the rest commits."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.identity import Identity, Role
from chalicelib.domain.offers import Limits, Offer, Trigger
from chalicelib.services import checkins, members, purchases
from chalicelib.store import activity as activity_store
from chalicelib.store import catalog
from chalicelib.store import wallet as wallet_store
from tests.store.moments import tomorrow_at

CASHIER = Identity("demo-cashier-mitte", frozenset({Role.CASHIER}), merchant_id="m_kiez")
MITTE = checkins.CheckIn(type="geo", lon=13.4016, lat=52.5303, accuracy_m=15)
KREUZBERG = checkins.CheckIn(type="geo", lon=13.4185, lat=52.4986, accuracy_m=15)


class Clock:
    def __init__(self) -> None:
        self.now = tomorrow_at(9)

    def __call__(self) -> datetime:
        return self.now


def join() -> tuple[Identity, str]:
    who = Identity(f"refusals-{uuid.uuid4().hex[:12]}", frozenset({Role.CUSTOMER}))
    request = members.Join(
        name="Refusals",
        phone=f"0151 6{uuid.uuid4().int % 10**7:07d}",
        birthday=date(1990, 1, 1),
        marketing_consent=True,
    )
    return who, members.join(who, request, clock=Clock())["customer_id"]


_created: list[Offer] = []


@pytest.fixture(autouse=True)
def end_offers() -> Any:
    """The tables outlive a test: its offers must not be issued in the next one."""
    yield
    while _created:
        catalog.put(dataclasses.replace(_created.pop(), status="ended"))


def offer(trigger: str, **limits: Any) -> Offer:
    made = Offer(
        f"offer_{uuid.uuid4().hex[:16]}",
        "A treat",
        Trigger(trigger),
        {"type": "bonus_points", "points": 5},
        merchant_id="m_kiez",
        limits=Limits(**limits),
    )
    catalog.put(made)
    _created.append(made)
    return made


def buy(customer_id: str, clock: Clock) -> dict[str, Any]:
    request = purchases.RecordPurchase(customer_id=customer_id, store_id="s_kiez_mitte", amount=1_000, currency="EUR")
    return purchases.record(CASHIER, request, str(uuid.uuid4()), clock=clock, sleep=lambda s: None).body


def wallet_of(customer_id: str, offer_id: str) -> list[wallet_store.WalletOffer]:
    return [e for e in wallet_store.wallet(customer_id) if e.offer_id == offer_id]


@pytest.fixture
def stale_wallet_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if another request issued the offer between our read of the member's issue history
    (their activity item) and our commit."""
    read = activity_store.to_activity
    monkeypatch.setattr(activity_store, "to_activity", lambda item: dataclasses.replace(read(item), history={}))


def test_a_purchase_commits_without_an_offer_whose_wallet_key_a_racing_issue_took(stale_wallet_read: None) -> None:
    clock = Clock()
    _, customer_id = join()
    earned = offer("purchase")
    assert [o["offer_id"] for o in buy(customer_id, clock)["offers_issued"]] == [earned.offer_id]
    clock.now += timedelta(hours=1)
    second = buy(customer_id, clock)
    assert second["offers_issued"] == [] and second["points_earned"] > 0
    assert len(wallet_of(customer_id, earned.offer_id)) == 1


def test_a_purchase_commits_without_an_offer_whose_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    _, first = join()
    _, second = join()
    earned = offer("purchase", budget=1)
    assert len(buy(first, clock)["offers_issued"]) == 1
    stale = [dataclasses.replace(o, issued=0) for o in catalog.offers_with_counts()]
    monkeypatch.setattr(catalog, "offers_with_counts", lambda: stale)
    bought = buy(second, clock)
    assert bought["offers_issued"] == [] and bought["points_earned"] > 0
    assert wallet_of(second, earned.offer_id) == []


def test_a_check_in_commits_when_two_offers_fail_for_two_reasons_at_once(stale_wallet_read: None) -> None:
    clock = Clock()
    someone, _ = join()
    who, customer_id = join()
    racing = offer("checkin")
    budgeted = offer("checkin", budget=1)
    checkins.record(someone, MITTE, clock=clock)  # takes the budget; the cached count still says 0
    first = checkins.record(who, MITTE, clock=clock)
    assert [o["offer_id"] for o in first["offers"]] == [racing.offer_id]
    clock.now += timedelta(hours=1)
    again = checkins.record(who, KREUZBERG, clock=clock)
    assert again["store_id"] == "s_kiez_kreuzberg" and again["offers"] == []
    assert len(wallet_of(customer_id, racing.offer_id)) == 1 and wallet_of(customer_id, budgeted.offer_id) == []
