"""The catalog table: program rules, merchants, stores, beacons and staff (one partition per kind)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import TypeAdapter
from pynamodb.attributes import (
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.domain.catalog import Beacon, Merchant, StaffMember, Store
from chalicelib.domain.program import ProgramRules
from chalicelib.store.base import BaseMeta, table_name

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


_KINDS: dict[type[Any], tuple[str, type[CatalogItem]]] = {
    ProgramRules: ("program", ProgramItem),
    Merchant: ("merchant", MerchantItem),
    Store: ("store", StoreItem),
    Beacon: ("beacon", BeaconItem),
    StaffMember: ("staff", StaffItem),
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
    raise TypeError(f"not a catalog type: {type(thing).__name__}")


def put(thing: Any) -> None:
    kind, model = _KINDS[type(thing)]
    model(kind, _key_of(thing), body=TypeAdapter(type(thing)).dump_python(thing, mode="json")).save()


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


def program_rules() -> ProgramRules | None:
    return get(ProgramRules, PROGRAM_KEY)


def as_dict(thing: Any) -> dict[str, Any]:
    return dataclasses.asdict(thing)
