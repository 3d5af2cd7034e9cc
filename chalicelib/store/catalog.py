"""The catalog table: program rules, merchants, stores, beacons and staff (one partition per kind).

Every write of a catalog definition bumps ``catalog_version/current`` in the same transaction, so that a
cache of the catalog (``services.catalog_cache``) in any warm Lambda is validated by one small
read. Offer counters (``offer_issued/<id>``), job states and seed markers are not definitions and
leave the version alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from pydantic import TypeAdapter
from pynamodb.attributes import (
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.catalog import Beacon, Merchant, StaffMember, Store
from chalicelib.domain.jobs import JobState
from chalicelib.domain.offers import Offer
from chalicelib.domain.prediction import StoredFit
from chalicelib.domain.program import ProgramRules
from chalicelib.domain.promotions import Promotion
from chalicelib.domain.segments import Segment
from chalicelib.domain.webhooks import Webhook
from chalicelib.errors import Conflict
from chalicelib.store.base import BaseMeta, OwnedWrite, failed_items, table_name, transaction

T = TypeVar("T")


class CatalogItem(Model):
    """Every catalog item is ``pk`` = kind, ``sk`` = id, and its fields as one JSON document.

    The catalog is small and read whole (a kind at a time, cached per warm Lambda), so its
    fields need no attributes of their own; the domain dataclass is the schema.
    """

    class Meta(BaseMeta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    body = JSONAttribute()
    version = NumberAttribute(default=1)
    updated_at = UTCDateTimeAttribute(null=True)
    #: An atomic counter (an offer's issued count lives on ``offer_issued/<offer_id>``, an item
    #: no save of the offer itself overwrites).
    counter = NumberAttribute(default=0)


class ProgramItem(CatalogItem, discriminator="program"):
    pass


class MerchantItem(CatalogItem, discriminator="merchant"):
    pass


class StoreItem(CatalogItem, discriminator="store"):
    pass


class BeaconItem(CatalogItem, discriminator="beacon"):
    pass


class StaffItem(CatalogItem, discriminator="staff"):
    pass


class PromotionItem(CatalogItem, discriminator="promotion"):
    pass


class JobStateItem(CatalogItem, discriminator="job"):
    pass


class OfferItem(CatalogItem, discriminator="offer"):
    pass


class OfferIssuedItem(CatalogItem, discriminator="offer_issued"):
    pass


class SegmentItem(CatalogItem, discriminator="segment"):
    pass


class WebhookItem(CatalogItem, discriminator="webhook"):
    pass


class FitItem(CatalogItem, discriminator="predictor_fit"):
    """``predictor_fit/<version>`` and ``predictor_fit/current``: the anticipation model's fits."""


class SeedItem(CatalogItem, discriminator="seed"):
    """``seed/<name>``: a data set was written in full here (see ``scripts.seed``)."""


class CatalogVersionItem(CatalogItem, discriminator="catalog_version"):
    """``catalog_version/current``: ``counter`` goes up with every write of a definition; ``generation``
    is drawn once when the item is first written, so a table created again (a wiped local stack,
    a fresh test database) never repeats a version an older cache holds."""

    generation = UnicodeAttribute(null=True)


#: Everything the catalog table holds.
CatalogThing = (
    ProgramRules
    | Merchant
    | Store
    | Beacon
    | StaffMember
    | Promotion
    | JobState
    | Offer
    | Segment
    | Webhook
    | StoredFit
)

_KINDS: dict[type, tuple[str, type[CatalogItem]]] = {
    ProgramRules: ("program", ProgramItem),
    Merchant: ("merchant", MerchantItem),
    Store: ("store", StoreItem),
    Beacon: ("beacon", BeaconItem),
    StaffMember: ("staff", StaffItem),
    Promotion: ("promotion", PromotionItem),
    JobState: ("job", JobStateItem),
    Offer: ("offer", OfferItem),
    Segment: ("segment", SegmentItem),
    Webhook: ("webhook", WebhookItem),
    StoredFit: ("predictor_fit", FitItem),
}

PROGRAM_KEY = "current"
VERSION_KEY = ("catalog_version", "current")
#: Kinds whose writes leave the version alone: nothing caches them.
_UNVERSIONED: frozenset[type] = frozenset({JobState, Segment, Webhook, StoredFit})
#: Writes of definitions this process made (a cache validated earlier in the same request
#: looks again after one of them).
_local_writes = itertools.count(1)
_local_writes_seen = 0


