"""The customer app's models: joining, the profile, the card, devices, check-ins, the wallet, the inbox,
the ledger and the export (``/v1/me/...``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.api.schemas.common import (
    NO_CONTROL_CHARS,
    BeaconNumber,
    BeaconUuid,
    Birthday,
    DeviceToken,
    EddystoneInstance,
    EddystoneNamespace,
    FeedbackOut,
    Hex,
    Identifier,
    Interest,
    LocalTime,
    Name,
    PhoneText,
    PurchaseResult,
    Request,
    Response,
    Timezone,
    WalletOfferOut,
    exactly_one_of,
    not_nullable,
)

# --- members -------------------------------------------------------------------------------


class JoinRequest(Request):
    name: Name
    phone: PhoneText = Field(description="Any usual format; read in the program's default region, stored as E.164.")
    birthday: Birthday
    referral_code: (
        Annotated[str, StringConstraints(min_length=4, max_length=16, pattern=r"^[A-Za-z0-9\- ]+$")] | None
    ) = None
    marketing_consent: bool
    timezone: Timezone | None = None
    home_store_id: Identifier | None = None
    device_token: DeviceToken | None = Field(
        default=None,
        description="The phone's push token, if the app has one already: a code from a member on the same"
        " phone (or up their referral chain) is refused as a self-referral.",
    )


class QuietHoursModel(Request):
    start: LocalTime = Field(description="Local time HH:MM from which nothing is pushed.")
    end: LocalTime = Field(description="Local time HH:MM until which nothing is pushed; may be past midnight.")


class UpdateProfileRequest(Request):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    name: Name | None = Field(default=None, json_schema_extra=not_nullable)
    marketing_consent: bool | None = Field(default=None, json_schema_extra=not_nullable)
    quiet_hours: QuietHoursModel | None = Field(default=None, description="null clears the quiet hours.")
    timezone: Timezone | None = Field(default=None, json_schema_extra=not_nullable)
    interests: Annotated[list[Interest], Field(max_length=20)] | None = Field(
        default=None, description="Replaces the list; null or [] clears it."
    )
    home_store_id: Identifier | None = Field(default=None, description="A store's id; null clears it.")

    @model_validator(mode="after")
    def _not_empty(self) -> UpdateProfileRequest:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for field in ("name", "marketing_consent", "timezone"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class TierProgressModel(Response):
    tier: str
    next_tier: str | None
    spend_needed_minor: int | None = Field(description="Spend still needed in the tier window, minor units.")
    visits_needed: int | None


class Profile(Response):
    customer_id: str
    name: str
    phone: str
    birthday: date
    card_number: str
    referral_code: str
    tier: str
    points_balance: int
    tier_progress: TierProgressModel
    discount_percent: int = Field(description="The cumulative discount the member gets on the next visit.")
    marketing_consent: bool
    timezone: str
    home_store_id: str | None
    quiet_hours: QuietHoursModel | None
    interests: list[str]
    joined_at: datetime
    currency: str
    tier_review_on: date | None = Field(description="When the tier is next reviewed (it can only go down then).")
    tier_grace_until: date | None = Field(description="Below the tier's threshold: kept until this day.")
    tier_perks: list[str] = Field(description="What my tier gives me.")
    next_tier_perks: list[str] = Field(description="What the next tier would add (empty at the top).")


class Card(Response):
    card_number: str
    card_number_display: str = Field(description="Grouped for reading aloud at the till.")
    qr_payload: str = Field(description="Signed, short-lived; render it as a QR code.")
    expires_at: datetime


class DeviceRequest(Request):
    token: DeviceToken
    platform: Literal["android", "ios", "web"]


class DeviceModel(Response):
    token: str
    platform: Literal["android", "ios", "web"]
    registered_at: datetime


class ClaimExport(Response):
    kind: str
    value: str


class CheckinExport(Response):
    checkin_id: str
    at: datetime
    store_id: str | None
    lat: float | None
    lon: float | None


class RecordedLineOut(Response):
    sku: str
    qty: int
    price_minor: int
    category: str | None
    on_sale: bool
    due: int = Field(description="What the line paid after its discount, minor units.")
    points: int = Field(description="Points the line earned.")
    redeemed: int = Field(description="Redeemed points charged to the line.")


class RefundMadeOut(Response):
    refund_id: str
    at: datetime
    amount_refunded: int
    money_refunded: int
    points_taken_back: int
    points_returned: int


class RecordedPurchaseOut(PurchaseResult):
    """The till's receipt as it was given, and what refunds need and have done."""

    tier_before: str | None
    redeemed_lots: list[tuple[str, int]] = Field(
        description="The lots (month, points) its redemption took from and no refund has given back yet."
    )
    lines: list[RecordedLineOut]
    refunded_amount: int
    refunded_money: int
    points_taken_back: int
    points_returned: int
    refunded_qty: list[int] = Field(description="Units refunded so far, per line.")
    status: Literal["partially_refunded", "refunded"] | None = Field(description="null until the first refund.")
    refunds: list[RefundMadeOut]


