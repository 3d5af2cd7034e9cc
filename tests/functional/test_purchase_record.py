"""The persisted purchase is a typed record: purchases written in any earlier layout of its JSON body
still read back, refund and export."""

import uuid

import pytest

from chalicelib.store.ledger import PurchaseModel

#: The keys this layout added to the body: the refund totals, written from the first save on. A body
#: of the previous layout had them only once refunded.
REFUND_KEYS = (
    "refunded_amount",
    "refunded_money",
    "points_taken_back",
    "points_returned",
    "refunded_qty",
    "status",
    "refunds",
)


def buy(api, card, amount, **extra):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR", **extra}
    response = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.json_body
    return response.json_body


def refund(api, purchase_id, **body):
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    response = api.call("POST", f"/v1/purchases/{purchase_id}/refund", api.cashier(), body, headers=headers)
    assert response.status_code == 201, response.json_body
    return response.json_body


def rewrite_body(purchase_id, change):
    item = PurchaseModel.get(purchase_id, consistent_read=True)
    item.body = change(dict(item.body))
    item.save()


@pytest.fixture
def card(api):
    return api.join("alice").json_body["card_number"]


ITEMS = [
    {"sku": "latte", "qty": 2, "price": 350, "category": "coffee"},
    {"sku": "cake", "qty": 1, "price": 300, "on_sale": True},
]


def test_a_purchase_saved_in_the_previous_layout_is_refunded_by_items_and_then_in_full(api, card):
    bought = buy(api, card, 1_000, items=ITEMS)
    # As the previous layout saved it: the receipt, the tier before, the redeemed lots and the lines.
    rewrite_body(bought["purchase_id"], lambda body: {k: v for k, v in body.items() if k not in REFUND_KEYS})

    first = refund(api, bought["purchase_id"], items=[{"sku": "latte", "qty": 1}])
    rest = refund(api, bought["purchase_id"])

    assert first["status"] == "partially_refunded" and first["amount_refunded"] == 350
    assert rest["status"] == "refunded" and rest["refunded_total"] == 1_000
    assert first["money_refunded"] + rest["money_refunded"] == bought["amount_due"]
    assert first["points_taken_back"] + rest["points_taken_back"] == bought["points_earned"]
    stored = PurchaseModel.get(bought["purchase_id"], consistent_read=True).body
    assert stored["refunded_qty"] == [2, 1]
    assert [r["refund_id"] for r in stored["refunds"]] == [first["refund_id"], rest["refund_id"]]


def test_a_purchase_saved_before_lines_and_tiers_were_kept_is_refunded_in_full(api, card):
    bought = buy(api, card, 2_000)
    oldest = ("tier_before", "redeemed_lots", "lines", *REFUND_KEYS)
    rewrite_body(bought["purchase_id"], lambda body: {k: v for k, v in body.items() if k not in oldest})

    done = refund(api, bought["purchase_id"])

    assert done["status"] == "refunded"
    assert done["money_refunded"] == bought["amount_due"] and done["points_taken_back"] == bought["points_earned"]
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"] == 0


def test_the_export_shows_the_recorded_purchase_with_its_lines_and_refunds(api, card):
    bought = buy(api, card, 1_000, items=ITEMS)
    made = refund(api, bought["purchase_id"], items=[{"sku": "cake", "qty": 1}])

    recorded = api.call("GET", "/v1/me/export", api.customer("alice")).json_body["purchases"][0]["recorded"]

    assert {k: recorded[k] for k in bought} == bought
    assert [(line["sku"], line["qty"], line["price_minor"]) for line in recorded["lines"]] == [
        ("latte", 2, 350),
        ("cake", 1, 300),
    ]
    assert recorded["refunded_qty"] == [0, 1] and recorded["status"] == "partially_refunded"
    assert recorded["refunds"] == [
        {
            k: made[k]
            for k in ("refund_id", "at", "amount_refunded", "money_refunded", "points_taken_back", "points_returned")
        }
    ]
