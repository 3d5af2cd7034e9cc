"""Referrals: a friend joins with a member's code; both are rewarded on the friend's first
qualifying purchase (seen on the ledger's stream), once; a refund takes it back; self-referrals,
rings and a code past its cap are refused."""

import dataclasses
import uuid

import pytest

from chalicelib.domain.program import ReferralRules
from chalicelib.services import referrals
from chalicelib.store import catalog, streams
from chalicelib.store.ledger import LedgerEntryModel
from scripts import seed
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")


class Ledger:
    """The ledger's stream into the referrals' handler, as the stream's Lambda does."""

    def __init__(self):
        self.reader = streams.StreamReader(LedgerEntryModel)

    def feed(self, clock):
        moved = []
        self.reader.poll(
            lambda records: moved.append(
                referrals.on_ledger_records(
                    [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=lambda: clock.now
                )
            )
        )
        return sum(moved)


def buy(api, card, amount):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def balance(api, sub):
    return api.call("GET", "/v1/me", api.customer(sub)).json_body["points_balance"]


def ledger_reasons(api, sub):
    return [e["reason"] for e in api.call("GET", "/v1/me/ledger", api.customer(sub)).json_body["items"]]


@pytest.fixture
def rosa(api, clock):
    joined = api.join("rosa", phone="0151 11111111", name="Rosa Referrer").json_body
    return joined


def test_a_friend_s_first_qualifying_purchase_rewards_both_once(api, clock, rosa):
    ledger = Ledger()
    code = rosa["referral_code"]
    friend = api.join("fritz", phone="0151 22222222", name="Fritz Friend", referral_code=f" {code.lower()} ")
    assert friend.status_code == 201, friend.json_body
    mine = api.call("GET", "/v1/me/referrals", api.customer("rosa")).json_body
    assert mine["referral_code"] == code and code in mine["share_link"]
    assert mine["friends_joined"] == 1 and mine["points_earned"] == 0
    assert mine["items"] == [
        {"first_name": "Fritz", "joined_at": mine["items"][0]["joined_at"], "status": "joined", "points_to_me": 0}
    ]

    card = friend.json_body["card_number"]
    buy(api, card, 300)  # under the program's 5.00
    assert ledger.feed(clock) == 0
    before = balance(api, "rosa"), balance(api, "fritz")
    buy(api, card, 2_000)
    assert ledger.feed(clock) == 1
    assert balance(api, "rosa") == before[0] + 200
    assert balance(api, "fritz") > before[1] + 100 - 1  # the bonus and the purchase's own points
    assert "referral_referrer" in ledger_reasons(api, "rosa")
    assert "referral_friend" in ledger_reasons(api, "fritz")
    assert [m["kind"] for m in api.inbox("rosa")][:1] == ["referral"]
    assert api.inbox("rosa", "referral")[0]["title"] == "Fritz made their first purchase"

    # The stream delivered again, and a second purchase: nothing more.
    ledger.reader._iterators.clear()
    ledger.reader._last_sequence.clear()
    buy(api, card, 2_000)
    assert ledger.feed(clock) == 0
    assert balance(api, "rosa") == before[0] + 200
    mine = api.call("GET", "/v1/me/referrals", api.customer("rosa")).json_body
    assert (mine["friends_rewarded"], mine["points_earned"]) == (1, 200)
    assert mine["items"][0]["status"] == "rewarded" and mine["items"][0]["points_to_me"] == 200

    # The report: who brought whom and what they spent.
    api.feed_snapshot()
    report = api.call("GET", "/v1/reports/referrals", MARKETER)
    assert report.status_code == 200, report.json_body
    body = report.json_body
    assert (body["referrers"], body["friends"], body["friends_who_bought"]) == (1, 1, 1)
    [top] = body["items"]
    assert top["rank"] == 1 and top["name"] == "Rosa Referrer" and top["friends"] == 1
    assert top["friends_spend_minor"] == body["friends_spend_minor"] > 0
    assert api.call("GET", "/v1/reports/referrals", api.cashier()).status_code == 403


def test_a_refunded_qualifying_purchase_takes_both_rewards_back(api, clock, rosa):
    ledger = Ledger()
    friend = api.join("fritz", phone="0151 22222222", referral_code=rosa["referral_code"]).json_body
    bought = buy(api, friend["card_number"], 2_000)
    ledger.feed(clock)
    assert balance(api, "rosa") == 200
    refunded = api.call(
        "POST",
        f"/v1/purchases/{bought['purchase_id']}/refund",
        api.cashier(),
        {},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert refunded.status_code in (200, 201), refunded.json_body
    assert ledger.feed(clock) == 1
    assert balance(api, "rosa") == 0
    assert "referral_taken_back" in ledger_reasons(api, "rosa")
    assert api.call("GET", "/v1/me/referrals", api.customer("rosa")).json_body["points_earned"] == 0


def test_self_referrals_rings_and_a_full_code_are_refused(api, clock, rosa):
    code = rosa["referral_code"]
    own_phone = api.join("rosa-2", phone="0151 11111111", referral_code=code)
    assert own_phone.status_code == 422 and own_phone.json_body["error"]["code"] == "self_referral"

    api.call("POST", "/v1/me/devices", api.customer("rosa"), {"token": "rosas-phone-token", "platform": "android"})
    same_phone = api.join("rosa-3", phone="0151 33333333", referral_code=code, device_token="rosas-phone-token")
    assert same_phone.status_code == 422 and same_phone.json_body["error"]["code"] == "self_referral"

    # Rosa -> Bea -> Carl; a new account on Rosa's phone with Carl's code closes a ring.
    bea = api.join("bea", phone="0151 44444444", referral_code=code).json_body
    carl = api.join("carl", phone="0151 55555555", referral_code=bea["referral_code"]).json_body
    ring = api.join(
        "dora", phone="0151 66666666", referral_code=carl["referral_code"], device_token="rosas-phone-token"
    )
    assert ring.status_code == 422 and ring.json_body["error"]["code"] == "referral_ring"

    unknown = api.join("eve", phone="0151 77777777", referral_code="NOPE1234")
    assert unknown.status_code == 422 and unknown.json_body["error"]["code"] == "unknown_referral_code"
    # Nothing of the refused joins was written.
    assert api.call("GET", "/v1/me", api.customer("dora")).status_code == 404


def test_a_code_past_its_cap_is_refused_and_nothing_is_written(api, clock, rosa):
    catalog.put(dataclasses.replace(seed.PROGRAM, referral=ReferralRules(max_friends=1)))
    assert api.join("f1", phone="0151 22222222", referral_code=rosa["referral_code"]).status_code == 201
    second = api.join("f2", phone="0151 33333333", referral_code=rosa["referral_code"])
    assert second.status_code == 422 and second.json_body["error"]["code"] == "referral_cap_reached"
    assert second.json_body["error"]["field"] == "referral_code"
    assert api.call("GET", "/v1/me", api.customer("f2")).status_code == 404
    assert api.join("f2", phone="0151 33333333").status_code == 201  # without the code they may join
