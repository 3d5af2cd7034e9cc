"""The marketing console's models: promotions, offers and the reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
)

from chalicelib.api.schemas.common import (
    NO_CONTROL_CHARS,
    Day,
    Identifier,
    Moment,
    Name,
    Request,
    Response,
    Reward,
    ShortLabel,
    TierName,
)

# --- promotions ---------------------------------------------------------------------------


class PromotionBody(Request):
    name: Name
    multiplier_percent: Annotated[int, Field(ge=101, le=1000, description="200 = double points.")]
    valid_from: Moment
    valid_to: Moment
    merchant_id: Identifier | None = Field(default=None, description="None: program-wide (admin only).")
    store_ids: Annotated[list[Identifier], Field(max_length=100)] = []
    categories: Annotated[list[ShortLabel], Field(max_length=50)] = []
    tiers: Annotated[list[TierName], Field(max_length=10)] = []
    status: Literal["active", "paused"] = "active"


class PromotionOut(Response):
    promotion_id: str
    name: str
    multiplier_percent: int
    valid_from: datetime
    valid_to: datetime
    merchant_id: str | None
    store_ids: list[str]
    categories: list[str]
    tiers: list[str]
    status: Literal["active", "paused", "ended"]
    state: Literal["scheduled", "live", "expired", "paused", "ended"]


class PromotionPage(Response):
    items: list[PromotionOut]
    next_cursor: str | None


# --- reports ------------------------------------------------------------------------------


class PeriodQuery(Request):
    from_: Day = Field(alias="from", description="First day, program time zone.")
    to: Day = Field(description="Last day (included).")


class MerchantSettlementOut(Response):
    merchant_id: str
    name: str
    points_issued: int
    points_redeemed: int
    redeemed_value_minor: int
    cost_share_minor: int
    net_minor: int = Field(description="Positive: owed to the merchant; negative: owed by it.")


class TransferOut(Response):
    from_merchant: str
    to_merchant: str
    amount_minor: int


class SettlementReport(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    currency: str
    point_value_minor: int
    rule: str
    merchants: list[MerchantSettlementOut]
    transfers: list[TransferOut]


# --- offers --------------------------------------------------------------------------------


class TriggerBody(Request):
    type: Literal["checkin", "beacon", "geofence_enter", "purchase", "birthday", "campaign"]
    store_id: Identifier | None = None
    zone: ShortLabel | None = None
    merchant_id: Identifier | None = None
    category: ShortLabel | None = None


class TargetingBody(Request):
    tiers: Annotated[list[TierName], Field(max_length=10)] = []
    segment_id: Identifier | None = None
    categories: Annotated[list[ShortLabel], Field(max_length=50)] = []
    min_visits: Annotated[int, Field(ge=0, le=100_000)] | None = None
    min_days_since_last_visit: Annotated[int, Field(ge=0, le=3650)] | None = None
    max_days_since_last_visit: Annotated[int, Field(ge=0, le=3650)] | None = None


class LimitsBody(Request):
    per_customer: Annotated[int, Field(ge=1, le=1000)] | None = None
    budget: Annotated[int, Field(ge=1, le=10**9)] | None = None
    cooldown_hours: Annotated[int, Field(ge=0, le=24 * 365)] | None = None


class OfferBody(Request):
    title: Name
    description: Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARS)] | None = None
    merchant_id: Identifier | None = Field(default=None, description="None: program-wide (admin only).")
    trigger: TriggerBody
    targeting: TargetingBody = TargetingBody()
    reward: Reward
    valid_from: Moment | None = None
    valid_to: Moment | None = None
    limits: LimitsBody = LimitsBody()
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    status: Literal["active", "paused"] = "active"


class OfferOut(Response):
    offer_id: str
    title: str
    description: str | None = None
    merchant_id: str | None
    trigger: TriggerBody
    targeting: TargetingBody
    reward: Reward
    valid_from: datetime | None
    valid_to: datetime | None
    limits: LimitsBody
    priority: int
    status: Literal["active", "paused", "ended"]
    issued: int


class OfferPage(Response):
    items: list[OfferOut]
    next_cursor: str | None
