"""Leaving erases everything personal the store holds; the export shows all of it; every table the
store declares has a written policy."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynamodb.models import Model

from chalicelib.domain.features import Prediction
from chalicelib.store import erasure, tables
from chalicelib.store import features as features_store
from chalicelib.store.erasure import POLICIES, Retention
from chalicelib.store.wallet import InboxModel, WalletModel
from scripts.token import mint

from .conftest import Api

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
SUB = "leaver-7f3a9c"
NAME = "Lea Leaving"
PHONE_TYPED, PHONE_E164 = "0151 98765432", "+4915198765432"
BIRTHDAY = "1987-03-09"
#: More than a DynamoDB transaction's 100 items, so leaving must not put them in one.
MANY = 130


def join(api: Api, sub: str = SUB, name: str = NAME, phone: str = PHONE_TYPED) -> dict[str, Any]:
    birthday = BIRTHDAY if sub == SUB else "1979-11-30"
    body = {"name": name, "phone": phone, "birthday": birthday, "marketing_consent": True}
    response = api.call("POST", "/v1/me", api.customer(sub), body)
    assert response.status_code == 201, response.json_body
    return dict(response.json_body)


def a_full_member(api: Api, sub: str = SUB, name: str = NAME, phone: str = PHONE_TYPED) -> dict[str, Any]:
    """A member with something in every per-member table: a device, a check-in that issued an
    offer (wallet, inbox), purchases (ledger, purchases) and more messages than a transaction holds."""
    joined = join(api, sub, name, phone)
    token = api.customer(sub)
    api.call("POST", "/v1/me/devices", token, {"token": f"fcm-{sub}-token", "platform": "android"})
    offer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {
            "title": "A cookie with your coffee",
            "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
            "reward": {"type": "free_item", "sku": "cookie"},
        },
    )
    assert offer.status_code == 201, offer.json_body

    checked_in = api.call("POST", "/v1/me/checkins", token, MITTE)
    assert checked_in.status_code == 200, checked_in.json_body
    for n in range(2):
        body = {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 2000 + n, "currency": "EUR"}
        bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert bought.status_code == 201, bought.json_body
    add_messages(joined["customer_id"], MANY)
    now = datetime.now(UTC)
    features_store.set_segments(sub, frozenset({"regulars"}), now)
    features_store.set_prediction(sub, Prediction(now + timedelta(days=9), "rhythm-v1"), now)
    return joined


def add_messages(customer_id: str, count: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with InboxModel.batch_write() as inbox, WalletModel.batch_write() as wallet:
        for n in range(count):
            inbox.save(InboxModel(customer_id, f"m{n:05d}", at=at, kind="news", title=f"News {n}"))
            wallet.save(
                WalletModel(
                    customer_id,
                    f"o_old#{n:05d}",
                    offer_id="o_old",
                    title="Old offer",
                    reward={"type": "bonus_points", "points": 5},
                    issued_at=at,
                    expires_at=at + timedelta(days=7),
                )
            )


def everything() -> dict[type[Model], list[dict[str, Any]]]:
    """Every item of every declared table (a test may scan; the code never does)."""
    return {model: [item.serialize() for item in model.scan()] for model in tables.declared()}


def items_naming(value: str) -> dict[str, int]:
    return {
        model.Meta.table_name: n
        for model, items in everything().items()
        if (n := sum(value in json.dumps(item) for item in items))
    }


def test_every_table_the_store_declares_has_an_erasure_policy_and_an_export_section(api: Api) -> None:
    assert set(POLICIES) == set(tables.declared())
    joined = join(api)
    export = api.call("GET", "/v1/me/export", api.customer(SUB)).json_body
    for model, policy in POLICIES.items():
        if policy.retention in (Retention.ERASE, Retention.KEEP_ANONYMISED):
            assert policy.export in export, f"{model.__name__} is not in the export"
    assert joined["customer_id"] == export["profile"]["customer_id"]


def test_the_export_holds_every_table_s_data_about_me(api: Api) -> None:
    joined = a_full_member(api)
    export = api.call("GET", "/v1/me/export", api.customer(SUB)).json_body
    assert export["profile"]["name"] == NAME
    assert [d["token"] for d in export["devices"]] == [f"fcm-{SUB}-token"]
    assert export["last_checkin"]["store_id"] == "s_kiez_mitte"
    assert export["last_checkin"]["lat"] == MITTE["lat"] and export["last_checkin"]["lon"] == MITTE["lon"]
    assert len(export["wallet"]) == MANY + 1
    assert len(export["inbox"]) == MANY + 1  # the check-in's offer came with a message
    assert export["marketing"]["segments"] == ["regulars"]
    assert export["marketing"]["predicted_next_visit"]["model"] == "rhythm-v1"
    purchases = export["purchases"]
    assert sorted(p["recorded"]["amount"] for p in purchases) == [2000, 2001]
    assert {e["purchase_id"] for e in export["ledger"] if e["purchase_id"]} == {p["purchase_id"] for p in purchases}
    assert sum(e["points"] for e in export["ledger"]) == export["profile"]["points_balance"] > 0
    assert joined["customer_id"] == export["profile"]["customer_id"]


def test_leaving_erases_the_person_from_every_table_and_keeps_only_anonymous_books(api: Api) -> None:
    joined = a_full_member(api)
    stayer = a_full_member(api, "stayer-1b2c", "Stan Staying", "0151 22233344")
    customer_id = joined["customer_id"]
    ledger_before = api.call("GET", "/v1/me/export", api.customer(SUB)).json_body["ledger"]
    other_before = api.call("GET", "/v1/me/export", api.customer("stayer-1b2c")).json_body

    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 204

    for personal in (NAME, PHONE_E164, PHONE_E164[1:], SUB, BIRTHDAY, f"fcm-{SUB}-token"):
        assert items_naming(personal) == {}, personal
    for model, items in everything().items():
        if POLICIES[model].retention is Retention.ERASE:
            assert not [item for item in items if customer_id in json.dumps(item)], model.__name__
    # The books: every entry is still there under the anonymous id, plus the forfeited balance.
    kept = erasure.held_about(customer_id)
    assert [e.entry_id for e in kept.ledger[1:]] == [e["entry_id"] for e in ledger_before]
    assert kept.ledger[0].reason == erasure.FORFEIT_REASON and sum(e.points for e in kept.ledger) == 0
    assert len(kept.purchases) == 2
    # Nobody else lost anything.
    other = api.call("GET", "/v1/me/export", api.customer("stayer-1b2c")).json_body
    assert {**other, "exported_at": None} == {**other_before, "exported_at": None}
    assert len(other["inbox"]) > MANY and other["devices"] and other["last_checkin"]
    assert other["profile"]["customer_id"] == stayer["customer_id"]


class Stopped(Exception):
    """Stands for the Lambda being killed midway."""


def test_a_leaving_stopped_after_its_transaction_is_finished_by_asking_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = a_full_member(api)
    customer_id = joined["customer_id"]
    real_sweep = erasure.sweep
    sweeps = 0

    def stopped_before_the_second_sweep(swept: str) -> int:
        nonlocal sweeps
        sweeps += 1
        if sweeps == 2:
            add_messages(swept, 3)  # written by a check-in that read the member just before
            raise Stopped
        return real_sweep(swept)

    monkeypatch.setattr(erasure, "sweep", stopped_before_the_second_sweep)
    with pytest.raises(Stopped):
        erasure.erase_member(SUB, datetime.now(UTC))
    monkeypatch.setattr(erasure, "sweep", real_sweep)
    assert api.call("GET", "/v1/me", api.customer(SUB)).status_code == 404
    assert len(erasure.held_about(customer_id).inbox) == 3
    assert items_naming(SUB) == {}, "the marker of an erasure under way must not hold the sub"

    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 204
    assert erasure.held_about(customer_id).inbox == []
    assert erasure.held_about(customer_id).wallet == []
    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 404


STEPS = ("sweep", "_forget_member", "_erasure_done")


@pytest.mark.parametrize("stop_before", range(4), ids=["first sweep", "transaction", "second sweep", "marker"])
def test_a_leaving_stopped_at_any_step_is_finished_by_asking_again_and_only_once(
    api: Api, monkeypatch: pytest.MonkeyPatch, stop_before: int
) -> None:
    joined = a_full_member(api)
    real = {name: getattr(erasure, name) for name in STEPS}
    done = 0

    def step(name: str) -> Any:
        def run(*args: Any) -> Any:
            nonlocal done
            if done == stop_before:
                raise Stopped
            done += 1
            return real[name](*args)

        return run

    for name in STEPS:
        monkeypatch.setattr(erasure, name, step(name))
    with pytest.raises(Stopped):
        erasure.erase_member(SUB, datetime.now(UTC))
    for name in STEPS:
        monkeypatch.setattr(erasure, name, real[name])

    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 204
    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 404
    for personal in (NAME, PHONE_E164, SUB):
        assert items_naming(personal) == {}, personal
    kept = erasure.held_about(joined["customer_id"])
    assert (kept.inbox, kept.wallet, kept.devices, kept.last_checkin) == ([], [], [], None)
    assert [e.reason for e in kept.ledger].count(erasure.FORFEIT_REASON) == 1
    assert sum(e.points for e in kept.ledger) == 0


def test_a_check_in_racing_the_members_leaving_writes_nothing_under_the_erased_id(api, monkeypatch):
    """The check-in read the member just before they left and commits just after the erasure
    swept their wallet and inbox: it must be refused, not leave an offer under the erased id."""
    joined = join(api)
    token = api.customer(SUB)
    offer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {"title": "Welcome back", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 5}},
    )
    assert offer.status_code == 201, offer.json_body
    from chalicelib.services import checkins
    from chalicelib.store import activity as activity_store

    read_before_leaving = activity_store.read_member(SUB, with_activity=True)
    assert api.call("DELETE", "/v1/me", token).status_code == 204
    monkeypatch.setattr(checkins.activity_store, "read_member", lambda sub, **_: read_before_leaving)

    response = api.call("POST", "/v1/me/checkins", token, MITTE)

    assert response.status_code == 404, response.json_body
    assert response.json_body["error"]["code"] == "not_a_member"
    customer_id = joined["customer_id"]
    assert list(WalletModel.query(customer_id)) == []
    assert list(InboxModel.query(customer_id)) == []


def test_a_message_racing_the_members_leaving_writes_nothing_under_the_erased_id(api, monkeypatch):
    """The message read the member just before they left and commits just after: the member
    check in its transaction refuses it, so no inbox message or features item is left behind."""
    from chalicelib.domain import contact
    from chalicelib.services import issuing
    from chalicelib.store import members as member_store

    joined = join(api)
    read_before_leaving = member_store.get_member(SUB)
    assert api.call("DELETE", "/v1/me", api.customer(SUB)).status_code == 204
    real_get = issuing.members_store.get_member
    reads = []

    def stale_then_real(sub: str) -> Any:
        reads.append(sub)
        return read_before_leaving if len(reads) == 1 else real_get(sub)

    monkeypatch.setattr(issuing.members_store, "get_member", stale_then_real)
    sent = issuing.send(SUB, "receipt", "receipt#p_1", "Thanks", clock=lambda: datetime.now(UTC))
    assert sent == contact.Refused(contact.NOT_A_MEMBER)
    assert len(reads) == 2  # the commit was refused, and the read after it found nobody
    assert items_naming(SUB) == {}
    assert InboxModel.Meta.table_name not in items_naming(joined["customer_id"])
