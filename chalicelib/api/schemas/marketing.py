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


# --- segments ------------------------------------------------------------------------------

Days = Annotated[int, Field(ge=0, le=3650)]


class DayRangeBody(Request):
    min: Days | None = Field(default=None, description="At least this many days (included).")
    max: Days | None = Field(default=None, description="At most this many days (included).")


class AheadRangeBody(Request):
    min: Annotated[int, Field(ge=-3650, le=3650)] | None = Field(
        default=None, description="Days from today (negative: overdue)."
    )
    max: Annotated[int, Field(ge=-3650, le=3650)] | None = None


RfmCell = Annotated[
    str,
    StringConstraints(pattern=r"^[1-5*]{3}$"),
    Field(description="Recency, frequency, monetary quintile (5 = best) or * for any, e.g. '55*'."),
]


class SegmentDefinition(Request):
    """Every criterion narrows the audience (they are ANDed); an empty definition is every member."""

    tiers: Annotated[list[TierName], Field(max_length=10)] = []
    rfm: Annotated[list[RfmCell], Field(max_length=125, description="Any of these RFM cells.")] = []
    categories: Annotated[list[ShortLabel], Field(max_length=50, description="Bought in any of these.")] = []
    last_visit_days: DayRangeBody | None = Field(default=None, description="Days since the last visit.")
    min_visits: Annotated[int, Field(ge=0, le=100_000)] | None = None
    max_visits: Annotated[int, Field(ge=0, le=100_000)] | None = None
    min_spend: Annotated[int, Field(ge=0, le=10**12, description="Spend since joining, minor units.")] | None = None
    birthday_month: Annotated[int, Field(ge=1, le=12)] | None = None
    home_store_id: Identifier | None = None
    consent_only: bool = Field(default=False, description="Only members who agreed to marketing.")
    joined_days: DayRangeBody | None = Field(default=None, description="Days since joining.")
    next_visit_days: AheadRangeBody | None = Field(
        default=None, description="Days until the predicted next visit (members with a prediction)."
    )


class SegmentBody(Request):
    name: Name
    description: Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARS)] | None = None
    merchant_id: Identifier | None = Field(default=None, description="None: program-wide (admin only).")
    definition: SegmentDefinition
    status: Literal["active", "paused"] = "active"


class DayRangeOut(Response):
    min: int | None
    max: int | None


class SegmentDefinitionOut(Response):
    tiers: list[str]
    rfm: list[str]
    categories: list[str]
    last_visit_days: DayRangeOut | None
    min_visits: int | None
    max_visits: int | None
    min_spend: int | None
    birthday_month: int | None
    home_store_id: str | None
    consent_only: bool
    joined_days: DayRangeOut | None
    next_visit_days: DayRangeOut | None


class SegmentOut(Response):
    segment_id: str
    name: str
    description: str | None
    merchant_id: str | None
    definition: SegmentDefinitionOut
    status: Literal["active", "paused", "ended"]
    created_at: datetime | None
    updated_at: datetime | None
    members: int | None = Field(description="Members in it as of the last membership run (hourly).")
    members_at: datetime | None


class SegmentPage(Response):
    items: list[SegmentOut]
    next_cursor: str | None


class SegmentSampleOut(Response):
    customer_id: str
    tier: str
    visits: int
    spend_minor: int
    last_visit_at: datetime | None
    favourite_category: str | None


class SegmentPreviewOut(Response):
    count: int = Field(description="Members the definition matches.")
    members: int = Field(description="Members in the program.")
    sample: list[SegmentSampleOut]
    as_of: datetime | None = Field(description="When the members' snapshot was last written to.")
