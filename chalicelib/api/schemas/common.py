"""What every audience's models share: the Request and Response bases, the validated text, moment and
day types, pages, the error body, and the shapes more than one audience sees (an offer's reward, a
wallet entry)."""

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
)

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
#: An inbox message's id (``store/issued.message_id``; ``#`` in ids from before ``-``).
MESSAGE_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z[-#][0-9a-f]{8}$"
MessageId = Annotated[str, StringConstraints(min_length=32, max_length=32, pattern=MESSAGE_ID_PATTERN)]
#: A dead letter's id (``store/push.add_dead_letter``).
DEAD_LETTER_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{8}$"
DeadLetterId = Annotated[str, StringConstraints(min_length=32, max_length=32, pattern=DEAD_LETTER_ID_PATTERN)]
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
    # defer_build: each model's validator is built on its first use, not at import (the API's
    # cold start would otherwise build every route's models for the one request it serves). A
    # model's default instance is therefore ``Model.model_construct()``, which needs no validator.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    model_config = ConfigDict(frozen=True, defer_build=True)


def not_nullable(schema: dict[str, Any]) -> None:
    """The document of a field that may be left out but not sent as null (``X | None = None``
    whose validator refuses None): only X. A ``SkipJsonSchema[None]`` union would say the same
    but put the union's member names into the error's field."""
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])


Percent = Annotated[int, Field(ge=0, le=100)]
TierName = Annotated[Name, Field(max_length=40)]

ShortLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NO_CONTROL_CHARS)
]


Hex = StringConstraints(pattern=r"^[0-9A-Fa-f]+$")
#: The identities a beacon advertises: iBeacon (uuid, major, minor) and Eddystone-UID.
BeaconUuid = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
]
BeaconNumber = Annotated[int, Field(ge=0, le=65535)]
EddystoneNamespace = Annotated[str, Hex, StringConstraints(min_length=20, max_length=20)]
EddystoneInstance = Annotated[str, Hex, StringConstraints(min_length=12, max_length=12)]

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


class WalletOfferOut(Response):
    wallet_id: str
    offer_id: str
    title: str
    reward: Reward
    store_id: str | None
    issued_at: datetime
    expires_at: datetime
    status: Literal["issued", "redeemed", "expired"]


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
    offers_issued: list[WalletOfferOut] = Field(
        default=[], description="Offers this purchase earned (into the wallet)."
    )
    offer_discount: int = Field(default=0, description="The part of discount the redeemed offers gave.")
    points_debt_repaid: int = Field(description="Points of this purchase that paid off a refund's debt.")
    points_balance: int
    tier: str
    tier_upgraded: bool


class PublicTierOut(Response):
    name: str
    min_spend_minor: int
    min_visits: int
    earn_multiplier_percent: int
    perks: list[str]


class PublicLadderOut(Response):
    enabled: bool
    base_percent: int
    step_percent: int
    max_percent: int
    stacks_with_sale_items: bool


class PublicExpiryOut(Response):
    mode: Literal["fifo", "inactivity"]
    months: int | None


class PublicProgramOut(Response):
    """The program's rules as members read them."""

    name: str
    currency: str
    points_per_currency_unit: int
    point_value_minor: int
    min_points_to_spend: int
    max_share_percent: int
    tiers: list[PublicTierOut]
    tier_window_months: int
    discount_ladder: PublicLadderOut
    points_expire: PublicExpiryOut
    birthday_bonus_points: int
    in_plain_terms: list[str] = Field(description="The same in sentences, as the app shows them.")


# --- feedback and amends (the customer's, the till's, the team's and the admin's views) -------


class FeedbackOut(Response):
    feedback_id: str
    customer_id: str
    kind: Literal["review", "survey", "complaint"]
    rating: int
    text: str | None
    store_id: str | None
    purchase_id: str | None
    merchant_id: str | None
    answers: dict[str, str | int | bool]
    status: Literal["open", "received", "closed"] = Field(
        description="open: the team owes an answer (a complaint, or a rating of 2 or less)."
    )
    at: datetime
    reply: str | None
    replied_at: datetime | None
    bonus_points: int


class CompensationOut(Response):
    compensation_id: str
    customer_id: str
    points: int
    reason: str
    feedback_id: str | None
    status: Literal["granted", "pending", "rejected"] = Field(
        description="granted at once within the cashier's limits; pending an admin's approval above them."
    )
    requested_by: str
    requested_at: datetime
    merchant_id: str | None
    store_id: str | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None = Field(description="over_grant_limit / over_daily_limit while pending; a rejection's note.")
