"""Report counters, kept as ledger entries are written (from the ledger's stream).

``counters`` (hash ``pk``, range ``sk``, TTL ``expires_at`` on markers)
    ``merchant#<id>`` / ``<YYYY-MM-DD>``: points issued by the merchant and redeemed at its
    stores that day (program time zone). ``seen#<customer_id>#<entry_id>`` / ``-``: a marker
    written in the same transaction as the counter update, so a stream record delivered twice
    counts once. Reports query a merchant's days by key, never the ledger.
    ``budget#<name>`` / ``<YYYY-MM>``: points a monthly reward budget (the surprises') has given.
    ``campaign#<id>`` / ``run#<run>``: a campaign run's funnel (``CampaignTallyModel``), with markers
    ``seen#campaign...`` that make each queue message, conversion and purchase count once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.store.base import BaseMeta, condition_failed, table_name, transaction

#: Stream records live 24 hours; a marker outlives any redelivery.
MARKER_TTL = timedelta(days=3)
#: A month's budget counter is kept a year after it was last touched, for the reports.
BUDGET_TTL = timedelta(days=400)
#: A campaign's markers (a member converted, a purchase counted) outlive its attribution window.
CAMPAIGN_MARKER_TTL = timedelta(days=120)


class CounterModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("counters")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    points_issued = NumberAttribute(default=0)
    points_redeemed = NumberAttribute(default=0)
    entries = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


@dataclass(frozen=True)
class EntryEvent:
    customer_id: str
    entry_id: str
    at: datetime
    merchant_id: str | None
    settle_issued: int
    settle_redeemed: int


def event_from_image(image: dict[str, Any]) -> EntryEvent:
    """A ledger entry from a stream record's ``NewImage`` (DynamoDB's typed JSON)."""
    from chalicelib.store.ledger import LedgerEntryModel  # the ledger's module reaches this one through members

    item = LedgerEntryModel.from_raw_data(image)
    return EntryEvent(
        customer_id=item.customer_id,
        entry_id=item.entry_id,
        at=item.at,
        merchant_id=item.merchant_id,
        settle_issued=int(item.settle_issued or 0),
        settle_redeemed=int(item.settle_redeemed or 0),
    )


def count(event: EntryEvent, day: str, now: datetime) -> bool:
    """Add the entry to its merchant's day, once; False if it was counted before."""
    if event.merchant_id is None or not (event.settle_issued or event.settle_redeemed):
        return False
    try:
        with transaction() as tx:
            tx.save(
                CounterModel(f"seen#{event.customer_id}#{event.entry_id}", "-", expires_at=now + MARKER_TTL),
                condition=CounterModel.pk.does_not_exist(),
            )
            tx.update(
                CounterModel(f"merchant#{event.merchant_id}", day),
                actions=[
                    CounterModel.points_issued.add(event.settle_issued),
                    CounterModel.points_redeemed.add(event.settle_redeemed),
                    CounterModel.entries.add(1),
                ],
            )
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            return False
        raise
    return True


def merchant_totals(merchant_id: str, first_day: str, last_day: str) -> tuple[int, int]:
    """(points issued, points redeemed) of a merchant over the days, from its counters."""
    issued = redeemed = 0
    for item in CounterModel.query(f"merchant#{merchant_id}", CounterModel.sk.between(first_day, last_day)):
        issued += int(item.points_issued)
        redeemed += int(item.points_redeemed)
    return issued, redeemed


