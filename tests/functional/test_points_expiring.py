"""points_expiring: a service message before points expire, found through the expiry index, once
per expiry date, consent or not."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from chalicelib.store import members as member_store


def run(api, at):
    return api.run_job("points_expiring", at)


def notices(api, sub):
    return api.inbox(sub, "points_expiring")


def test_members_hear_before_their_points_expire_once_consent_or_not(api, clock):
    clock.now = datetime(2026, 3, 10, 11, tzinfo=UTC)
    for sub, phone, consent in (("alice", "0151 11111111", True), ("nora", "0151 22222222", False)):
        card = api.join(sub, phone=phone, marketing_consent=consent).json_body["card_number"]
        body = {"card": card, "store_id": "s_kiez_mitte", "amount": 5000, "currency": "EUR"}
        bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert bought.status_code == 201, bought.json_body
    due = date.fromisoformat(member_store.get_member("alice").expiry_due)
    points = member_store.get_member("alice").points_balance
    early = datetime.combine(due - timedelta(days=30), datetime.min.time(), tzinfo=UTC).replace(hour=10)
    assert run(api, early)["selected"] == 0
    at = datetime.combine(due - timedelta(days=14), datetime.min.time(), tzinfo=UTC).replace(hour=10)
    clock.now = at
    summary = run(api, at)
    assert summary["selected"] == 2
    [notice] = notices(api, "alice")
    assert notice["title"].startswith(f"{points} points expire on")
    assert len(notices(api, "nora")) == 1  # a service message: no marketing consent needed
    run(api, at + timedelta(hours=1))
    run(api, at + timedelta(days=1))
    assert len(notices(api, "alice")) == 1
