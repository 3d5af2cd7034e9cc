"""Request and response models: the single source of validation and of the OpenAPI document."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.domain.program import MAX_CUMULATIVE_DISCOUNT_PERCENT

NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a known IANA time zone (e.g. Europe/Berlin)") from None
    return value


#: Categories a name may not hold: controls (Cc), format characters (Cf: the bidi overrides
#: U+202A-202E and isolates U+2066-2069 that reorder what a cashier or another member reads, the
#: zero-width U+200B-200D and U+FEFF that make two names look alike), line and paragraph
#: separators (Zl, Zp), private-use (Co), surrogates (Cs) and unassigned code points (Cn).
#: The pattern says it the other way round, as what a name may hold: letters, marks, numbers,
#: punctuation, symbols and the space separators (Zs, written out). The general categories
#: partition Unicode, so the two are the same set; this form is the one OpenAPI fuzzers
#: (schemathesis) can draw valid names from, where they cannot from ``[^\p{C}...]``.
VISIBLE_TEXT = r"^[\p{L}\p{M}\p{N}\p{P}\p{S} \u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]*$"
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def _normalised_name(value: Any) -> Any:
    """NFC first, so the same name typed on two keyboards is stored (and compared) alike; then a
    message that says which character is refused. The pattern is the complete rule (pydantic and
    the OpenAPI document's readers judge it with the same Unicode tables)."""
    if not isinstance(value, str):
        return value  # the str schema refuses it with its own message
    value = unicodedata.normalize("NFC", value)
    for position, char in enumerate(value):
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            name = unicodedata.name(char, unicodedata.category(char))
            raise ValueError(
                f"U+{ord(char):04X} ({name}) at position {position} is an invisible or control character: "
                "names may not hold controls, bidi overrides or zero-width characters"
            )
    return value


#: Every name or title a client gives a person or a thing (members, stores, offers, promotions,
#: the program and its tiers). The before-validator runs first, whatever its place here; placed
#: after the constraints it keeps the pattern in the JSON schema.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=VISIBLE_TEXT),
    BeforeValidator(_normalised_name),
]
PhoneText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32, pattern=r"^[0-9+()\-./ ]+$")
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-:.]+$")]
#: A push token as FCM and APNs hand them out. It is the devices table's range key and its by_token
#: index's hash key: 1024 ASCII characters is DynamoDB's range-key limit (1024 bytes) exactly.
DeviceToken = Annotated[str, StringConstraints(min_length=8, max_length=1024, pattern=r"^[A-Za-z0-9_\-:.]+$")]
#: What the till types or scans: a card number, a QR payload or a phone number, never a key as it is.
CardCode = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_CONTROL_CHARS)]
Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_timezone)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Interest = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=NO_CONTROL_CHARS)
]

#: The moments and days a client may send. Python's datetime stops at years 1 and 9999, so a
#: valid ISO moment near either end cannot even be converted to UTC; nothing this program plans,
#: runs or reports on lies outside this century, so anything outside it is a typo or a probe.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2100, 1, 1, tzinfo=UTC)
#: The oldest birthday a living member can have (the domain checks the exact age on joining).
EARLIEST_BIRTHDAY = date(1900, 1, 1)


def _sane_moment(value: datetime) -> datetime:
    if not EARLIEST_MOMENT <= value < LATEST_MOMENT:
        raise ValueError(f"must be from {EARLIEST_MOMENT:%Y-%m-%d} to before {LATEST_MOMENT:%Y-%m-%d} (UTC)")
    return value.astimezone(UTC)


def _sane_day(earliest: date) -> AfterValidator:
    def check(value: date) -> date:
        if not earliest <= value < LATEST_MOMENT.date():
            raise ValueError(f"must be from {earliest.isoformat()} to before {LATEST_MOMENT.date().isoformat()}")
        return value

    return AfterValidator(check)