@dataclasses.dataclass(frozen=True)
class CatalogVersion:
    generation: str
    counter: int


def catalog_version() -> CatalogVersion | None:
    """The version every cache of the catalog is validated by (None before the first write):
    one strongly consistent GetItem of a small item."""
    try:
        item = CatalogVersionItem.get(*VERSION_KEY, consistent_read=True)
    except CatalogVersionItem.DoesNotExist:
        return None
    return CatalogVersion(item.generation or "", int(item.counter))


def bump_version(tx: TransactWrite) -> None:
    """In ``tx``: the catalog changed (the write of a definition rides in the same transaction)."""
    global _local_writes_seen
    tx.update(
        CatalogVersionItem(*VERSION_KEY),
        actions=[
            CatalogVersionItem.counter.add(1),
            CatalogVersionItem.generation.set(CatalogVersionItem.generation | secrets.token_hex(8)),
            CatalogVersionItem.body.set({}),
            CatalogVersionItem.kind.set(CatalogVersionItem),
        ],
    )
    _local_writes_seen = next(_local_writes)


def local_writes() -> int:
    """How many definition writes this process has sent (see ``_local_writes``)."""
    return _local_writes_seen


#: Every definition write touches ``catalog_version/current``, and DynamoDB cancels (never queues) a
#: transaction that meets another one on an item: two admins saving at once must both succeed.
VERSION_RACE_ATTEMPTS = 4


def _versioned(write: Callable[[TransactWrite], None]) -> None:
    """``write``'s items and the version's bump in one transaction, tried again when it only
    lost a race with another catalog write (each write here is whole, so a retry is safe)."""
    for attempt in range(1, VERSION_RACE_ATTEMPTS + 1):
        try:
            with transaction() as tx:
                write(tx)
                bump_version(tx)
            return
        except TransactWriteError as error:
            raced = any(r is not None and r.code == "TransactionConflict" for r in error.cancellation_reasons)
            if not raced or attempt == VERSION_RACE_ATTEMPTS:
                raise


def _key_of(thing: CatalogThing) -> str:
    if isinstance(thing, ProgramRules):
        return PROGRAM_KEY
    if isinstance(thing, Merchant):
        return thing.merchant_id
    if isinstance(thing, Store):
        return thing.store_id
    if isinstance(thing, Beacon):
        return thing.identity
    if isinstance(thing, StaffMember):
        return thing.sub
    if isinstance(thing, Promotion):
        return thing.promotion_id
    if isinstance(thing, JobState):
        return thing.name
    if isinstance(thing, Segment):
        return thing.segment_id
    if isinstance(thing, Webhook):
        return thing.webhook_id
    if isinstance(thing, StoredFit):
        return thing.key
    return thing.offer_id


def _item(thing: CatalogThing) -> CatalogItem:
    kind, model = _KINDS[type(thing)]
    return model(kind, _key_of(thing), body=TypeAdapter(type(thing)).dump_python(thing, mode="json"))


def put(thing: CatalogThing) -> None:
    if type(thing) in _UNVERSIONED:
        _item(thing).save()
        return
    _versioned(lambda tx: tx.save(_item(thing)))


def delete(thing: CatalogThing) -> None:
    _versioned(lambda tx: tx.delete(_item(thing)))


def put_if_missing(thing: CatalogThing) -> bool:
    """Write ``thing`` unless an item with its key exists (demo data never overwrites edits)."""
    try:
        _versioned(lambda tx: tx.save(_item(thing), condition=CatalogItem.pk.does_not_exist()))
    except TransactWriteError as error:
        # Only the item's own write has a condition: a cancellation for it means it exists.
        if failed_items(error):
            return False
        raise
    return True


def save_program(
    rules: ProgramRules, expected_version: int | None, at: datetime, also: Sequence[CatalogThing] = ()
) -> ProgramRules:
    """Save ``rules`` as the next version, keeping every earlier version as ``program/v<n>``,
    and ``also`` (catalog things the new rules change, such as offers retargeted to a renamed
    tier) in the same transaction.

    ``expected_version`` None saves over whatever is current; otherwise the save is refused with
    ``Conflict(version_conflict)`` when another version came in between.
    """
    current = program_rules()
    if expected_version is not None and (current is None or current.version != expected_version):
        raise Conflict("the program rules changed since you read them; reload and retry", code="version_conflict")
    base = current.version if current is not None else 0
    saved = dataclasses.replace(rules, version=base + 1)
    body = TypeAdapter(ProgramRules).dump_python(saved, mode="json")
    condition = ProgramItem.version == base if current is not None else ProgramItem.pk.does_not_exist()

    def write(tx: TransactWrite) -> None:
        tx.save(
            ProgramItem("program", PROGRAM_KEY, body=body, version=saved.version, updated_at=at), condition=condition
        )
        tx.save(ProgramItem("program", f"v{saved.version:06d}", body=body, version=saved.version, updated_at=at))
        for thing in also:
            tx.save(_item(thing))

    try:
        _versioned(write)
    except TransactWriteError as error:
        raise Conflict("the program rules changed meanwhile; reload and retry", code="version_conflict") from error
    return saved


