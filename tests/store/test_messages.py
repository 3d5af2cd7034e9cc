"""On DynamoDB Local, whose conditions and cancellations are DynamoDB's own (not moto's): a
message checks the member without updating it, needs the consent it read, and meets a racing
contact on the features' revision."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain import contact
from chalicelib.domain.identity import Identity, Role
from chalicelib.domain.members import ProfileChanges
from chalicelib.services import issuing, members, purchases
from chalicelib.services.issuing import Sent
from chalicelib.store import features as features_store
from chalicelib.store import ledger
from chalicelib.store import members as member_store
from chalicelib.store import wallet as wallet_store
from tests.store.moments import tomorrow_at

CASHIER = Identity("demo-cashier-mitte", frozenset({Role.CASHIER}), merchant_id="m_kiez")
JOINED = tomorrow_at(9)
#: Noon in Berlin the next day: outside the default quiet hours.
NOON = tomorrow_at(11, days=2)


def join() -> Identity:
    who = Identity(f"messages-{uuid.uuid4().hex[:12]}", frozenset({Role.CUSTOMER}))
    request = members.Join(
        name="Messages",
        phone=f"0151 7{uuid.uuid4().int % 10**7:07d}",
        birthday=date(1990, 1, 1),
        marketing_consent=True,
    )
    members.join(who, request, clock=lambda: JOINED)
    return who


def campaign(who: Identity, campaign_id: str) -> Any:
    return issuing.send(who.sub, "campaign", contact.campaign_key(campaign_id), "Hi", clock=lambda: NOON)


def test_a_campaign_leaves_the_member_item_as_it_was_and_lands_once() -> None:
    who = join()
    before = member_store.get_member(who.sub)
    first, again = campaign(who, "c1"), campaign(who, "c1")
    assert isinstance(first, Sent) and again == Sent(first.message_id, first.at, replayed=True)
    assert member_store.get_member(who.sub) == before
    assert [m.message_id for m in wallet_store.inbox(before.customer_id, 10, None)] == [first.message_id]
    assert features_store.get_features(who.sub).revision == 1


def test_a_purchase_commits_at_once_though_a_campaign_landed_after_its_read(monkeypatch: pytest.MonkeyPatch) -> None:
    who = join()
    customer_id = member_store.get_member(who.sub).customer_id
    real_apply = ledger.apply
    attempts: list[str] = []

    def campaign_lands_first(change: ledger.MemberChange) -> None:
        if change.purchase is not None:
            attempts.append(change.idempotency_key)
            if len(attempts) == 1:
                assert isinstance(campaign(who, "c1"), Sent)
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", campaign_lands_first)
    request = purchases.RecordPurchase(customer_id=customer_id, store_id="s_kiez_mitte", amount=1_000, currency="EUR")
    purchases.record(CASHIER, request, str(uuid.uuid4()), clock=lambda: NOON, sleep=lambda s: None)
    assert len(attempts) == 1


def test_consent_withdrawn_after_the_decision_stops_the_campaign(monkeypatch: pytest.MonkeyPatch) -> None:
    who = join()
    real_apply = ledger.apply

    def withdrawn_meanwhile(change: ledger.MemberChange) -> None:
        if member_store.get_member(who.sub).marketing_consent:
            member_store.update_profile(who.sub, ProfileChanges(marketing_consent=False), NOON)
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", withdrawn_meanwhile)
    assert campaign(who, "c1") == contact.Refused(contact.NO_CONSENT)
    assert features_store.get_features(who.sub).revision == 0


def test_of_two_campaigns_racing_past_the_cap_one_lands(monkeypatch: pytest.MonkeyPatch) -> None:
    who = join()
    real_apply = ledger.apply
    rival: list[Any] = []

    def rival_lands_first(change: ledger.MemberChange) -> None:
        if not rival:
            rival.append(None)
            rival[0] = campaign(who, "c_rival")
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", rival_lands_first)
    assert campaign(who, "c1") == contact.Refused(contact.FREQUENCY_CAP)
    assert isinstance(rival[0], Sent)
    later = issuing.send(who.sub, "campaign", contact.campaign_key("c1"), "Hi", clock=lambda: NOON + timedelta(days=8))
    assert isinstance(later, Sent)
