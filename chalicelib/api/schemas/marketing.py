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
    CompensationOut,
    Day,
    FeedbackOut,
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
    targeting: TargetingBody = TargetingBody.model_construct()
    reward: Reward
    valid_from: Moment | None = None
    valid_to: Moment | None = None
    limits: LimitsBody = LimitsBody.model_construct()
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


# --- campaigns -----------------------------------------------------------------------------

Template = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1000, pattern=NO_CONTROL_CHARS),
    Field(description="May say {name}, {favourite_category}, {balance} and {tier}."),
]


class CampaignMessage(Request):
    title: Annotated[
        str,
        StringConstraints(min_length=1, max_length=120, pattern=NO_CONTROL_CHARS),
        Field(description="May say {name}, {favourite_category}, {balance} and {tier}."),
    ]
    body: Template


class ScheduleBody(Request):
    at: Moment | None = Field(default=None, description="One run then (a time already past: at launch).")
    rrule: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_CONTROL_CHARS)] | None = Field(
        default=None,
        description="RFC 5545 recurrence (e.g. FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0), program time zone;"
        " at most daily.",
    )
    starts: Moment | None = Field(default=None, description="The recurrence's first moment (default: the launch).")
    ends: Moment | None = Field(default=None, description="No run after this.")


class CampaignBody(Request):
    name: Name
    message: CampaignMessage
    segment: SegmentDefinition | None = Field(default=None, description="The audience (or segment_id).")
    segment_id: Identifier | None = Field(default=None, description="A saved segment, read at each run.")
    offer_id: Identifier | None = Field(default=None, description="An offer with the campaign trigger.")
    schedule: ScheduleBody | None = Field(default=None, description="None: at launch.")
    merchant_id: Identifier | None = Field(default=None, description="None: program-wide (admin only).")
    holdout_percent: Annotated[int, Field(ge=0, le=50)] | None = Field(
        default=None, description="Share of the audience held out to measure the lift (default: the program's)."
    )
    attribution_days: Annotated[int, Field(ge=1, le=60)] = Field(
        default=7, description="Days after a run in which a purchase counts for the campaign."
    )
    tags: Annotated[list[ShortLabel], Field(max_length=10)] = []


class ScheduleOut(Response):
    at: datetime | None
    rrule: str | None
    starts: datetime | None
    ends: datetime | None


class CampaignMessageOut(Response):
    title: str
    body: str


class CampaignOut(Response):
    campaign_id: str
    name: str
    message: CampaignMessageOut
    segment: SegmentDefinitionOut | None
    segment_id: str | None
    offer_id: str | None
    schedule: ScheduleOut | None
    merchant_id: str | None
    status: Literal["draft", "scheduled", "recurring", "sent", "cancelled"]
    holdout_percent: int
    attribution_days: int
    tags: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    launched_at: datetime | None
    next_run_at: datetime | None
    runs: list[str]


class CampaignPage(Response):
    items: list[CampaignOut]
    next_cursor: str | None


class RunOut(Response):
    run: str
    at: datetime
    audience: int = Field(description="Members the audience matched in the snapshot.")
    holdout: int = Field(description="Held out on purpose: they get nothing (the baseline).")
    no_consent: int = Field(description="Held back: no marketing consent.")
    to_contact: int = Field(description="Handed to the contact policy (cap and quiet hours are counted as decided).")


class LaunchOut(Response):
    campaign: CampaignOut
    run: RunOut | None = Field(description="The run started now (None: the first run is later).")


class GroupOut(Response):
    members: int
    converted: int = Field(description="Members who bought within the attribution window.")
    conversion_rate: float | None
    revenue_minor: int


class CampaignReport(Response):
    campaign_id: str
    name: str
    status: str
    runs: list[str]
    attribution_days: int
    audience: int
    sent: int
    held_back: dict[str, int] = Field(description="Members not sent to, by reason.")
    push_held_for_quiet_hours: int = Field(description="Sent to the inbox, the push held until quiet hours end.")
    opened: int
    open_rate: float | None
    offers_redeemed: int
    redeemer_revenue_minor: int = Field(description="Purchases that redeemed the campaign's offer, in the window.")
    treated: GroupOut
    holdout: GroupOut
    lift: float | None = Field(description="Conversion rate of the treated minus the hold-out's (points of share).")
    relative_lift: float | None


# --- calendar ------------------------------------------------------------------------------


class CalendarQuery(Request):
    year: Annotated[int, Field(ge=2000, le=2099)]


class CalendarEntry(Response):
    date: Day
    end: Day | None = None
    kind: Literal["campaign", "promotion", "holiday", "moment", "season"]
    title: str
    id: str | None = None
    status: str | None = None
    note: str | None = None


