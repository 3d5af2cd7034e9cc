"""Creating the tables (local stack, tests); on AWS the same definitions come from ``infra/``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from pynamodb.models import Model

from chalicelib.domain.program import ContactPolicy
from chalicelib.store.base import BaseMeta
from chalicelib.store.campaigns import CampaignModel
from chalicelib.store.catalog import CatalogItem
from chalicelib.store.compensations import CompensationModel
from chalicelib.store.counters import CounterModel
from chalicelib.store.features import FeaturesModel, backfill_touch_due
from chalicelib.store.feedback import FeedbackModel
from chalicelib.store.ledger import IdempotencyModel, LedgerEntryModel, PurchaseModel
from chalicelib.store.members import ClaimModel, DeviceModel, MemberModel, backfill_birthday_index
from chalicelib.store.push import DeadLetterModel
from chalicelib.store.referrals import ReferralModel
from chalicelib.store.wallet import ActivityModel, CheckinModel, InboxModel, WalletModel
from chalicelib.store.webhooks import DeliveryModel

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
    CampaignModel,
    ReferralModel,
    FeedbackModel,
    CompensationModel,
    DeliveryModel,
)


def declared() -> tuple[type[Model], ...]:
    """Every table the store uses (erasure's policies are held to this list)."""
    return MODELS


#: What fills an index added to a table that already had items: run once when the index is added.
BACKFILLS: dict[str, Callable[[], int]] = {
    "by_birthday": backfill_birthday_index,
    # Members from before the monthly minimum are first due it a default silence after the migration.
    "by_touch_due": lambda: backfill_touch_due(
        (datetime.now(UTC) + timedelta(days=ContactPolicy().keep_in_touch_after_days)).date(), datetime.now(UTC)
    ),
}


def create_missing_tables() -> list[str]:
    """Create every table that does not exist yet, and bring an existing one up to its model: turn
    on a stream it was created without, add an index it lacks (and fill it for the items written
    before, see :data:`BACKFILLS`); returns the names created."""
    created = []
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
            continue
        described = model.describe_table()
        if getattr(model.Meta, "stream_view_type", None) and not described.get("LatestStreamArn"):
            _client().update_table(
                TableName=model.Meta.table_name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": model.Meta.stream_view_type},
            )
        for index in _missing_indexes(model, described):
            _add_index(model, index)
            backfill = BACKFILLS.get(index["index_name"])
            if backfill is not None:
                backfill()
    return created


def _missing_indexes(model: type[Model], described: dict[str, Any]) -> list[dict[str, Any]]:
    have = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
    wanted = model._get_schema().get("global_secondary_indexes", [])
    return [dict(index) for index in wanted if index["index_name"] not in have]


def _add_index(model: type[Model], index: dict[str, Any]) -> None:
    client = _client()
    client.update_table(
        TableName=model.Meta.table_name,
        AttributeDefinitions=index["attribute_definitions"],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": index["index_name"],
                    "KeySchema": index["key_schema"],
                    "Projection": index["projection"],
                }
            }
        ],
    )
    for _ in range(600):  # an index on a large table takes a while on AWS; locally a moment
        indexes = client.describe_table(TableName=model.Meta.table_name)["Table"].get("GlobalSecondaryIndexes", [])
        if all(i.get("IndexStatus") == "ACTIVE" for i in indexes if i["IndexName"] == index["index_name"]):
            return
        time.sleep(0.5)
    raise RuntimeError(f"index {index['index_name']} of {model.Meta.table_name} did not become active")


def _client() -> Any:
    return boto3.client("dynamodb", region_name=BaseMeta.region, endpoint_url=BaseMeta.host)


def ping() -> None:
    """One cheap request that fails unless DynamoDB answers."""
    CatalogItem.describe_table()