def reserve_budget(name: str, month: str, points: int, ceiling: int, now: datetime) -> bool:
    """Take ``points`` from a monthly budget (``budget#<name>`` / ``<YYYY-MM>``, counted in
    ``points_issued``) only if it stays within ``ceiling``: one conditional update, so racing
    consumers can never overspend it together. False: the month's budget cannot cover it."""
    if points > ceiling:
        return False
    try:
        CounterModel(f"budget#{name}", month).update(
            actions=[CounterModel.points_issued.add(points), CounterModel.expires_at.set(now + BUDGET_TTL)],
            condition=CounterModel.points_issued.does_not_exist() | (CounterModel.points_issued <= ceiling - points),
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def release_budget(name: str, month: str, points: int) -> None:
    """Give back a reservation the reward it was for did not use (its message was refused)."""
    CounterModel(f"budget#{name}", month).update(actions=[CounterModel.points_issued.add(-points)])


def budget_spent(name: str, month: str) -> int:
    try:
        return int(CounterModel.get(f"budget#{name}", month, consistent_read=True).points_issued or 0)
    except CounterModel.DoesNotExist:
        return 0


#: What a campaign's run counts (``campaign#<id>`` / ``run#<run>``), each added to as it happens.
CAMPAIGN_TALLIES = (
    # At the run's start, from the snapshot: who the audience was and who was set aside.
    "audience",
    "holdout",
    "no_consent",
    "enqueued",
    # As the contacts consumer decides: sent, with the push held for quiet hours, or held back.
    "sent",
    "quiet_hours",
    "frequency_cap",
    "no_marketing_consent",
    "already_contacted",
    "offer_unavailable",
    "not_a_member",
    "other",
    # Later: the app reports opens; purchases in the attribution window (from the ledger's stream).
    "opened",
    "converted",
    "revenue_minor",
    "redeemed",
    "redeemer_revenue_minor",
    "holdout_converted",
    "holdout_revenue_minor",
)


class CampaignTallyModel(Model):
    """A campaign run's funnel, on the counters table (its own attributes, its own key prefix)."""

    class Meta(BaseMeta):
        table_name = table_name("counters")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    audience = NumberAttribute(null=True)
    holdout = NumberAttribute(null=True)
    no_consent = NumberAttribute(null=True)
    enqueued = NumberAttribute(null=True)
    sent = NumberAttribute(null=True)
    quiet_hours = NumberAttribute(null=True)
    frequency_cap = NumberAttribute(null=True)
    no_marketing_consent = NumberAttribute(null=True)
    already_contacted = NumberAttribute(null=True)
    offer_unavailable = NumberAttribute(null=True)
    not_a_member = NumberAttribute(null=True)
    other = NumberAttribute(null=True)
    opened = NumberAttribute(null=True)
    converted = NumberAttribute(null=True)
    revenue_minor = NumberAttribute(null=True)
    redeemed = NumberAttribute(null=True)
    redeemer_revenue_minor = NumberAttribute(null=True)
    holdout_converted = NumberAttribute(null=True)
    holdout_revenue_minor = NumberAttribute(null=True)


def tally(campaign_id: str, run: str, counts: dict[str, int], once: str | None, now: datetime) -> bool:
    """Add ``counts`` to the run's funnel; with ``once``, only if nothing was added under that
    marker before (a queue message or stream record delivered twice counts once). False: it had."""
    unknown = set(counts) - set(CAMPAIGN_TALLIES)
    if unknown:
        raise ValueError(f"not a campaign tally: {sorted(unknown)}")
    actions = [getattr(CampaignTallyModel, name).add(value) for name, value in sorted(counts.items()) if value]
    if not actions:
        return True
    item = CampaignTallyModel(f"campaign#{campaign_id}", f"run#{run}")
    if once is None:
        item.update(actions=actions)
        return True
    return updated_once(f"seen#{once}", [(item, actions)], now + CAMPAIGN_MARKER_TTL)


def updated_once(marker: str, updates: list[tuple[Model, list[Action]]], marker_expires: datetime) -> bool:
    """The updates in one transaction with a ``marker`` item that must not exist yet: a stream
    record or queue message delivered twice is counted once. False: it was counted before."""
    try:
        with transaction() as tx:
            tx.save(CounterModel(marker, "-", expires_at=marker_expires), condition=CounterModel.pk.does_not_exist())
            for item, actions in updates:
                tx.update(item, actions=actions)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            return False
        raise
    return True


def campaign_tallies(campaign_id: str) -> dict[str, dict[str, int]]:
    """Run -> its funnel, every run of the campaign (one Query)."""
    return {
        item.sk.removeprefix("run#"): {name: int(getattr(item, name) or 0) for name in CAMPAIGN_TALLIES}
        for item in CampaignTallyModel.query(f"campaign#{campaign_id}", CampaignTallyModel.sk.startswith("run#"))
    }
