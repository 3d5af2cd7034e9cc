"""Creating the tables (local stack, tests); on AWS the same definitions come from ``infra/``."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.store.catalog import CatalogItem
from chalicelib.store.ledger import IdempotencyModel, LedgerEntryModel, PurchaseModel
from chalicelib.store.members import ClaimModel, DeviceModel, MemberModel

MODELS: tuple[type[Model], ...] = (
    MemberModel,
    ClaimModel,
    DeviceModel,
    CatalogItem,
    LedgerEntryModel,
    PurchaseModel,
    IdempotencyModel,
)


def create_missing_tables() -> list[str]:
    """Create every table that does not exist yet; returns the names created."""
    created = []
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created


def ping() -> None:
    """One cheap request that fails unless DynamoDB answers."""
    CatalogItem.describe_table()
