"""Marketing's per-member features live beside the member: written by their own jobs and by
messages, read by the contact policy and the export, and never in a till's way."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import contact
from chalicelib.domain.clock import isoformat
from chalicelib.domain.features import Features, Prediction
from chalicelib.services import issuing
from chalicelib.store import features as features_store
from chalicelib.store import ledger
from chalicelib.store.features import FeaturesModel


@pytest.fixture
def card(api) -> str:
    return str(api.join("alice").json_body["card_number"])


@pytest.fixture
def now(clock, card) -> datetime:
    """Noon in Berlin the day after the member joined (on the clock's day)."""
    clock.now = clock.now.replace(hour=11) + timedelta(days=1)
    return clock.now


def predicted(now: datetime) -> Prediction:
    return Prediction(now + timedelta(days=9), "rhythm-v1")


def buy(api, card):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR"}
    response = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_a_new_member_has_empty_features_but_for_their_first_keep_in_touch_day(card):
    features = features_store.get_features("alice")
    assert features.touch_due is not None
    assert dataclasses.replace(features, touch_due=None, updated_at=None) == Features("alice")


def test_segments_prediction_and_contacts_are_written_without_overwriting_each_other(clock, now):
    assert isinstance(issuing.send("alice", "receipt", "receipt#p_1", "Thanks", clock=clock), issuing.Sent)
    contacted = features_store.get_features("alice")
    features_store.set_segments("alice", frozenset({"regulars", "coffee"}), now + timedelta(hours=1))
    features_store.set_prediction("alice", predicted(now), now + timedelta(hours=2))
    features = features_store.get_features("alice")
    assert features.segments == {"regulars", "coffee"}
    assert features.prediction == predicted(now)
    assert (features.last_contact, features.keys) == (contacted.last_contact, contacted.keys)
    assert (features.last_contact, features.keys) == ({"receipt": now}, {"receipt#p_1": now})
    # Only a contact moves the revision a contact is conditioned on: a segment run never makes a
    # message read again.
    assert features.revision == contacted.revision == 1
    assert features.updated_at == now + timedelta(hours=2)
    features_store.set_segments("alice", frozenset(), now)
    features_store.set_prediction("alice", None, now)
    cleared = features_store.get_features("alice")
    assert (cleared.segments, cleared.prediction, cleared.keys) == (frozenset(), None, {"receipt#p_1": now})


def test_every_write_keeps_the_item_for_as_long_as_a_contact_key_is_remembered(now):
    features_store.set_segments("alice", frozenset({"regulars"}), now)
    assert FeaturesModel.get("alice").expires_at == now + contact.KEY_MEMORY


def test_marketing_writes_racing_a_purchase_never_make_it_read_again(api, clock, card, now, monkeypatch):
    """Between the till's read of the member and its commit, the segment run, the predictor and
    a message all write about the member: the purchase commits on its first attempt."""
    real_apply = ledger.apply
    purchase_attempts = []

    def apply_while_marketing_writes(change: ledger.MemberChange) -> None:
        if change.purchase is not None:
            purchase_attempts.append(change.idempotency_key)
            if len(purchase_attempts) == 1:
                features_store.set_segments("alice", frozenset({"regulars"}), now)
                features_store.set_prediction("alice", predicted(now), now)
                assert isinstance(issuing.send("alice", "receipt", "receipt#p_1", "Thanks", clock=clock), issuing.Sent)
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", apply_while_marketing_writes)
    bought = buy(api, card)
    assert len(purchase_attempts) == 1
    assert bought["points_earned"] > 0
    assert features_store.get_features("alice").segments == {"regulars"}


def test_the_export_shows_what_marketing_keeps_about_me(api, clock, now):
    issuing.send("alice", "campaign", contact.campaign_key("c_spring"), "Spring", clock=clock)
    features_store.set_segments("alice", frozenset({"regulars"}), now)
    features_store.set_prediction("alice", predicted(now), now)
    marketing = api.call("GET", "/v1/me/export", api.customer("alice")).json_body["marketing"]
    at = isoformat(now)
    assert marketing == {
        "segments": ["regulars"],
        "last_contact": {"campaign": at},
        "marketing_sent": [at],
        "contact_keys": {"campaign#c_spring#once": at},
        "predicted_next_visit": {
            "next_visit_at": isoformat(predicted(now).next_visit_at),
            "model": "rhythm-v1",
            "p_active": None,
            "wait_days": None,
        },
        "visit_days": [],
        # The campaign moved the monthly minimum on by the program's silence of 30 days.
        "keep_in_touch_due": (now + timedelta(days=30)).date().isoformat(),
        "updated_at": at,
    }
