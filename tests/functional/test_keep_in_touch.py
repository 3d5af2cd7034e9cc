"""The monthly minimum: a consenting member who heard nothing useful for a month gets one
keep_in_touch message with their own figures; anyone who heard something useful is not due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from chalicelib.domain import contact
from chalicelib.services import issuing
from chalicelib.store import features as features_store

JOINED = datetime(2026, 3, 2, 10, tzinfo=UTC)


def run(api, at):
    return api.run_job("keep_in_touch", at)


def messages(api, sub):
    return api.inbox(sub, "keep_in_touch")


def test_a_member_who_heard_nothing_for_a_month_gets_one_useful_message(api, clock):
    clock.now = JOINED
    card = api.join("alice", name="Alice Liddell").json_body["card_number"]
    api.join("bob", phone="0151 22222222")
    api.join("nora", phone="0151 33333333", marketing_consent=False)
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 4000, "currency": "EUR"}
    assert (
        api.call(
            "POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())}
        ).status_code
        == 201
    )
    balance = api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]
    # Bob hears something useful twenty days in: his month starts again from there.
    clock.now = JOINED + timedelta(days=20)
    assert isinstance(issuing.send("bob", "campaign", contact.campaign_key("c1"), "Spring", clock=clock), issuing.Sent)

    due = JOINED + timedelta(days=30)
    clock.now = due
    assert run(api, due)["selected"] == 2  # alice and nora: bob is not due
    [message] = messages(api, "alice")
    assert message["title"] == "Alice, here is where your card stands"
    assert f"You have {balance} points." in message["body"]
    assert messages(api, "bob") == [] and messages(api, "nora") == []
    # Once: again today nothing; the next is a month after this one.
    run(api, due + timedelta(hours=2))
    assert len(messages(api, "alice")) == 1
    assert features_store.get_features("alice").touch_due == (due + timedelta(days=30)).date()
    # Nora consents to nothing: she is looked at again a month on, not every day.
    assert features_store.get_features("nora").touch_due == (due + timedelta(days=30)).date()
    assert features_store.get_features("bob").touch_due == (JOINED + timedelta(days=50)).date()
    clock.now = JOINED + timedelta(days=50)
    run(api, clock.now)
    assert len(messages(api, "bob")) == 1


def test_a_receipt_does_not_keep_a_member_in_touch(api, clock):
    clock.now = JOINED
    api.join("alice")
    clock.now = JOINED + timedelta(days=10)
    issuing.send("alice", "receipt", "receipt#p1", "Thanks", clock=clock)
    assert features_store.get_features("alice").touch_due == (JOINED + timedelta(days=30)).date()