class PurchaseExport(Response):
    purchase_id: str
    at: datetime
    merchant_id: str
    store_id: str
    currency: str
    recorded: RecordedPurchaseOut = Field(
        description="What the till recorded and what it came to (amounts, points, lines, refunds)."
    )


class PredictionExport(Response):
    next_visit_at: datetime
    model: str = Field(description="The model that made the prediction (a fitted one names its version).")
    p_active: float | None = Field(description="A fitted model's chance that I still buy here (0-1).")
    wait_days: int | None = Field(description="A fitted model's days I typically take to come back.")


class MarketingExport(Response):
    segments: list[str] = Field(description="The segments I was last found in.")
    last_contact: dict[str, datetime] = Field(description="Per kind of message, when the last one reached me.")
    marketing_sent: list[datetime] = Field(description="Marketing messages within the frequency window.")
    contact_keys: dict[str, datetime] = Field(description="Messages sent once per key (a campaign, a year's greeting).")
    predicted_next_visit: PredictionExport | None
    visit_days: list[date] = Field(description="The days I bought something (the last 20): my rhythm.")
    keep_in_touch_due: date | None = Field(description="When I hear from the program if nothing else reaches me first.")
    updated_at: datetime | None


class Export(Response):
    exported_at: datetime
    profile: Profile
    devices: list[DeviceModel]
    identifiers: list[ClaimExport]
    referred_by: str | None
    last_checkin: CheckinExport | None
    wallet: list[WalletOfferOut]
    inbox: list[MessageOut]
    ledger: list[LedgerEntryOut] = Field(description="Every points entry, newest first.")
    purchases: list[PurchaseExport] = Field(description="Purchases recorded for me, newest first.")
    marketing: MarketingExport = Field(description="What marketing keeps about me beside my profile.")
    referrals: ReferralsExport = Field(description="How I joined and the friends I brought (no names).")
    feedback: list[FeedbackOut] = Field(description="What I told the program, with its answers.")
    compensations: list[CompensationExport] = Field(description="Amends asked for me, granted or not.")


class CompensationExport(Response):
    compensation_id: str
    points: int
    reason: str
    feedback_id: str | None
    status: Literal["granted", "pending", "rejected"]
    requested_at: datetime
    decided_at: datetime | None


class ReferralRecordOut(Response):
    joined_at: datetime
    status: Literal["joined", "rewarded", "refused", "taken_back"]
    reason: str | None
    purchase_id: str | None
    rewarded_at: datetime | None
    points_to_referrer: int
    points_to_friend: int


class ReferralsExport(Response):
    as_friend: ReferralRecordOut | None
    friends: list[ReferralRecordOut]


class FriendOut(Response):
    first_name: str | None = Field(description="None: the friend has left the program.")
    joined_at: datetime
    status: Literal["joined", "rewarded", "refused", "taken_back"] = Field(
        description="joined: rewards wait for their first qualifying purchase."
    )
    points_to_me: int


class MyReferrals(Response):
    referral_code: str
    share_link: str
    friends_joined: int
    friends_rewarded: int
    points_earned: int = Field(description="Points my friends' first purchases earned me (refunds taken back).")
    max_friends: int = Field(description="Friends one code may bring.")
    items: list[FriendOut]
    next_cursor: str | None


