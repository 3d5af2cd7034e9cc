"""The services take typed commands built from the validated bodies; a request still means what it
meant: the fingerprint a retry is matched by is the one the request models gave (so a retry that
spans a release replays instead of being refused as a different request)."""

import uuid

from chalicelib.api.schemas.till import PurchaseRequest, RefundRequest
from chalicelib.services.idempotency import request_hash, scoped_key
from chalicelib.store.ledger import IdempotencyModel
from tests.functional.conftest import CASHIER


def saved_hash(operation, key):
    return IdempotencyModel.get(scoped_key(CASHIER["sub"], operation, key), consistent_read=True).request_hash


def test_a_purchase_and_its_refund_are_fingerprinted_as_their_request_bodies_were(api):
    customer_id = api.join("alice").json_body["customer_id"]
    body = {
        "customer_id": customer_id,
        "store_id": "s_kiez_mitte",
        "amount": 1_000,
        "currency": "EUR",
        "items": [{"sku": "latte", "qty": 2, "price": 500, "category": "coffee"}],
    }
    key = str(uuid.uuid4())
    bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": key}).json_body
    refund = {"items": [{"sku": "latte", "qty": 1}], "reason": "spilt"}
    refund_key = str(uuid.uuid4())
    path = f"/v1/purchases/{bought['purchase_id']}/refund"
    assert api.call("POST", path, api.cashier(), refund, headers={"Idempotency-Key": refund_key}).status_code == 201

    as_the_model_meant_it = PurchaseRequest(**body).model_dump(mode="json", exclude={"card", "customer_id"})
    assert saved_hash("POST /v1/purchases", key) == request_hash({**as_the_model_meant_it, "customer_id": customer_id})
    refund_meant = {"purchase_id": bought["purchase_id"], **RefundRequest(**refund).model_dump(mode="json")}
    assert saved_hash(f"POST {path}", refund_key) == request_hash(refund_meant)
