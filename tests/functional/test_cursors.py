"""Every list's cursor: it pages through everything once, and only for the list and caller it was given to."""

import base64
import json
import uuid
from urllib.parse import quote

import pytest

from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
OTHER_MARKETER = mint("other-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}


def a_member_with_history(api, sub="alice", phone="0151 23456789"):
    """A member with three ledger entries and two inbox messages."""
    card = api.join(sub, phone=phone).json_body["card_number"]
    for amount in (1000, 2000, 3000):
        body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
        api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    return api.customer(sub)


def some_offers_and_promotions(api):
    for title in ("A cookie", "A coffee", "A cake"):
        offer = {
            "title": title,
            "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
            "reward": {"type": "bonus_points", "points": 5},
        }
        assert api.call("POST", "/v1/offers", MARKETER, offer).status_code == 201
    for name in ("Double", "Triple"):
        promotion = {
            "name": name,
            "multiplier_percent": 200,
            "valid_from": "2026-11-01T00:00:00Z",
            "valid_to": "2026-12-01T00:00:00Z",
        }
        assert api.call("POST", "/v1/promotions", MARKETER, promotion).status_code == 201


@pytest.fixture
def lists(api):
    """(path, token, id field) of every list route, each with at least two items."""
    some_offers_and_promotions(api)
    member = a_member_with_history(api)
    assert api.call("POST", "/v1/me/checkins", member, MITTE).status_code == 200
    return [
        ("/v1/me/ledger", member, "entry_id"),
        ("/v1/me/inbox", member, "message_id"),
        ("/v1/promotions", MARKETER, "promotion_id"),
        ("/v1/offers", MARKETER, "offer_id"),
        ("/v1/stores", ADMIN, "store_id"),
        ("/v1/beacons", ADMIN, "beacon_id"),
    ]


def page(api, path, token, cursor=None, limit=1):
    url = f"{path}?limit={limit}" + (f"&cursor={quote(cursor, safe='')}" if cursor is not None else "")
    return api.call("GET", url, token)


def assert_invalid_cursor(response):
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["code"] == "invalid_cursor"
    assert response.json_body["error"]["field"] == "cursor"


def test_every_list_pages_through_all_its_items_once(api, lists):
    for path, token, id_field in lists:
        everything = [item[id_field] for item in page(api, path, token, limit=200).json_body["items"]]
        assert len(everything) >= 2, path
        seen, cursor = [], None
        while True:
            body = page(api, path, token, cursor).json_body
            seen += [item[id_field] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == everything, path


def old_style_key(entry_id):
    key = {"customer_id": {"S": "c_x"}, "entry_id": entry_id}
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


GARBAGE = [
    old_style_key({"S": ""}),
    old_style_key({"S": None}),
    old_style_key([1, 2]),
    old_style_key({"N": "1"}),
    base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
    base64.urlsafe_b64encode(b'{"a": {"b": {}}}').decode(),
    "x",
    "....",
    "a" * 256,
    "\u00e9t\u00e9",
    "0",
    "null",
]


@pytest.mark.parametrize("cursor", GARBAGE, ids=range(len(GARBAGE)))
def test_a_cursor_this_api_did_not_give_out_is_400_invalid_cursor_on_every_list(api, lists, cursor):
    for path, token, _ in lists:
        assert_invalid_cursor(page(api, path, token, cursor))


def test_a_cursor_with_any_character_changed_is_refused(api, lists):
    for path, token, _ in lists:
        genuine = page(api, path, token).json_body["next_cursor"]
        for i in range(len(genuine)):
            changed = genuine[:i] + ("A" if genuine[i] != "A" else "B") + genuine[i + 1 :]
            assert_invalid_cursor(page(api, path, token, changed))


def test_a_cursor_from_another_list_is_refused(api, lists):
    cursors = {path: page(api, path, token).json_body["next_cursor"] for path, token, _ in lists}
    for path, token, _ in lists:
        for other, cursor in cursors.items():
            if other != path:
                assert_invalid_cursor(page(api, path, token, cursor))


def test_a_cursor_given_to_another_caller_is_refused(api, lists):
    bob = a_member_with_history(api, "bob", phone="0151 11111111")
    alices = page(api, "/v1/me/ledger", api.customer("alice")).json_body["next_cursor"]
    assert_invalid_cursor(page(api, "/v1/me/ledger", bob, alices))
    marketers = page(api, "/v1/offers", MARKETER).json_body["next_cursor"]
    assert_invalid_cursor(page(api, "/v1/offers", OTHER_MARKETER, marketers))
    admins = page(api, "/v1/stores", ADMIN).json_body["next_cursor"]
    assert_invalid_cursor(page(api, "/v1/stores", api.cashier(), admins))
