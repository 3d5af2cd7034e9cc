"""Campaigns, in a table of their own (they are not cached like the catalog, and their runs are
found by when they are due).

``campaigns`` (hash ``campaign_id``)
    The campaign as one JSON document (``domain.campaigns.Campaign``) and a ``version`` every save
    is conditioned on, so two consoles editing at once, or a launch racing an edit, cannot both win.
    ``by_due`` (hash ``due`` = ``"due"``, range ``next_run_at``; keys-only, sparse: only campaigns with
    a run to come have ``due``): the ``campaigns`` job queries "due at or before now".
    ``by_owner`` (hash ``owner`` = the merchant's id or ``program``, range ``created``): a console's
    list, newest first, by key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import TypeAdapter
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.campaigns import Campaign
from chalicelib.domain.clock import isoformat
from chalicelib.store.base import BaseMeta, condition_failed, table_name

PROGRAM_OWNER = "program"
_adapter = TypeAdapter(Campaign)


class DueIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due = UnicodeAttribute(hash_key=True)
    next_run_at = UnicodeAttribute(range_key=True)


class OwnerIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_owner"
        projection = KeysOnlyProjection()

    owner = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class CampaignModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("campaigns")

    campaign_id = UnicodeAttribute(hash_key=True)
    body = JSONAttribute()
    version = NumberAttribute()
    owner = UnicodeAttribute()
    #: ``<created_at>#<campaign_id>``: newest first in a console's list.
    created = UnicodeAttribute()
    due = UnicodeAttribute(null=True)
    next_run_at = UnicodeAttribute(null=True)
    by_due = DueIndex()
    by_owner = OwnerIndex()


class VersionConflict(Exception):
    """The campaign changed since it was read."""


def get(campaign_id: str) -> tuple[Campaign, int] | None:
    """The campaign and the version it was read at."""
    try:
        item = CampaignModel.get(campaign_id, consistent_read=True)
    except CampaignModel.DoesNotExist:
        return None
    return _adapter.validate_python(item.body), int(item.version)


def save(campaign: Campaign, expected_version: int | None) -> int:
    """Write the campaign as the next version; ``expected_version`` None: a new one. Raises
    ``VersionConflict`` when another write came in between. Returns the version written."""
    version = (expected_version or 0) + 1
    created_at = campaign.created_at or datetime.min
    item = CampaignModel(
        campaign.campaign_id,
        body=_adapter.dump_python(campaign, mode="json"),
        version=version,
        owner=campaign.merchant_id or PROGRAM_OWNER,
        created=f"{isoformat(created_at)}#{campaign.campaign_id}",
        due="due" if campaign.next_run_at is not None else None,
        next_run_at=isoformat(campaign.next_run_at) if campaign.next_run_at is not None else None,
    )
    condition = (
        CampaignModel.campaign_id.does_not_exist()
        if expected_version is None
        else CampaignModel.version == expected_version
    )
    try:
        item.save(condition=condition)
    except PutError as error:
        if condition_failed(error):
            raise VersionConflict(campaign.campaign_id) from error
        raise
    return version


def due_ids(at: datetime) -> list[str]:
    """Campaigns with a run due at or before ``at`` (the sparse ``by_due`` index)."""
    return [item.campaign_id for item in CampaignModel.by_due.query("due", CampaignModel.next_run_at <= isoformat(at))]


def owned_ids(owner: str | None, *, newest_first: bool = True, after: str | None = None) -> Iterator[tuple[str, str]]:
    """(``created`` key, id) of the campaigns of ``owner`` (None: program-wide), newest first."""
    condition = CampaignModel.created < after if after is not None and newest_first else None
    for item in CampaignModel.by_owner.query(
        owner or PROGRAM_OWNER, range_key_condition=condition, scan_index_forward=not newest_first
    ):
        yield item.created, item.campaign_id


def get_many(campaign_ids: list[str]) -> list[Campaign]:
    """BatchGetItem: the campaigns found, in the order asked."""
    found = {item.campaign_id: item for item in CampaignModel.batch_get(campaign_ids)}
    return [_adapter.validate_python(found[c].body) for c in campaign_ids if c in found]
