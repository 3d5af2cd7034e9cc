"""The card on a purchase: its errors name the field the till sent, and a re-scanned QR is the same card."""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from urllib.parse import quote

import pytest
from botocore.client import BaseClient

from chalicelib.config import settings
from chalicelib.domain import cards


def buy(api, card, key=None, amount=1250):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    return api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def qr(card_number, at, sub="alice"):
    """The QR the app shows (naming the member), or with ``sub=None`` one issued before it did."""
    config = settings()
    return cards.issue_qr(card_number, sub, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=lambda: at).payload


@contextmanager
def dynamodb_requests():
    """Every DynamoDB request made meanwhile, as ``(operation, tables)``."""
    made = []
    real = BaseClient._make_api_call

    def counting(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            names = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            short = "+".join(sorted(name.rsplit("-", 1)[-1] for name in names))
            made.append((operation, short or "-"))
        return real(client, operation, params)

    with patch.object(BaseClient, "_make_api_call", counting):
        yield made


@pytest.fixture
def alice(api):
    return api.join("alice", phone="0151 23456789").json_body


def _bad_cards(card_number):
    config = settings()
    stale = datetime.now(UTC) - timedelta(seconds=config.qr_ttl_s + 60)
    forged = cards.issue_qr(
        card_number, secret="not-our-secret-0123456789abcdef0123", ttl_s=300, clock=lambda: datetime.now(UTC)
    ).payload
    typo = card_number[:-1] + str((int(card_number[-1]) + 1) % 10)
    return {
        "qr_expired": (410, qr(card_number, stale)),
        "invalid_qr": (422, forged),
        "invalid_card_number": (422, typo),
        "card_not_found": (404, cards.new_card_number()),
        "unrecognised_code": (422, "hello"),
    }


def test_every_card_error_on_a_purchase_names_the_card_field(api, alice):
    for code, (status, card) in _bad_cards(alice["card_number"]).items():
        response = buy(api, card)
        assert response.status_code == status, code
        assert response.json_body["error"]["code"] == code
        assert response.json_body["error"]["field"] == "card", code


def test_the_card_lookup_still_names_its_path_parameter_code(api, alice):
    response = api.call("GET", "/v1/cards/hello", api.cashier())
    assert response.status_code == 422 and response.json_body["error"]["field"] == "code"


def test_a_retry_after_the_qr_was_scanned_again_replays_the_first_answer(api, alice):
    now = datetime.now(UTC)
    first = buy(api, qr(alice["card_number"], now - timedelta(seconds=30)), key="receipt-1")
    again = buy(api, qr(alice["card_number"], now), key="receipt-1")
    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"]) == 1


def test_the_same_card_typed_or_by_customer_id_on_a_retry_replays_too(api, alice):
    first = buy(api, alice["card_number"], key="receipt-2")
    body = {"customer_id": alice["customer_id"], "store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR"}
    again = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": "receipt-2"})
    assert again.status_code == 201 and again.json_body == first.json_body
    assert buy(api, "0151 23456789", key="receipt-2").json_body == first.json_body


def test_a_retry_with_a_qr_that_went_stale_since_replays_instead_of_410(api, alice):
    config = settings()
    scanned = datetime.now(UTC) - timedelta(seconds=config.qr_ttl_s - 1)
    code = qr(alice["card_number"], scanned)
    first = buy(api, code, key="receipt-3")
    assert first.status_code == 201
    stale = qr(alice["card_number"], scanned - timedelta(seconds=120))
    again = buy(api, stale, key="receipt-3")
    assert again.status_code == 201 and again.json_body == first.json_body
    # A stale code with a fresh key is a new purchase: refused.
    assert buy(api, stale, key="receipt-4").status_code == 410


def test_the_same_key_for_another_member_or_amount_is_still_409(api, alice):
    bob = api.join("bob", phone="0151 11111111").json_body
    assert buy(api, alice["card_number"], key="receipt-5").status_code == 201
    for card, amount in ((bob["card_number"], 1250), (alice["card_number"], 999)):
        response = buy(api, card, key="receipt-5", amount=amount)
        assert response.status_code == 409
        assert response.json_body["error"]["code"] == "idempotency_key_reused"


def member_reads(made):
    return [(op, table) for op, table in made if {"members", "claims"} & set(table.split("+"))]


def test_a_purchase_by_the_apps_qr_reads_the_member_once_and_no_card_claim(api, alice):
    code = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    assert buy(api, alice["card_number"]).status_code == 201  # warm the catalog caches
    with dynamodb_requests() as made:
        assert buy(api, code).status_code == 201
    # The member with the catalog's version, in one request.
    assert member_reads(made) == [("BatchGetItem", "catalog+members")]
    assert [op for op, _ in made if op != "BatchGetItem"] == ["TransactWriteItems"]


def test_the_card_lookup_by_the_apps_qr_reads_the_member_once_and_no_card_claim(api, alice):
    code = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    with dynamodb_requests() as made:
        response = api.call("GET", f"/v1/cards/{quote(code, safe='')}", api.cashier())
    assert response.status_code == 200 and response.json_body["customer_id"] == alice["customer_id"]
    assert member_reads(made) == [("BatchGetItem", "catalog+members")]


def test_a_qr_issued_before_the_member_was_named_in_it_still_buys_and_replays_across_formats(api, alice):
    now = datetime.now(UTC)
    first = buy(api, qr(alice["card_number"], now - timedelta(seconds=60), sub=None), key="receipt-deploy")
    assert first.status_code == 201
    again = buy(api, qr(alice["card_number"], now), key="receipt-deploy")
    assert again.status_code == 201 and again.json_body == first.json_body
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_a_qr_of_a_card_its_member_no_longer_holds_finds_nobody(api, alice):
    """A member who left and joined again keeps their account's key but has another card: a fresh
    screenshot of the old card's QR must not buy on the new membership."""
    old = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    assert api.call("DELETE", "/v1/me", api.customer("alice")).status_code == 204
    assert api.join("alice", phone="0151 23456789").status_code == 201
    response = buy(api, old)
    assert response.status_code == 404
    assert response.json_body["error"] == {
        "code": "card_not_found",
        "message": "no member has this card",
        "field": "card",
    }


def test_a_qr_naming_a_member_who_never_joined_finds_nobody(api, alice):
    response = buy(api, qr(alice["card_number"], datetime.now(UTC), sub="nobody"))
    assert response.status_code == 404 and response.json_body["error"]["field"] == "card"
