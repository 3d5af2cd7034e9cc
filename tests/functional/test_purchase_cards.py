"""The card on a purchase: its errors name the field the till sent, and a re-scanned QR is the same card."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.config import settings
from chalicelib.domain import cards


def buy(api, card, key=None, amount=1250):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    return api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def qr(card_number, at):
    config = settings()
    return cards.issue_qr(card_number, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=lambda: at).payload


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