def get(cls: type[T], key: str) -> T | None:
    kind, model = _KINDS[cls]
    try:
        item = model.get(kind, key)
    except model.DoesNotExist:
        return None
    return TypeAdapter(cls).validate_python(item.body)


def list_all(cls: type[T]) -> list[T]:
    """Every item of a kind: one Query on its partition (paged by PynamoDB), never a scan."""
    kind, model = _KINDS[cls]
    adapter = TypeAdapter(cls)
    return [adapter.validate_python(item.body) for item in model.query(kind)]


def program_history() -> list[ProgramRules]:
    """Every saved version of the rules, oldest first."""
    adapter = TypeAdapter(ProgramRules)
    return [adapter.validate_python(item.body) for item in ProgramItem.query("program", ProgramItem.sk.startswith("v"))]


def program_rules() -> ProgramRules | None:
    return get(ProgramRules, PROGRAM_KEY)


def offers_with_counts() -> list[Offer]:
    """Every offer with its issued count (two Queries: the offers and their counters)."""
    counts = issued_counts()
    return [dataclasses.replace(o, issued=counts.get(o.offer_id, 0)) for o in list_all(Offer)]


def issued_counts() -> dict[str, int]:
    """offer_id -> how many have been issued (offers never issued are absent)."""
    return {item.sk: int(item.counter) for item in OfferIssuedItem.query("offer_issued")}


def with_issued_count(offer: Offer) -> Offer:
    """The offer with its counter's value: the ``issued`` saved in the offer's own body is never
    the truth (the counter lives on an item of its own, so saving the offer cannot overwrite it)."""
    try:
        counter = OfferIssuedItem.get("offer_issued", offer.offer_id, consistent_read=True)
    except OfferIssuedItem.DoesNotExist:
        return dataclasses.replace(offer, issued=0)
    return dataclasses.replace(offer, issued=int(counter.counter))


def count_issue(tx: OwnedWrite, offer: Offer, owner: object = None) -> None:
    """In ``tx``: one more issued, refused (the transaction cancelled) if the budget is spent."""
    item = OfferIssuedItem("offer_issued", offer.offer_id)
    budget = offer.limits.budget
    condition = (OfferIssuedItem.counter.does_not_exist() | (OfferIssuedItem.counter < budget)) if budget else None
    tx.update(
        item,
        actions=[
            OfferIssuedItem.counter.add(1),
            OfferIssuedItem.body.set({}),
            OfferIssuedItem.kind.set(OfferIssuedItem),
        ],
        condition=condition,
        owner=owner,
    )


def seed_state(name: str) -> tuple[str, datetime | None] | None:
    """``(state, when)`` of the data set ``name`` in this database (``started``, ``done``), or None."""
    try:
        item = SeedItem.get("seed", name, consistent_read=True)
    except SeedItem.DoesNotExist:
        return None
    return str(item.body.get("state", "")), item.updated_at


def mark_seed(name: str, state: str, at: datetime) -> None:
    SeedItem("seed", name, body={"state": state}, updated_at=at).save()


class StoredCatalog:
    """The catalog as ``services.catalog_cache`` reads it (its ``CatalogSource``), from this table."""

    def version(self) -> CatalogVersion | None:
        return catalog_version()

    def local_writes(self) -> int:
        return local_writes()

    def program(self) -> ProgramRules | None:
        return program_rules()

    def stores(self) -> list[Store]:
        return list_all(Store)

    def beacons(self) -> list[Beacon]:
        return list_all(Beacon)

    def offers(self) -> list[Offer]:
        return list_all(Offer)

    def issued_counts(self) -> dict[str, int]:
        return issued_counts()

    def promotions(self) -> list[Promotion]:
        return list_all(Promotion)
