"""What a purchase and a check-in cost in DynamoDB requests, and that it does not grow with the
member's history: the requests are behaviour (a read added to the till's path fails here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

import pytest
from botocore.client import BaseClient

from chalicelib.config import settings
from chalicelib.geo.eid import compute_eid
from chalicelib.store.wallet import ActivityModel, CheckinModel, WalletModel
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
MUNICH = (11.5761, 48.1374)
MITTE_DOOR = {"type": "beacon", "uuid": "F7826DA6-4FA2-4E98-8024-BC5B71E0893E", "major": 100, "minor": 1}
KREUZBERG_DOOR = {**MITTE_DOOR, "major": 200}
UNKNOWN_BEACON = {**MITTE_DOOR, "minor": 999}
COOKIE = {
    "title": "3.00 off your coffee",
    "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
    "reward": {"type": "amount_off", "amount": 300},
    "limits": {"per_customer": 1},
}
#: No limits: earned at most once a day, however many times before.
WELCOME = {"title": "Welcome back", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 5}}
EID_KEY = "553C66DA1485E9F78849DE00F2CB178E"

Request = tuple[str, tuple[str, ...]]


@contextmanager
def dynamodb_requests() -> Iterator[list[Request]]:
    """Every DynamoDB request made meanwhile: the operation and the tables it names (short names;
    none for a transaction)."""
    made: list[Request] = []
    real = BaseClient._make_api_call
    prefix = settings().table_prefix

    def counting(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            names = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            made.append((operation, tuple(sorted(n.removeprefix(prefix) for n in names))))
        return real(client, operation, params)

    with patch.object(BaseClient, "_make_api_call", counting):
        yield made


MEMBER_AND_VERSION = ("BatchGetItem", ("catalog", "members"))
CHECKIN_READ = ("BatchGetItem", ("activity", "catalog", "members"))
TRANSACTION = ("TransactWriteItems", ())


def buy(api: Any, card: str | None, key: str | None = None, **extra: Any) -> Any:
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR", **extra}
    return api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def check_in(api: Any, body: dict[str, Any], sub: str = "alice") -> Any:
    response = api.call("POST", "/v1/me/checkins", api.customer(sub), body)
    assert response.status_code == 200, response.json_body
    return response


def new_offer(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = api.call("POST", "/v1/offers", MARKETER, body)
    assert created.status_code == 201, created.json_body
    return dict(created.json_body)


@pytest.fixture
def alice(api: Any) -> dict[str, Any]:
    return dict(api.join("alice", phone="0151 23456789").json_body)


# --- the till ------------------------------------------------------------------------------------


def test_a_purchase_by_the_apps_qr_is_one_read_and_one_transaction(api, alice):
    code = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    assert buy(api, alice["card_number"]).status_code == 201  # a warm Lambda: the catalog cached
    with dynamodb_requests() as made:
        assert buy(api, code).status_code == 201
    assert made == [MEMBER_AND_VERSION, TRANSACTION]


def test_a_purchase_by_card_number_or_customer_id_reads_the_claim_then_the_member_with_the_version(api, alice):
    assert buy(api, alice["card_number"]).status_code == 201
    with dynamodb_requests() as by_card:
        assert buy(api, alice["card_number"]).status_code == 201
    with dynamodb_requests() as by_customer_id:
        assert buy(api, None, customer_id=alice["customer_id"]).status_code == 201
    assert by_card == by_customer_id == [("GetItem", ("claims",)), MEMBER_AND_VERSION, TRANSACTION]


def test_a_purchase_by_phone_reads_the_claim_then_the_member_with_the_version(api, alice):
    assert buy(api, alice["card_number"]).status_code == 201
    with dynamodb_requests() as made:
        assert buy(api, "0151 23456789").status_code == 201
    # The program's region (to read a national number) is the one held, checked by that version.
    assert made == [("GetItem", ("claims",)), MEMBER_AND_VERSION, TRANSACTION]


def test_a_phone_said_at_the_till_is_read_in_the_programs_region_even_just_after_it_changed(api, alice):
    assert buy(api, alice["card_number"]).status_code == 201  # the program (region DE) held
    program = api.call("GET", "/v1/program", ADMIN).json_body
    changed = api.call("PUT", "/v1/program", ADMIN, {**program, "default_region": "AT"})
    assert changed.status_code == 200, changed.json_body
    from chalicelib.services.catalog_cache import cache

    assert cache().held_program() is None or cache().held_program().default_region == "DE"
    # The national number is now an Austrian one: nobody's (in DE it is alice's).
    response = buy(api, "0151 23456789")
    assert response.status_code == 404 and response.json_body["error"]["code"] == "card_not_found"


def test_redeeming_an_offer_reads_only_the_live_entries_of_that_offer(api, alice, clock):
    offer = new_offer(api, COOKIE)
    check_in(api, MITTE)
    seed_wallet("alice", "off_gone", 40, clock.now - timedelta(days=30))  # long expired, another offer
    assert buy(api, alice["card_number"]).status_code == 201  # a warm Lambda: the catalog cached
    clock.now += timedelta(hours=1)
    with dynamodb_requests() as made:
        bought = buy(api, alice["card_number"], offer_ids=[offer["offer_id"]])
    assert bought.status_code == 201, bought.json_body
    assert bought.json_body["offers_redeemed"] == [offer["offer_id"]]
    assert ("Query", ("wallet",)) not in made
    assert made == [
        ("GetItem", ("claims",)),
        MEMBER_AND_VERSION,
        ("GetItem", ("activity",)),
        ("BatchGetItem", ("wallet",)),
        TRANSACTION,
    ]
    # The refusal of a second redemption still says why, from the whole wallet.
    again = buy(api, alice["card_number"], offer_ids=[offer["offer_id"]])
    assert again.status_code == 409 and again.json_body["error"]["code"] == "offer_already_redeemed"


def test_a_full_refund_gives_the_offer_back_reading_only_the_live_entries_of_the_offers_it_redeemed(api, alice, clock):
    offer = new_offer(api, COOKIE)
    check_in(api, MITTE)
    seed_wallet("alice", "off_gone", 40, clock.now - timedelta(days=30))
    bought = buy(api, alice["card_number"], offer_ids=[offer["offer_id"]]).json_body
    plain = buy(api, alice["card_number"]).json_body
    refunds = []
    for purchase in (bought, plain):
        with dynamodb_requests() as made:
            answer = api.call(
                "POST",
                f"/v1/purchases/{purchase['purchase_id']}/refund",
                api.cashier(),
                {},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
        assert answer.status_code == 201, answer.json_body
        refunds.append((answer.json_body["offers_returned"], made))
    (returned, with_offer), (none, without) = refunds
    assert returned == [offer["offer_id"]] and none == []
    assert ("Query", ("wallet",)) not in with_offer + without
    assert [r for r in with_offer if r not in without] == [("GetItem", ("activity",)), ("BatchGetItem", ("wallet",))]


def test_the_card_lookup_reads_only_the_live_entries(api, alice, clock):
    offer = new_offer(api, COOKIE)
    check_in(api, MITTE)
    seed_wallet("alice", "off_gone", 40, clock.now - timedelta(days=30))
    code = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    with dynamodb_requests() as made, patch.object(WalletModel, "batch_get", wraps=WalletModel.batch_get) as batch:
        response = api.call("GET", f"/v1/cards/{quote(code, safe='')}", api.cashier())
    assert response.status_code == 200
    assert [o["offer_id"] for o in response.json_body["offers"]] == [offer["offer_id"]]
    assert made == [MEMBER_AND_VERSION, ("GetItem", ("activity",)), ("BatchGetItem", ("wallet",))]
    assert [len(list(call.args[0])) for call in batch.call_args_list] == [1]


# --- check-ins -----------------------------------------------------------------------------------


def test_every_kind_of_check_in_is_one_read_and_one_transaction(api, alice):
    new_offer(api, COOKIE)
    registered = api.call(
        "POST",
        "/v1/beacons",
        ADMIN,
        {
            "store_id": "s_nordlicht_alex",
            "zone": "door",
            "eddystone_eid": {"identity_key": EID_KEY, "rotation_exponent": 10, "time_counter": 0},
        },
    )
    assert registered.status_code == 201
    api.join("dave", phone="0151 33333333")
    check_in(api, MITTE, "dave")  # a warm Lambda: the catalog cached
    check_in(api, MITTE_DOOR, "dave")
    with dynamodb_requests() as issuing:
        assert check_in(api, MITTE).json_body["offers"] != []
    with dynamodb_requests() as same_visit:
        assert check_in(api, MITTE_DOOR).json_body["offers"] != []
    api.join("bob", phone="0151 11111111")
    with dynamodb_requests() as ibeacon:
        assert check_in(api, KREUZBERG_DOOR, "bob").json_body["store_id"] == "s_kiez_kreuzberg"
    api.join("carol", phone="0151 22222222")
    at = datetime.fromisoformat(registered.json_body["eddystone_eid"]["registered_at"].replace("Z", "+00:00"))
    heard = compute_eid(bytes.fromhex(EID_KEY), 10, int((datetime.now(UTC) - at).total_seconds())).hex()
    with dynamodb_requests() as eid:
        assert check_in(api, {"type": "beacon", "eid": heard}, "carol").json_body["store_id"] == "s_nordlicht_alex"
    assert issuing == ibeacon == eid == [CHECKIN_READ, TRANSACTION]
    # The same visit answers with the offers it brought: read by their keys, not the wallet.
    assert same_visit == [CHECKIN_READ, TRANSACTION, ("BatchGetItem", ("wallet",))]


def seed_wallet(sub: str, offer_id: str, count: int, issued_at: datetime, first_n: int = 1) -> list[WalletModel]:
    """``count`` past entries of ``offer_id`` (issued one a day before ``issued_at``), written
    directly to the wallet table as an earlier version of the app left them."""
    customer_id = ActivityModel.get(sub).customer_id if _has_activity(sub) else _customer_id(sub)
    entries = [
        WalletModel(
            customer_id,
            f"{offer_id}#{first_n + i}",
            offer_id=offer_id,
            title="Past offer",
            reward={"type": "bonus_points", "points": 5},
            store_id="s_kiez_mitte",
            merchant_id="m_kiez",
            issued_at=issued_at - timedelta(days=count - i),
            expires_at=issued_at - timedelta(days=count - i - 7),
            status="redeemed" if i % 2 else "issued",
        )
        for i in range(count)
    ]
    with WalletModel.batch_write() as batch:
        for entry in entries:
            batch.save(entry)
    return entries


def _has_activity(sub: str) -> bool:
    return ActivityModel.count(sub) > 0


def _customer_id(sub: str) -> str:
    from chalicelib.store.members import get_member

    member = get_member(sub)
    assert member is not None
    return member.customer_id


def as_before_the_activity_item(sub: str, last: dict[str, Any] | None = None) -> str:
    """Make a member look as one who joined before the activity item: no such item, and their
    last check-in (if any) in the old ``checkins`` table."""
    customer_id = _customer_id(sub)
    ActivityModel(sub).delete()
    if last is not None:
        CheckinModel(customer_id, **last).save()
    return customer_id


def test_a_check_in_never_reads_a_wallet_of_a_thousand_past_entries(api, alice, clock):
    offer = new_offer(api, WELCOME)
    as_before_the_activity_item("alice")
    seed_wallet("alice", offer["offer_id"], 1000, clock.now - timedelta(days=2))
    check_in(api, UNKNOWN_BEACON)  # the one fallback: the activity item built from the old records
    api.join("dave", phone="0151 33333333")
    check_in(api, MITTE, "dave")  # a warm Lambda: the catalog cached
    clock.now += timedelta(minutes=5)
    with dynamodb_requests() as made:
        issued = check_in(api, MITTE).json_body["offers"]
    assert made == [CHECKIN_READ, TRANSACTION]
    # The thousand still count: the member's 1001st issue of the offer.
    assert [o["wallet_id"] for o in issued] == [f"{offer['offer_id']}#1001"]
    assert len(api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"]) == 1001


def test_a_member_from_before_the_activity_item_keeps_their_visit_and_its_offers(api, alice, clock):
    offer = new_offer(api, COOKIE)
    check_in(api, MITTE)  # issues COOKIE#1
    first = check_in(api, MITTE_DOOR).json_body
    customer_id = as_before_the_activity_item(
        "alice",
        {
            "checkin_id": first["checkin_id"],
            "at": clock.now - timedelta(minutes=10),
            "store_id": "s_kiez_mitte",
            "lon": MITTE["lon"],
            "lat": MITTE["lat"],
            "wallet_ids": [f"{offer['offer_id']}#1"],
            "minute_start": clock.now - timedelta(minutes=10),
            "minute_count": 1,
        },
    )
    with dynamodb_requests() as made:
        again = check_in(api, MITTE_DOOR).json_body
    # The same visit as the old record says, with the offer it brought.
    assert again["checkin_id"] == first["checkin_id"]
    assert [o["offer_id"] for o in again["offers"]] == [offer["offer_id"]]
    assert ("GetItem", ("checkins",)) in made and ("Query", ("wallet",)) in made
    # Built once: the old record is not read again, and the per-customer limit still holds.
    clock.now += timedelta(hours=2)
    with dynamodb_requests() as later:
        assert check_in(api, MITTE).json_body["offers"] == []
    assert later == [CHECKIN_READ, TRANSACTION]
    assert [w.wallet_id for w in WalletModel.query(customer_id)] == [f"{offer['offer_id']}#1"]


def test_a_member_from_before_the_activity_item_is_still_speed_checked_and_rate_limited(api, alice, clock):
    as_before_the_activity_item(
        "alice",
        {
            "checkin_id": "chk_old",
            "at": clock.now - timedelta(minutes=1),
            "store_id": None,
            "lon": MUNICH[0],
            "lat": MUNICH[1],
            "minute_start": clock.now - timedelta(seconds=30),
            "minute_count": 6,
        },
    )
    limited = api.call("POST", "/v1/me/checkins", api.customer("alice"), MITTE)
    assert limited.status_code == 429 and limited.json_body["error"]["code"] == "checkin_rate_limited"
    clock.now += timedelta(minutes=1)
    too_fast = api.call("POST", "/v1/me/checkins", api.customer("alice"), MITTE)
    assert too_fast.status_code == 422 and too_fast.json_body["error"]["code"] == "impossible_speed"


def test_a_member_from_before_the_activity_item_gets_their_next_issue_numbered_after_the_old_ones(api, alice, clock):
    offer = new_offer(api, WELCOME)
    as_before_the_activity_item("alice")
    seed_wallet("alice", offer["offer_id"], 3, clock.now - timedelta(days=2))
    issued = check_in(api, MITTE).json_body["offers"]
    assert [o["wallet_id"] for o in issued] == [f"{offer['offer_id']}#4"]
    # Not again the same day: the cooldown counts on the history built from the old wallet.
    clock.now += timedelta(hours=2)
    assert check_in(api, KREUZBERG_DOOR).json_body["offers"] == []


def test_a_qr_card_of_a_member_from_before_the_activity_item_still_buys_and_redeems(api, alice, clock):
    offer = new_offer(api, COOKIE)
    check_in(api, MITTE)
    as_before_the_activity_item("alice")
    code = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    bought = buy(api, code, offer_ids=[offer["offer_id"]])
    assert bought.status_code == 201, bought.json_body
    assert bought.json_body["offers_redeemed"] == [offer["offer_id"]]


def test_a_purchase_offer_for_a_member_from_before_the_activity_item_counts_their_old_issues(api, alice, clock):
    earned = new_offer(
        api,
        {
            "title": "Your next coffee half price",
            "trigger": {"type": "purchase"},
            "reward": {"type": "percent_off", "percent": 50},
            "limits": {"per_customer": 2},
        },
    )
    as_before_the_activity_item("alice")
    seed_wallet("alice", earned["offer_id"], 1, clock.now - timedelta(days=3))
    first = buy(api, alice["card_number"]).json_body
    assert [o["wallet_id"] for o in first["offers_issued"]] == [f"{earned['offer_id']}#2"]
    clock.now += timedelta(days=1)
    with dynamodb_requests() as made:
        second = buy(api, alice["card_number"]).json_body
    assert second["offers_issued"] == []  # the two the member may have
    assert ("Query", ("wallet",)) not in made and ("GetItem", ("checkins",)) not in made