class CalendarOut(Response):
    year: int
    country: str | None
    entries: list[CalendarEntry]


# --- referral report -------------------------------------------------------------------------


class ReferrerOut(Response):
    rank: int
    customer_id: str
    name: str | None = Field(description="None: the referrer has left the program.")
    tier: str | None
    friends: int = Field(description="Friends who joined with their code.")
    friends_who_bought: int
    friends_spend_minor: int = Field(description="What those friends have spent since joining.")


class ReferralReport(Response):
    referrers: int
    friends: int
    friends_who_bought: int
    friends_spend_minor: int
    currency: str
    as_of: datetime | None = Field(description="When the members' snapshot was last written to.")
    items: list[ReferrerOut] = Field(description="Referrers ranked by what their friends spent.")
    next_cursor: str | None


# --- feedback inbox ------------------------------------------------------------------------


class FeedbackQuery(Request):
    status: Literal["open", "received", "closed"] = Field(
        default="open", description="open: awaiting an answer; received: nobody owes one; closed: answered."
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


class FeedbackInbox(Response):
    items: list[FeedbackOut]
    next_cursor: str | None


class ReplyBody(Request):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARS)] = Field(
        description="The answer, as the customer reads it in their inbox."
    )


# --- amends report -------------------------------------------------------------------------


class StaffTotalOut(Response):
    staff_sub: str
    granted: int
    points: int


class CompensationReport(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    granted: int
    points_granted: int
    pending: int
    rejected: int
    by_staff: list[StaffTotalOut]
    items: list[CompensationOut] = Field(description="Every request of the period, newest first.")


# --- summary, tiers, offers, economics -------------------------------------------------------


class ReportQuery(Request):
    from_: Day = Field(alias="from", description="First day, program time zone.")
    to: Day = Field(description="Last day (included).")
    merchant_id: Identifier | None = Field(default=None, description="One merchant's (a merchant's staff: their own).")


class MembersSummary(Response):
    members: int
    joined_in_period: int
    active_in_period: int = Field(description="Members with a visit in the period's calendar months.")
    repeat_rate: float | None = Field(description="Of the members who bought, the share who came back.")
    consenting: int


class SalesSummary(Response):
    revenue_minor: int = Field(description="What members paid.")
    gross_minor: int = Field(description="The bills before the program's discounts.")
    purchases: int
    average_check_minor: int | None
    discounts_minor: int = Field(description="The cumulative discount given.")
    offer_discounts_minor: int
    points_redeemed_value_minor: int
    refunded_minor: int


class PointsSummary(Response):
    given: int
    spent: int
    expired: int
    taken_back: int
    outstanding: int = Field(description="Points members hold now: the program's liability.")
    given_value_minor: int
    spent_value_minor: int
    outstanding_value_minor: int


class TierCount(Response):
    tier: str
    members: int


class OfferLine(Response):
    offer_id: str
    title: str
    issued: int
    redeemed: int
    revenue_minor: int


class SummaryReport(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    merchant_id: str | None
    currency: str
    members: MembersSummary
    sales: SalesSummary
    points: PointsSummary
    tiers: list[TierCount]
    offers: list[OfferLine]
    as_of: datetime | None = Field(description="When the members' snapshot was last written to.")


class TierLine(Response):
    tier: str
    members: int
    share: float | None
    consenting: int
    average_visits: float | None
    average_spend_minor: int | None
    points_outstanding: int
    perks: list[str]


class TiersReport(Response):
    members: int
    tiers: list[TierLine]
    as_of: datetime | None


class OfferDay(Response):
    day: date
    redeemed: int
    revenue_minor: int


class OfferReport(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    offer_id: str
    title: str
    status: str
    from_: date = Field(alias="from")
    to: date
    issued: int = Field(description="Issued since the offer began.")
    redeemed: int = Field(description="Redeemed in the period.")
    redemption_rate: float | None
    revenue_minor: int = Field(description="What the redeeming purchases paid.")
    days: list[OfferDay]


class MonthEconomics(Response):
    month: str
    revenue_minor: int
    discounts_minor: int
    points_given_value_minor: int
    points_redeemed_value_minor: int
    cost_minor: int
    cost_share: float | None = Field(description="Cost over revenue.")


class EconomicsReport(Response):
    merchant_id: str | None
    currency: str
    point_value_minor: int
    months: list[MonthEconomics]
    note: str


class CsvQuery(Request):
    limit: Annotated[int, Field(ge=1, le=5000)] = Field(default=1000, description="Rows per page.")
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
