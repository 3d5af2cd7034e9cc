"""The card in the app and at the till: QR, typed number, spoken phone number."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from chalicelib.config import settings
from chalicelib.domain import cards


def lookup(api, code, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return api.call("GET", f"/v1/cards/{quote(code, safe='')}{suffix}", api.cashier())


def test_the_card_gives_a_short_lived_signed_qr(api):
    joined = api.join("alice").json_body
    card = api.call("GET", "/v1/me/card", api.customer("alice")).json_body
    assert card["card_number"] == joined["card_number"]
    assert card["qr_payload"].startswith("LC2.")
    expires = datetime.fromisoformat(card["expires_at"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=settings().qr_ttl_s)


def test_the_cashier_finds_the_member_by_qr_card_number_or_phone(api):
    joined = api.join("alice", phone="0151 23456789").json_body
    qr = api.call("GET", "/v1/me/card", api.customer("alice")).json_body["qr_payload"]
    number = joined["card_number"]
    said = ("0151 234 567 89", "+4915123456789", "4915123456789", "49 151 234 567 89")
    for code in (qr, number, cards.format_card_number(number), *said):
        response = lookup(api, code)
        assert response.status_code == 200, code
        assert response.json_body["customer_id"] == joined["customer_id"]
        assert response.json_body["name"] == joined["name"]
        assert "phone" not in response.json_body and "birthday" not in response.json_body


def test_the_lookup_says_how_many_points_the_bill_can_take(api):
    api.join("alice")
    summary = lookup(api, "0151 23456789", amount=1250).json_body
    assert summary["amount"] == 1250 and summary["currency"] == "EUR"
    # A new member has no points yet: nothing is redeemable whatever the bill.
    assert summary["redeemable_points"] == 0 and summary["redeemable_value"] == 0
    assert lookup(api, "0151 23456789", amount="-5").status_code == 422
    assert lookup(api, "0151 23456789", amount="lots").json_body["error"]["field"] == "amount"


def test_a_stale_qr_screenshot_gets_a_clear_qr_expired(api):
    joined = api.join("alice").json_body
    config = settings()
    stale = cards.issue_qr(
        joined["card_number"],
        secret=config.card_secret,
        ttl_s=config.qr_ttl_s,
        clock=lambda: datetime.now(UTC) - timedelta(seconds=config.qr_ttl_s + 60),
    )
    response = lookup(api, stale.payload)
    assert response.status_code == 410
    assert response.json_body["error"]["code"] == "qr_expired"


def test_a_forged_qr_is_refused(api):
    joined = api.join("alice").json_body
    forged = cards.issue_qr(
        joined["card_number"], secret="not-our-secret-0123456789abcdef0123", ttl_s=300, clock=lambda: datetime.now(UTC)
    )
    response = lookup(api, forged.payload)
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "invalid_qr"


def test_a_mistyped_card_number_does_not_find_anybody_else(api):
    number = api.join("alice").json_body["card_number"]
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    response = lookup(api, typo)
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "invalid_card_number"


def test_unknown_cards_and_phones_are_404_and_nonsense_is_422(api):
    assert lookup(api, cards.new_card_number()).status_code == 404
    assert lookup(api, "0151 99999999").status_code == 404
    assert lookup(api, "hello").status_code == 422
