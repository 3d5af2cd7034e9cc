"""The cashier's point of sale."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import CASHIER, Call, command, operation
from chalicelib.api.schemas.common import CompensationOut, PurchaseResult
from chalicelib.api.schemas.till import (
    CardLookupQuery,
    CardSummary,
    CompensationRequest,
    PurchaseRequest,
    RefundRequest,
    RefundResult,
)
from chalicelib.ports import now
from chalicelib.services import cards, compensations, purchases, refunds
from chalicelib.services.idempotency import Outcome

pos = Blueprint(__name__)


@operation(
    pos,
    "GET",
    "/cards/{code}",
    summary="Find a member by card number, QR payload or phone number",
    roles=CASHIER,
    query=CardLookupQuery,
    response=CardSummary,
)
def lookup_card(call: Call[None, CardLookupQuery], code: str) -> cards.CardSummaryView:
    return cards.lookup(call.identity, code, call.query.amount, clock=now)


@operation(
    pos,
    "POST",
    "/purchases",
    summary="Record a purchase: discount, points redeemed and earned, exactly once per Idempotency-Key",
    roles=CASHIER,
    body=PurchaseRequest,
    response=PurchaseResult,
    status=201,
    idempotency_key=True,
)
def record_purchase(call: Call[PurchaseRequest, None]) -> Outcome:
    order = command(purchases.RecordPurchase, call.body)
    return purchases.record(call.identity, order, call.headers.get("idempotency-key"), clock=now)


@operation(
    pos,
    "POST",
    "/purchases/{purchase_id}/refund",
    summary="Refund a purchase in full or in part: earned points taken back, redeemed points returned",
    roles=CASHIER,
    body=RefundRequest,
    response=RefundResult,
    status=201,
    idempotency_key=True,
)
def refund_purchase(call: Call[RefundRequest, None], purchase_id: str) -> Outcome:
    key = call.headers.get("idempotency-key")
    return refunds.refund(call.identity, purchase_id, command(refunds.RefundPurchase, call.body), key, clock=now)


@operation(
    pos,
    "POST",
    "/customers/{customer_id}/compensations",
    summary="Amends on the spot: granted within the cashier's limits (201), else pending an admin (202)",
    roles=CASHIER,
    body=CompensationRequest,
    response=CompensationOut,
    status=201,
    idempotency_key=True,
)
def compensate(call: Call[CompensationRequest, None], customer_id: str) -> Outcome:
    key = call.headers.get("idempotency-key")
    return compensations.request(
        call.identity, customer_id, command(compensations.RequestAmends, call.body), key, clock=now
    )
