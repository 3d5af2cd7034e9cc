"""What campaigns changed: purchases attributed to the campaign runs that reached (or held out)
the buyer within their attribution window, from the ledger's stream.

A purchase's ledger entry names the purchase; the buyer's features say which campaign runs reached
them and when (the contact keys ``campaign#<id>#<run>``), the runs' hold-out files beside the
snapshot (``snapshot.held_out``) which they were held out of. For each
run whose window holds the purchase, the run's funnel counts the member once as converted (treated
or hold-out) and the purchase once in the revenue, and a purchase that redeemed the campaign's
offer as a redemption. Markers make a record delivered twice count once. Cost grows with the
purchases of members a campaign touched: a member no campaign reached costs one read of their
features.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog

from chalicelib.domain.campaigns import Campaign
from chalicelib.domain.clock import Clock
from chalicelib.domain.features import Features
from chalicelib.store import campaigns as campaign_store
from chalicelib.store import counters, ledger, snapshot
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

log = structlog.get_logger("loyalty.attribution")

#: Ledger reasons of a purchase (earning, or redeeming points on it).
PURCHASE_REASONS = frozenset({"purchase", "redemption"})


def on_ledger_records(records: Iterable[tuple[str, dict[str, Any] | None]], *, clock: Clock) -> int:
    """Attribute each new purchase in the records; returns how many purchases counted for a run."""
    purchases: dict[str, str] = {}
    for event_name, image in records:
        if event_name != "INSERT" or not image or "purchase_id" not in image:
            continue
        if image.get("reason", {}).get("S") not in PURCHASE_REASONS:
            continue
        purchases.setdefault(image["purchase_id"]["S"], image["customer_id"]["S"])
    now = clock()
    campaigns: dict[str, Campaign | None] = {}
    counted = 0
    buyers: dict[str, str] = {}
    for purchase_id, customer_id in purchases.items():
        found = member_store.find_claim("customer", customer_id)
        if found is not None:  # else the member left
            buyers[purchase_id] = found[0]
    # The hold-out groups of recent runs these buyers were in: one query over their files.
    held: dict[str, list[tuple[str, str, datetime, bool]]] = {}
    for campaign_id, run, at, sub in snapshot.held_out(snapshot.current(), sorted(set(buyers.values()))):
        held.setdefault(sub, []).append((campaign_id, run, at, False))
    for purchase_id, sub in buyers.items():
        runs = _runs(features_store.get_features(sub)) + held.get(sub, [])
        if not runs:
            continue
        recorded = ledger.get_purchase(purchase_id)
        if recorded is None:
            continue
        purchase = recorded[0]
        for campaign_id, run, reached_at, treated in runs:
            if campaign_id not in campaigns:
                got = campaign_store.get(campaign_id)
                campaigns[campaign_id] = got[0] if got else None
            campaign = campaigns[campaign_id]
            if campaign is None:
                continue
            if not reached_at <= purchase.at <= reached_at + timedelta(days=campaign.attribution_days):
                continue
            marker = f"campaign#{campaign_id}#{run}"
            revenue = purchase.amount_due
            if treated:
                counters.tally(campaign_id, run, {"converted": 1}, once=f"{marker}#conv#{sub}", now=now)
                redeemed = campaign.offer_id is not None and campaign.offer_id in purchase.offers_redeemed
                counts = {"revenue_minor": revenue}
                if redeemed:
                    counts |= {"redeemed": 1, "redeemer_revenue_minor": revenue}
                counters.tally(campaign_id, run, counts, once=f"{marker}#rev#{purchase_id}", now=now)
            else:
                counters.tally(campaign_id, run, {"holdout_converted": 1}, once=f"{marker}#conv#{sub}", now=now)
                counters.tally(
                    campaign_id, run, {"holdout_revenue_minor": revenue}, once=f"{marker}#rev#{purchase_id}", now=now
                )
            counted += 1
    if counted:
        log.info("campaign_purchases_attributed", purchases=counted)
    return counted


def _runs(features: Features) -> list[tuple[str, str, datetime, bool]]:
    """(campaign id, run, when it reached the member, treated) of every run that reached them."""
    runs = []
    for key, at in features.keys.items():
        parts = key.split("#", 2)
        if len(parts) == 3 and parts[0] == "campaign":
            runs.append((parts[1], parts[2], at, True))
    return runs
