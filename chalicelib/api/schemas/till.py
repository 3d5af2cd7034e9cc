"""The till's models: finding a card, recording a purchase, refunding it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.api.schemas.common import (
    NO_CONTROL_CHARS,
    CardCode,
    Identifier,
    Request,
    Response,
    WalletOfferOut,
    exactly_one_of,
)

# --- point of sale -------------------------------------------------------------------------


class CardLookupQuery(Request):
    amount: Annotated[int, Field(ge=0, le=10**10)] | None = Field(
        default=None, description="The bill in minor units, to say how many points can be redeemed on it."
    )


class CardSummary(Response):
    customer_id: str
    name: str
    card_number: str
    tier: str
    points_balance: int
    discount_percent: int
    currency: str
    amount: int | None
    redeemable_points: int | None = Field(description="Points that can be redeemed on ?amount=, after the cap.")
    redeemable_value: int | None = Field(description="What those points are worth, minor units.")
    offers: list[WalletOfferOut] = Field(
        description="Wallet offers the till can redeem now, the soonest to expire first."
    )
    favourite_categories: list[str] = Field(description="What the member buys most, most first (up to 3).")
    interests: list[str] = Field(description="What the member told the app they like.")
    tier_perks: list[str] = Field(description="What the member's tier gives them, to say at the till.")
    visits: int


class LineItemModel(Request):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL_CHARS)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL_CHARS)] | None = None
    qty: Annotated[int, Field(ge=1, le=10_000)]
    price: Annotated[int, Field(ge=0, le=10**9, description="Unit price, minor units.")]
    on_sale: bool = Field(default=False, description="Already discounted: the cumulative discount may not stack.")


class PurchaseRequest(Request):
    model_config = ConfigDict(json_schema_extra=exactly_one_of(("card",), ("customer_id",)))

    card: CardCode | None = Field(
        default=None, description="Any code GET /v1/cards/{code} accepts: QR payload, card number, phone."
    )
    customer_id: Identifier | None = None
    store_id: Identifier
    amount: Annotated[int, Field(gt=0, le=10**9, description="The bill before discount and points, minor units.")]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    items: Annotated[list[LineItemModel], Field(max_length=200)] | None = None
    redeem_points: Annotated[int, Field(ge=0, le=10**9)] = 0
    offer_ids: Annotated[list[Identifier], Field(max_length=5)] = Field(
        default=[], description="Wallet offers to redeem on this bill (single use, at the issuing merchant)."
    )

    @model_validator(mode="after")
    def _one_member(self) -> PurchaseRequest:
        if (self.card is None) == (self.customer_id is None):
            raise ValueError("give exactly one of card and customer_id")
        return self


class RefundItem(Request):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL_CHARS)]
    qty: Annotated[int, Field(ge=1, le=10_000)]


class RefundRequest(Request):
    amount: Annotated[int, Field(gt=0, le=10**9)] | None = Field(
        default=None, description="Gross amount to refund, minor units; omit (and items) for all that is left."
    )
    items: Annotated[list[RefundItem], Field(min_length=1, max_length=200)] | None = None
    reason: Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL_CHARS)] | None = None


class RefundResult(Response):
    refund_id: str
    purchase_id: str
    customer_id: str
    at: datetime
    amount_refunded: int = Field(description="Gross share of the purchase refunded now, minor units.")
    money_refunded: int = Field(description="Money to hand back: the refunded share of what was paid.")
    points_taken_back: int
    points_returned: int
    points_balance: int
    points_debt: int = Field(description="Points taken back that the balance could not cover.")
    tier: str
    refunded_total: int
    status: Literal["partially_refunded", "refunded"]
    offers_returned: list[str] = Field(
        default=[], description="Offers the purchase redeemed, back in the wallet (a full refund, while they last)."
    )


# --- amends --------------------------------------------------------------------------------


class CompensationRequest(Request):
    points: Annotated[int, Field(ge=1, le=100_000, description="Points to give the customer.")]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_CONTROL_CHARS)] = Field(
        description="Why (shown to the customer and kept on the ledger)."
    )
    feedback_id: Identifier | None = Field(default=None, description="The customer's feedback this answers.")
