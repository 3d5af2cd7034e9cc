"""Creating the tables (local stack, tests); on AWS the same definitions come from ``infra/``."""

from __future__ import annotations

from typing import Any

import boto3
from pynamodb.models import Model

from chalicelib.store.base import BaseMeta
from chalicelib.store.catalog import CatalogItem
from chalicelib.store.counters import CounterModel
from chalicelib.store.features import FeaturesModel
from chalicelib.store.ledger import IdempotencyModel, LedgerEntryModel, PurchaseModel
from chalicelib.store.members import ClaimModel, DeviceModel, MemberModel
from chalicelib.store.push import DeadLetterModel
from chalicelib.store.wallet import ActivityModel, CheckinModel, InboxModel, WalletModel

MODELS: tuple[type[Model], ...] = (
    MemberModel,
    ActivityModel,
    ClaimModel,
    DeviceModel,
    CatalogItem,
    LedgerEntryModel,
    PurchaseModel,
    IdempotencyModel,
    CounterModel,
    CheckinModel,
    WalletModel,
    InboxModel,
    FeaturesModel,
    DeadLetterModel,
)


def declared() -> tuple[type[Model], ...]:
    """Every table the store uses (erasure's policies are held to this list)."""
    return MODELS


def create_missing_tables() -> list[str]:
    """Create every table that does not exist yet, and turn on a stream a table was created
    without (data from before the stream was added); returns the names created."""
    created = []
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
        elif getattr(model.Meta, "stream_view_type", None) and not model.describe_table().get("LatestStreamArn"):
            _client().update_table(
                TableName=model.Meta.table_name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": model.Meta.stream_view_type},
            )
    return created


def _client() -> Any:
    return boto3.client("dynamodb", region_name=BaseMeta.region, endpoint_url=BaseMeta.host)


def ping() -> None:
    """One cheap request that fails unless DynamoDB answers."""
    CatalogItem.describe_table()
