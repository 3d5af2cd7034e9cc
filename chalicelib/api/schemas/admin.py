"""The program admin's models: the rules, stores, beacons and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.api.schemas.common import (
    NO_CONTROL_CHARS,
    BeaconNumber,
    BeaconUuid,
    CompensationOut,
    EddystoneInstance,
    EddystoneNamespace,
    Hex,
    Identifier,
    Moment,
    Name,
    PageQuery,
    Percent,
    Request,
    Response,
    ShortLabel,
    TierName,
    Timezone,
    exactly_one_of,
)
from chalicelib.domain.program import MAX_CUMULATIVE_DISCOUNT_PERCENT

# --- program rules ------------------------------------------------------------------------


def _region(value: str) -> str:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("not a region phone numbers are read in (ISO 3166 alpha-2, e.g. DE)")
    return value


class TierBody(Request):
    name: TierName
    min_spend_minor: Annotated[int, Field(ge=0, le=10**12)] = 0
    min_visits: Annotated[int, Field(ge=0, le=100_000)] = 0
    earn_multiplier_percent: Annotated[int, Field(ge=100, le=1000)] = 100
    perks: Annotated[list[Annotated[Name, Field(max_length=80)]], Field(max_length=20)] = Field(
        default=[], description="Shown to members as they are: names of things, held to the same rule."
    )


class RedemptionBody(Request):
    point_value_minor: Annotated[int, Field(ge=1, le=10_000)] = 1
    min_points: Annotated[int, Field(ge=0, le=10**7)] = 100
    max_share_percent: Percent = 50


#: The bound is checked with its reason by the rules (domain.program.check_rules); the schema
#: only states it, so that a client sees why rather than a bare range error.
LadderPercent = Annotated[int, Field(ge=0, json_schema_extra={"maximum": MAX_CUMULATIVE_DISCOUNT_PERCENT})]


class CumulativeDiscountBody(Request):
    enabled: bool = False
    base_percent: LadderPercent = Field(default=0, description="The first visit's discount; not above max_percent.")
    step_percent: Percent = 1
    max_percent: LadderPercent = Field(
        default=15, description=f"The ladder's top, at most {MAX_CUMULATIVE_DISCOUNT_PERCENT}."
    )
    stacks_with_sale_items: bool = False


class ExpiryBody(Request):
    mode: Literal["fifo", "inactivity"] = "fifo"
    months: Annotated[int, Field(ge=1, le=120)] | None = None


class TierReviewBody(Request):
    every_months: Annotated[int, Field(ge=1, le=36)] = 12
    grace_months: Annotated[int, Field(ge=0, le=12)] = 1


WallClock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Days = Annotated[int, Field(ge=1, le=365)]
BonusPoints = Annotated[int, Field(ge=0, le=100_000)]


class ContactPolicyBody(Request):
    marketing_per_week: Annotated[int, Field(ge=0, le=7)] = Field(
        default=1, description="Marketing messages a member may get in any 7 days, across every job and campaign."
    )
    quiet_start: WallClock = Field(default="21:00", description="Quiet hours for members who set none (local).")
    quiet_end: WallClock = "09:00"
    keep_in_touch_after_days: Annotated[int, Field(ge=0, le=90)] = Field(
        default=30,
        description="The monthly minimum: a consenting member who heard nothing useful this long gets one"
        " keep_in_touch message (0: off; otherwise at least 7).",
    )
    campaign_holdout_percent: Annotated[int, Field(ge=0, le=50)] = Field(
        default=5,
        description="Share of each campaign's audience held out (sent nothing) to measure its lift, drawn"
        " reproducibly per campaign and member; a campaign may set its own.",
    )


class BirthdayMomentBody(Request):
    enabled: bool = True
    bonus_points: BonusPoints = 100
    offer_id: Identifier | None = Field(default=None, description="An offer with trigger birthday.")


class SurpriseMomentBody(Request):
    enabled: bool = True
    min_visits: Annotated[int, Field(ge=1, le=1000)] = 4
    within_days: Days = 30
    points: Annotated[int, Field(ge=1, le=100_000)] = 50
    monthly_budget_points: Annotated[int, Field(ge=0, le=10**9)] = 5000
    not_again_months: Annotated[int, Field(ge=1, le=36)] = 3


class ReminderMomentBody(Request):
    enabled: bool = True
    days_before: Annotated[int, Field(ge=0, le=30)] = 2
    min_visits: Annotated[int, Field(ge=2, le=1000)] = 3
    offer_id: Identifier | None = Field(default=None, description="An offer with trigger campaign.")


class WinbackMomentBody(Request):
    enabled: bool = True
    margin_days: Days = 14
    offer_id: Identifier | None = Field(default=None, description="An offer with trigger campaign.")


class ExpiringPointsMomentBody(Request):
    enabled: bool = True
    days_before: Annotated[int, Field(ge=1, le=90)] = 14


class MomentsBody(Request):
    birthday: BirthdayMomentBody = BirthdayMomentBody.model_construct()
    surprise: SurpriseMomentBody = SurpriseMomentBody.model_construct()
    reminder: ReminderMomentBody = ReminderMomentBody.model_construct()
    winback: WinbackMomentBody = WinbackMomentBody.model_construct()
    points_expiring: ExpiringPointsMomentBody = ExpiringPointsMomentBody.model_construct()


class ReferralBody(Request):
    enabled: bool = True
    referrer_points: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=200,
        description="Points to the member who brought the friend, on the friend's first qualifying purchase.",
    )
    friend_points: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=100, description="Points to the friend, then."
    )
    min_purchase_minor: Annotated[int, Field(ge=0, le=10**9)] = Field(
        default=500, description="The friend's purchase qualifies from this amount (after discounts)."
    )
    within_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=90, description="... if made within this many days of joining."
    )
    max_friends: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=25, description="Friends one member's code may bring; the code is refused after."
    )


class FeedbackRulesBody(Request):
    review_bonus_points: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=20, description="Points for a review of a purchase, once per purchase (0: none)."
    )


class ProgramRulesBody(Request):
    name: Name
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    default_region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_region)]
    timezone: Timezone
    points_per_currency_unit: Annotated[int, Field(ge=0, le=1000)] = 1
    redemption: RedemptionBody = RedemptionBody.model_construct()
    tiers: Annotated[list[TierBody], Field(min_length=1, max_length=10)]
    tier_window_months: Annotated[int, Field(ge=1, le=36)] = 12
    cumulative_discount: CumulativeDiscountBody = CumulativeDiscountBody.model_construct()
    expiry: ExpiryBody = ExpiryBody.model_construct()
    tier_review: TierReviewBody = TierReviewBody.model_construct()
    tier_migrations: Annotated[dict[TierName, TierName], Field(max_length=20)] = Field(
        default={},
        description="For each tier of the current rules that these drop or rename, the kept tier its members"
        ' hold from now on (e.g. {"Gold": "Platinum"}); a save that drops a tier without one is refused.',
    )
    contact: ContactPolicyBody = ContactPolicyBody.model_construct()
    moments: MomentsBody = MomentsBody.model_construct()
    referral: ReferralBody = ReferralBody.model_construct()
    feedback: FeedbackRulesBody = FeedbackRulesBody.model_construct()
    version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version you edited: the save is refused (409) if another came since."
    )


class ProgramRulesOut(Response):
    name: str
    currency: str
    default_region: str
    timezone: str
    points_per_currency_unit: int
    redemption: RedemptionBody
    tiers: list[TierBody]
    tier_window_months: int
    cumulative_discount: CumulativeDiscountBody
    expiry: ExpiryBody
    tier_review: TierReviewBody
    tier_migrations: dict[str, str] = Field(
        description="Every tier name members may still hold that the tiers no longer have, and the tier it now is."
    )
    contact: ContactPolicyBody
    moments: MomentsBody
    referral: ReferralBody
    feedback: FeedbackRulesBody
    version: int


# --- operations ---------------------------------------------------------------------------


class JobRunRequest(Request):
    at: Moment | None = Field(
        default=None, description="Run as of this moment (default: now); outside the local stage never in the future."
    )


class ExpiryRun(Response):
    job: Literal["expire_points"]
    at: datetime
    members_expired: int
    points_expired: int


class TierReviewRun(Response):
    job: Literal["tier_review"]
    at: datetime
    reviewed: int
    kept: int
    grace: int
    lowered: int


class MomentRun(Response):
    job: Literal["birthdays", "surprises", "reminders", "winback", "keep_in_touch", "points_expiring"]
    at: datetime
    selected: int = Field(description="Members the job's index selected (each once)")
    messages: int = Field(description="Queue messages enqueued for the contacts consumer (up to 100 members each)")


class SegmentsRun(Response):
    job: Literal["segments"]
    at: datetime
    segments: int = Field(description="Saved segments whose membership was written")
    joined: int = Field(description="Members who came into a segment (one write each)")
    left: int = Field(description="Members who left one")


class SnapshotRun(Response):
    job: Literal["snapshot"]
    at: datetime
    folded: int = Field(description="Delta files folded into the members' snapshot")


class CampaignsRun(Response):
    job: Literal["campaigns"]
    at: datetime
    started: int = Field(description="Campaign runs that came due and were handed to the contacts queue")


class FitPredictorRun(Response):
    job: Literal["fit_predictor"]
    at: datetime
    version: str | None = Field(
        description="The fit's version (when it was fitted, YYYYMMDDTHHMMSSZ); null when nothing was fitted."
    )
    not_fitted: Literal["too_few_customers", "too_short_history"] | None = Field(
        description="Why nothing was fitted: fewer than 10 members who bought, or under 28 days of history "
        "(the members keep the interval model's predictions)."
    )
    customers: int = Field(description="Members with a purchase in the history the model was fitted on")
    purchase_days: int = Field(description="Their purchase days (several purchases on one day are one)")
    fit_seconds: float = Field(description="How long fitting took")
    messages: int = Field(description="Queue messages carrying the members' predictions (up to 100 each)")
    running_in: str | None = Field(
        default=None,
        description="On AWS an admin's run is handed to the weekly fit's own function (it alone carries scipy): "
        "its name; the figures are then in its log.",
    )


class JobRunResult(Response):
    result: Annotated[
        ExpiryRun | TierReviewRun | MomentRun | SegmentsRun | SnapshotRun | CampaignsRun | FitPredictorRun,
        Field(discriminator="job"),
    ]


# --- places --------------------------------------------------------------------------------


#: A coordinate as it was sent: an integral one stays an integer in the answer.
Coordinate = int | float


class CircleFence(Response):
    # Rendered as saved: a key this model does not name is kept, not dropped.
    model_config = ConfigDict(frozen=True, extra="allow")

    center: Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[lon, lat]")]
    radius_m: Coordinate


class PolygonFence(Response):
    model_config = ConfigDict(frozen=True, extra="allow")

    type: Literal["Polygon"]
    coordinates: list[list[Annotated[list[Coordinate], Field(min_length=2)]]] = Field(
        description="GeoJSON: the outer ring, then any holes; each ring closed, as [lon, lat] positions."
    )


class StoreModel(Response):
    store_id: str
    merchant_id: str
    name: str
    geofence: CircleFence | PolygonFence
    timezone: str | None
    address: str | None


class StoreBody(Request):
    store_id: Identifier | None = Field(default=None, description="Chosen by you, or generated.")
    merchant_id: Identifier
    name: Name
    geofence: dict[str, Any] = Field(
        description="{center: [lon, lat], radius_m} (10 m to 5 km) or a GeoJSON Polygon (closed, valid, under 10 km)."
    )
    timezone: Timezone | None = None
    address: Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL_CHARS)] | None = None


class EidRegistration(Request):
    identity_key: Annotated[str, Hex, StringConstraints(min_length=32, max_length=32)] = Field(
        description="128-bit AES identity key, 32 hex digits. Write-only: never returned."
    )
    rotation_exponent: Annotated[int, Field(ge=0, le=15)]
    time_counter: Annotated[int, Field(ge=0, le=2**32 - 1, description="The beacon's clock now, in seconds.")]


class BeaconBody(Request):
    model_config = ConfigDict(
        json_schema_extra=exactly_one_of(("uuid", "major", "minor"), ("namespace", "instance"), ("eddystone_eid",))
    )

    store_id: Identifier
    zone: ShortLabel
    uuid: BeaconUuid | None = None
    major: BeaconNumber | None = None
    minor: BeaconNumber | None = None
    namespace: EddystoneNamespace | None = None
    instance: EddystoneInstance | None = None
    eddystone_eid: EidRegistration | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BeaconBody:
        ibeacon = (self.uuid, self.major, self.minor)
        uid = (self.namespace, self.instance)
        kinds = [any(v is not None for v in ibeacon), any(v is not None for v in uid), self.eddystone_eid is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of: uuid+major+minor, namespace+instance, eddystone_eid")
        if kinds[0] and None in ibeacon:
            raise ValueError("an iBeacon needs uuid, major and minor")
        if kinds[1] and None in uid:
            raise ValueError("an Eddystone-UID beacon needs namespace and instance")
        return self


class EidOut(Response):
    rotation_exponent: int
    time_counter: int
    registered_at: datetime


class BeaconOut(Response):
    beacon_id: str
    store_id: str
    zone: str
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    namespace: str | None = None
    instance: str | None = None
    eddystone_eid: EidOut | None = None


class BeaconPage(Response):
    items: list[BeaconOut]
    next_cursor: str | None


class StoreList(Response):
    items: list[StoreModel]
    next_cursor: str | None


class BeaconQuery(PageQuery):
    store_id: Identifier | None = None


# --- push ----------------------------------------------------------------------------------


class DeadLetterOut(Response):
    dead_letter_id: str
    customer_id: str
    message_id: str
    reason: str = Field(description="FCM's error codes for the devices that failed, or why the consumer gave up")
    tokens_failed: int = Field(description="How many of the member's devices failed (the tokens are not shown)")
    failed_at: datetime
    replayed_at: datetime | None


class DeadLetterPage(Response):
    items: list[DeadLetterOut]
    next_cursor: str | None


# --- staff and amends ---------------------------------------------------------------------


class StaffBody(Request):
    role: Literal["cashier", "marketer", "admin"]
    merchant_id: Identifier
    store_id: Identifier | None = None
    name: Name | None = None
    compensation_limit_points: Annotated[int, Field(ge=0, le=100_000)] = Field(
        description="Points the staff member may grant as amends at once, per grant (above: an admin approves)."
    )
    daily_compensation_limit_points: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        default=None, description="... and per day, all their grants together (none: only the per-grant limit)."
    )


class StaffOut(Response):
    sub: str
    name: str
    role: Literal["cashier", "marketer", "admin", "customer"]
    merchant_id: str | None
    store_id: str | None
    compensation_limit_points: int
    daily_compensation_limit_points: int | None


class CompensationQuery(Request):
    status: Literal["pending", "granted", "rejected"] = "pending"
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


class CompensationList(Response):
    items: list[CompensationOut]
    next_cursor: str | None


class RejectBody(Request):
    note: Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARS)] | None = None


# --- CRM webhooks -------------------------------------------------------------------------

WebhookEvent = Literal[
    "member.joined",
    "member.left",
    "tier.changed",
    "purchase.created",
    "purchase.refunded",
    "feedback.created",
    "referral.rewarded",
]


class WebhookBody(Request):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://[\x21-\x7e]+$")] = Field(
        description="https (http only to this machine, on the local stage); ASCII, as RFC 3986 has it: "
        "an international host in its punycode form (xn--...)."
    )
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=7)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")] | None = Field(
        default=None, description="The HMAC key (write-only; drawn for you if left out and shown once)."
    )
    active: bool = True
    description: Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARS)] | None = None


class WebhookOut(Response):
    webhook_id: str
    url: str
    events: list[WebhookEvent]
    active: bool
    description: str | None
    created_at: datetime | None
    secret: str | None = Field(description="Only in the answer that set it; never shown again.")


class WebhookPage(Response):
    items: list[WebhookOut]
    next_cursor: str | None


class WebhookPayload(Response):
    event_id: str = Field(description="The same in every delivery of the event (drop repeats by it).")
    type: WebhookEvent
    at: datetime
    data: dict[str, str | int | None] = Field(description="Ids and amounts; members by their customer_id only.")


class DeliveryOut(Response):
    delivery_id: str
    event_id: str
    event: WebhookEvent
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    body: WebhookPayload = Field(description="What was (or is to be) sent: ids and amounts, no personal data.")


class DeliveryPage(Response):
    items: list[DeliveryOut]
    next_cursor: str | None
