"""The catalog table: program rules, merchants, stores, beacons and staff (one partition per kind)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter
from pynamodb.attributes import (
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.models import Model

from chalicelib.domain.catalog import Beacon, Merchant, StaffMember, Store
from chalicelib.domain.jobs import JobState
from chalicelib.domain.offers import Offer
from chalicelib.domain.program import ProgramRules
from chalicelib.domain.promotions import Promotion
from chalicelib.errors import Conflict
from chalicelib.store.base import BaseMeta, OwnedWrite, condition_failed, table_name, transaction

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


class SeedItem(CatalogItem, discriminator="seed"):
    """``seed/<name>``: a data set was written in full here (see ``scripts.seed``)."""


_KINDS: dict[type[Any], tuple[str, type[CatalogItem]]] = {
    ProgramRules: ("program", ProgramItem),
    Merchant: ("merchant", MerchantItem),
    Store: ("store", StoreItem),
    Beacon: ("beacon", BeaconItem),
    StaffMember: ("staff", StaffItem),
    Promotion: ("promotion", PromotionItem),
    JobState: ("job", JobStateItem),
    Offer: ("offer", OfferItem),
}

PROGRAM_KEY = "current"


def _key_of(thing: Any) -> str:
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
    if isinstance(thing, Offer):
        return thing.offer_id
    raise TypeError(f"not a catalog type: {type(thing).__name__}")


def _item(thing: Any) -> CatalogItem:
    kind, model = _KINDS[type(thing)]
    return model(kind, _key_of(thing), body=TypeAdapter(type(thing)).dump_python(thing, mode="json"))


def put(thing: Any) -> None:
    _item(thing).save()


def delete(thing: Any) -> None:
    _item(thing).delete()


def put_if_missing(thing: Any) -> bool:
    """Write ``thing`` unless an item with its key exists (demo data never overwrites edits)."""
    try:
        _item(thing).save(condition=CatalogItem.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def save_program(
    rules: ProgramRules, expected_version: int | None, at: datetime, also: Sequence[Any] = ()
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
    try:
        with transaction() as tx:
            tx.save(
                ProgramItem("program", PROGRAM_KEY, body=body, version=saved.version, updated_at=at),
                condition=condition,
            )
            tx.save(ProgramItem("program", f"v{saved.version:06d}", body=body, version=saved.version, updated_at=at))
            for thing in also:
                tx.save(_item(thing))
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