class LedgerEntryOut(Response):
    entry_id: str
    at: datetime
    points: int = Field(description="Signed: earned points are positive, spent or expired negative.")
    reason: str
    balance_after: int
    purchase_id: str | None
    merchant_id: str | None
    store_id: str | None
    debt_after: int | None = Field(default=None, description="Points still owed after this entry, if any.")
    note: str | None = Field(default=None, description="Why points were given by hand (amends).")
    feedback_id: str | None = Field(default=None, description="The feedback amends answered.")


class LedgerPage(Response):
    items: list[LedgerEntryOut]
    next_cursor: str | None


# --- check-ins, wallet, inbox --------------------------------------------------------------


class CheckinRequest(Request):
    # type "beacon" is one of the three beacon identities; type "geo" a location and no beacon field.
    model_config = ConfigDict(
        json_schema_extra=exactly_one_of(
            ("uuid", "major", "minor"),
            ("namespace", "instance"),
            ("eid",),
            ("lat", "lon", "accuracy_m"),
            # A beacon check-in may carry a location too (it is not used).
            fixed=[{"type": {"const": "beacon"}, "lat": {}, "lon": {}, "accuracy_m": {}}] * 3
            + [{"type": {"const": "geo"}}],
        )
    )

    type: Literal["beacon", "geo"]
    uuid: BeaconUuid | None = None
    major: BeaconNumber | None = None
    minor: BeaconNumber | None = None
    rssi: Annotated[int, Field(ge=-127, le=20)] | None = None
    proximity: Literal["immediate", "near", "far", "unknown"] | None = None
    namespace: EddystoneNamespace | None = None
    instance: EddystoneInstance | None = None
    eid: Annotated[str, Hex, StringConstraints(min_length=16, max_length=16)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, Field(gt=0, le=100_000)] | None = None
    mocked: bool = False

    @model_validator(mode="after")
    def _one_shape(self) -> CheckinRequest:
        beacon_fields = (self.uuid, self.major, self.minor, self.namespace, self.instance, self.eid)
        if self.type == "geo":
            if self.lat is None or self.lon is None or self.accuracy_m is None:
                raise ValueError("a geo check-in needs lat, lon and accuracy_m")
            if any(v is not None for v in beacon_fields):
                raise ValueError("a geo check-in has no beacon fields")
            return self
        kinds = [
            self.uuid is not None or self.major is not None or self.minor is not None,
            self.namespace is not None or self.instance is not None,
            self.eid is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError("a beacon is uuid+major+minor, namespace+instance, or eid")
        if kinds[0] and None in (self.uuid, self.major, self.minor):
            raise ValueError("an iBeacon needs uuid, major and minor")
        if kinds[1] and None in (self.namespace, self.instance):
            raise ValueError("an Eddystone-UID needs namespace and instance")
        return self


class CheckinResult(Response):
    checkin_id: str
    store_id: str | None
    zone: str | None
    offers: list[WalletOfferOut]


class WalletPage(Response):
    items: list[WalletOfferOut]
    next_cursor: str | None


class MessageOut(Response):
    message_id: str
    at: datetime
    kind: str
    title: str
    body: str | None
    offer_id: str | None
    read: bool = Field(description="The app reported the member opened it (POST /v1/me/inbox/{id}/read)")
    read_at: datetime | None


class InboxPage(Response):
    items: list[MessageOut]
    next_cursor: str | None


# --- feedback ------------------------------------------------------------------------------

QUESTION_ID_PATTERN = r"^[A-Za-z0-9_\-.]+$"
QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=QUESTION_ID_PATTERN)]
AnswerValue = Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARS)] | int | bool


class FeedbackRequest(Request):
    rating: Annotated[int, Field(ge=1, le=5)]
    kind: Literal["review", "survey", "complaint"]
    text: Annotated[str, StringConstraints(max_length=2000, pattern=NO_CONTROL_CHARS)] | None = None
    store_id: Identifier | None = None
    purchase_id: Identifier | None = Field(
        default=None, description="One of my purchases (a review earns a bonus once)."
    )
    answers: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.]+$")], AnswerValue
        ],
        Field(
            max_length=30,
            description="A survey's answers by question id.",
            # Keys other than question ids are refused (patternProperties alone would allow any).
            json_schema_extra={
                "additionalProperties": False,
                "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": QUESTION_ID_PATTERN},
            },
        ),
    ] = {}