#: Every moment a client sends: with its offset (naive times are ambiguous), stored in UTC.
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_sane_moment),
    Field(description="ISO-8601 with an offset, from 2000-01-01 to before 2100-01-01 UTC."),
]
#: A calendar day a client sends for the program's own business (report periods, plans).
Day = Annotated[date, _sane_day(EARLIEST_MOMENT.date()), Field(description="YYYY-MM-DD, 2000 to 2099.")]
Birthday = Annotated[date, _sane_day(EARLIEST_BIRTHDAY), Field(description="YYYY-MM-DD; not in the future.")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def exactly_one_of(*shapes: tuple[str, ...], fixed: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The document's ``oneOf`` for "exactly one of these groups of fields" (a model validator
    checks it): shape i requires its fields, not null, and the other shapes' fields absent or
    null (null is the same as left out). ``fixed[i]``, if given, adds properties to shape i."""
    branches = []
    for i, shape in enumerate(shapes):
        others = {f for other in shapes if other is not shape for f in other} - set(shape)
        properties: dict[str, Any] = {f: {"not": {"type": "null"}} for f in shape}
        properties.update({f: {"type": "null"} for f in sorted(others)})
        properties.update(fixed[i] if i < len(fixed) else {})
        branches.append({"required": list(shape), "properties": properties})
    return {"oneOf": branches}


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


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


class QuietHoursModel(Request):
    start: LocalTime = Field(description="Local time HH:MM from which nothing is pushed.")
    end: LocalTime = Field(description="Local time HH:MM until which nothing is pushed; may be past midnight.")


def _not_nullable(schema: dict[str, Any]) -> None:
    """The document of a field that may be left out but not sent as null (``X | None = None``
    whose validator refuses None): only X. A ``SkipJsonSchema[None]`` union would say the same
    but put the union's member names into the error's field."""
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])


class UpdateProfileRequest(Request):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    name: Name | None = Field(default=None, json_schema_extra=_not_nullable)
    marketing_consent: bool | None = Field(default=None, json_schema_extra=_not_nullable)
    quiet_hours: QuietHoursModel | None = Field(default=None, description="null clears the quiet hours.")
    timezone: Timezone | None = Field(default=None, json_schema_extra=_not_nullable)
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
    platform: str
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


class PurchaseExport(Response):
    purchase_id: str
    at: datetime
    merchant_id: str
    store_id: str
    currency: str
    recorded: dict[str, Any] = Field(description="What the till recorded and what it came to (amounts, points, lines).")


class PredictionExport(Response):
    next_visit_at: datetime
    model: str = Field(description="The model that made the prediction.")


class MarketingExport(Response):
    segments: list[str] = Field(description="The segments I was last found in.")
    last_contact: dict[str, datetime] = Field(description="Per kind of message, when the last one reached me.")
    marketing_sent: list[datetime] = Field(description="Marketing messages within the frequency window.")
    contact_keys: dict[str, datetime] = Field(description="Messages sent once per key (a campaign, a year's greeting).")
    predicted_next_visit: PredictionExport | None
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


class PurchaseResult(Response):
    purchase_id: str
    customer_id: str
    store_id: str
    merchant_id: str
    at: datetime
    amount: int
    currency: str
    discount_percent: int
    discount: int
    points_redeemed: int
    redeemed_value: int = Field(description="What the redeemed points paid, minor units.")
    amount_due: int = Field(description="What the customer pays in money, minor units.")
    points_earned: int
    earn_multiplier_percent: int
    promotion_ids: list[str] = Field(description="Promotions that multiplied this purchase's points.")
    offers_redeemed: list[str] = Field(default=[], description="Wallet offers redeemed on this bill.")
    offers_issued: list[dict[str, Any]] = Field(
        default=[], description="Offers this purchase earned (into the wallet)."
    )
    offer_discount: int = Field(default=0, description="The part of discount the redeemed offers gave.")
    points_debt_repaid: int = Field(description="Points of this purchase that paid off a refund's debt.")
    points_balance: int
    tier: str
    tier_upgraded: bool


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


class LedgerPage(Response):
    items: list[LedgerEntryOut]
    next_cursor: str | None


# --- program rules ------------------------------------------------------------------------

Percent = Annotated[int, Field(ge=0, le=100)]
TierName = Annotated[Name, Field(max_length=40)]


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


class ProgramRulesBody(Request):
    name: Name
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    default_region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_region)]
    timezone: Timezone
    points_per_currency_unit: Annotated[int, Field(ge=0, le=1000)] = 1
    redemption: RedemptionBody = RedemptionBody()
    tiers: Annotated[list[TierBody], Field(min_length=1, max_length=10)]
    tier_window_months: Annotated[int, Field(ge=1, le=36)] = 12
    cumulative_discount: CumulativeDiscountBody = CumulativeDiscountBody()
    expiry: ExpiryBody = ExpiryBody()
    tier_review: TierReviewBody = TierReviewBody()
    tier_migrations: Annotated[dict[TierName, TierName], Field(max_length=20)] = Field(
        default={},
        description="For each tier of the current rules that these drop or rename, the kept tier its members"
        ' hold from now on (e.g. {"Gold": "Platinum"}); a save that drops a tier without one is refused.',
    )
    version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version you edited: the save is refused (409) if another came since."
    )


class ProgramRulesOut(Response):
    name: str
    currency: str
    default_region: str
    timezone: str
    points_per_currency_unit: int
    redemption: dict[str, Any]
    tiers: list[dict[str, Any]]
    tier_window_months: int
    cumulative_discount: dict[str, Any]
    expiry: dict[str, Any]
    tier_review: dict[str, Any]
    tier_migrations: dict[str, str] = Field(
        description="Every tier name members may still hold that the tiers no longer have, and the tier it now is."
    )
    version: int


# --- promotions ---------------------------------------------------------------------------

ShortLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NO_CONTROL_CHARS)
]


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
    status: str
    state: Literal["scheduled", "live", "expired", "paused", "ended"]


class PromotionPage(Response):
    items: list[PromotionOut]
    next_cursor: str | None


# --- operations ---------------------------------------------------------------------------


class JobRunRequest(Request):
    at: Moment | None = Field(
        default=None, description="Run as of this moment (default: now); outside the local stage never in the future."
    )


class JobRunResult(Response):
    result: dict[str, Any]


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


# --- places --------------------------------------------------------------------------------


class StoreModel(Response):
    store_id: str
    merchant_id: str
    name: str
    geofence: dict[str, Any]
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


Hex = StringConstraints(pattern=r"^[0-9A-Fa-f]+$")
#: The identities a beacon advertises: iBeacon (uuid, major, minor) and Eddystone-UID.
BeaconUuid = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
]
BeaconNumber = Annotated[int, Field(ge=0, le=65535)]
EddystoneNamespace = Annotated[str, Hex, StringConstraints(min_length=20, max_length=20)]
EddystoneInstance = Annotated[str, Hex, StringConstraints(min_length=12, max_length=12)]


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


# --- system --------------------------------------------------------------------------------


class Health(Response):
    status: Literal["ok"]


class PageQuery(Request):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class ErrorDetail(Response):
    code: str = Field(description="snake_case, stable: clients branch on it.")
    message: str = Field(description="For people; may change.")
    field: str | None = Field(default=None, description="The request field at fault, dotted for nested fields.")


class ErrorBody(Response):
    error: ErrorDetail


class BeaconQuery(PageQuery):
    store_id: Identifier | None = None


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


class BonusPoints(Request):
    type: Literal["bonus_points"]
    points: Annotated[int, Field(ge=1, le=100_000)]


class PercentOff(Request):
    type: Literal["percent_off"]
    percent: Annotated[int, Field(ge=1, le=100)]


class AmountOff(Request):
    type: Literal["amount_off"]
    amount: Annotated[int, Field(ge=1, le=10**7, description="Minor units.")]


class FreeItem(Request):
    type: Literal["free_item"]
    sku: ShortLabel


class Multiplier(Request):
    type: Literal["multiplier"]
    factor: Annotated[float, Field(gt=1, le=10)]


Reward = Annotated[BonusPoints | PercentOff | AmountOff | FreeItem | Multiplier, Field(discriminator="type")]


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
    trigger: dict[str, Any]
    targeting: dict[str, Any]
    reward: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None
    limits: dict[str, Any]
    priority: int
    status: str
    issued: int


class OfferPage(Response):
    items: list[OfferOut]
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


class WalletOfferOut(Response):
    wallet_id: str
    offer_id: str
    title: str
    reward: dict[str, Any]
    store_id: str | None
    issued_at: datetime
    expires_at: datetime
    status: Literal["issued", "redeemed", "expired"]


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


class InboxPage(Response):
    items: list[MessageOut]
    next_cursor: str | None
