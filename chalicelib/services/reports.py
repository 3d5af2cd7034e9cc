"""Reports from counters kept as events happen: the ledger's stream feeds them, reports read them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, TypedDict

import structlog

from chalicelib.domain.campaigns import Campaign
from chalicelib.domain.catalog import Merchant
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.settlement import MerchantPeriod, settle
from chalicelib.errors import InvalidField
from chalicelib.services import cursors, policy, program
from chalicelib.store import audience, catalog, counters, snapshot
from chalicelib.store import members as member_store

MAX_PERIOD_DAYS = 366
log = structlog.get_logger("loyalty.reports")


def on_ledger_records(records: Iterable[tuple[str, dict[str, Any] | None]], *, clock: Clock) -> int:
    """Count new ledger entries ((event name, new image) pairs from the stream); returns how many
    were counted now (a redelivered record counts once)."""
    rules = program.rules()
    counted = 0
    now = clock()
    for event_name, image in records:
        if event_name != "INSERT" or not image:
            continue
        event = counters.event_from_image(image)
        day = program.local_time(rules, event.at).date().isoformat()
        counted += counters.count(event, day, now)
    if counted:
        log.info("ledger_counted", entries=counted)
    return counted


class MerchantSettlementView(TypedDict):
    merchant_id: str
    points_issued: int
    points_redeemed: int
    redeemed_value_minor: int
    cost_share_minor: int
    net_minor: int
    name: str


class TransferView(TypedDict):
    from_merchant: str
    to_merchant: str
    amount_minor: int


#: ``from`` is a keyword: the functional form names it.
SettlementView = TypedDict(
    "SettlementView",
    {
        "from": str,
        "to": str,
        "currency": str,
        "point_value_minor": int,
        "rule": str,
        "merchants": list[MerchantSettlementView],
        "transfers": list[TransferView],
    },
)


def settlement(first: date, last: date) -> SettlementView:
    if last < first:
        raise InvalidField("to", "must not be before from", code="invalid_period")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidField("to", f"a period is at most {MAX_PERIOD_DAYS} days", code="period_too_long")
    rules = program.rules()
    merchants = sorted(catalog.list_all(Merchant), key=lambda m: m.merchant_id)
    periods = [
        MerchantPeriod(m.merchant_id, *counters.merchant_totals(m.merchant_id, first.isoformat(), last.isoformat()))
        for m in merchants
    ]
    result, transfers = settle(periods, rules.redemption.point_value_minor)
    names = {m.merchant_id: m.name for m in merchants}
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "currency": rules.currency,
        "point_value_minor": rules.redemption.point_value_minor,
        "rule": "the value of points redeemed in the period is shared by the partners in proportion "
        "to the points each issued in it",
        "merchants": [
            {
                "merchant_id": s.merchant_id,
                "points_issued": s.points_issued,
                "points_redeemed": s.points_redeemed,
                "redeemed_value_minor": s.redeemed_value_minor,
                "cost_share_minor": s.cost_share_minor,
                "net_minor": s.net_minor,
                "name": names[s.merchant_id],
            }
            for s in result
        ],
        "transfers": [
            {"from_merchant": t.from_merchant, "to_merchant": t.to_merchant, "amount_minor": t.amount_minor}
            for t in transfers
        ],
    }


class GroupView(TypedDict):
    members: int
    converted: int
    conversion_rate: float | None
    revenue_minor: int


class CampaignReportView(TypedDict):
    campaign_id: str
    name: str
    status: str
    runs: list[str]
    attribution_days: int
    audience: int
    sent: int
    held_back: dict[str, int]
    push_held_for_quiet_hours: int
    opened: int
    open_rate: float | None
    offers_redeemed: int
    redeemer_revenue_minor: int
    treated: GroupView
    holdout: GroupView
    lift: float | None
    relative_lift: float | None


#: The funnel's held-back reasons as the report names them.
HELD_BACK = {
    "no_consent": "no_consent",
    "no_marketing_consent": "no_consent",
    "frequency_cap": "frequency_cap",
    "already_contacted": "already_contacted",
    "offer_unavailable": "offer_unavailable",
    "not_a_member": "left_the_program",
    "other": "other",
}


def campaign(campaign: Campaign) -> CampaignReportView:
    """A campaign's funnel over all its runs: audience -> sent -> held back (by reason) -> opened
    -> offers redeemed -> revenue, and the treated group's conversion against the hold-out's."""
    runs = counters.campaign_tallies(campaign.campaign_id)
    total = {name: sum(run[name] for run in runs.values()) for name in counters.CAMPAIGN_TALLIES}
    held: dict[str, int] = {}
    for tally, reason in HELD_BACK.items():
        if total[tally]:
            held[reason] = held.get(reason, 0) + total[tally]
    treated = _group(total["sent"], total["converted"], total["revenue_minor"])
    holdout = _group(total["holdout"], total["holdout_converted"], total["holdout_revenue_minor"])
    lift = relative = None
    if treated["conversion_rate"] is not None and holdout["conversion_rate"] is not None:
        lift = round(treated["conversion_rate"] - holdout["conversion_rate"], 4)
        if holdout["conversion_rate"] > 0:
            relative = round(treated["conversion_rate"] / holdout["conversion_rate"] - 1, 4)
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "status": campaign.status,
        "runs": list(campaign.runs),
        "attribution_days": campaign.attribution_days,
        "audience": total["audience"],
        "sent": total["sent"],
        "held_back": held,
        "push_held_for_quiet_hours": total["quiet_hours"],
        "opened": total["opened"],
        "open_rate": round(total["opened"] / total["sent"], 4) if total["sent"] else None,
        "offers_redeemed": total["redeemed"],
        "redeemer_revenue_minor": total["redeemer_revenue_minor"],
        "treated": treated,
        "holdout": holdout,
        "lift": lift,
        "relative_lift": relative,
    }


def _group(members: int, converted: int, revenue: int) -> GroupView:
    return {
        "members": members,
        "converted": converted,
        "conversion_rate": round(converted / members, 4) if members else None,
        "revenue_minor": revenue,
    }


class ReferrerView(TypedDict):
    rank: int
    customer_id: str
    name: str | None
    tier: str | None
    friends: int
    friends_who_bought: int
    friends_spend_minor: int


class ReferralReportView(TypedDict):
    referrers: int
    friends: int
    friends_who_bought: int
    friends_spend_minor: int
    currency: str
    as_of: str | None
    items: list[ReferrerView]
    next_cursor: str | None


def referrals(identity: Identity, limit: int, cursor: str | None) -> ReferralReportView:
    """Who brings the most: per referrer the friends who came, how many bought and what they spent,
    ranked by that spend; the program's totals. From the members' snapshot (as of its last write)."""
    policy.acting_for(identity)
    offset = int(cursors.position(identity, "referral_report", cursor) or 0)
    shot = snapshot.current()
    totals, rows = audience.referrers(shot, limit + 1, offset)
    page = rows[:limit]
    names = {m.sub: m.name for m in member_store.get_members([r.sub for r in page if r.sub])}
    written = shot.last_written()
    return {
        "referrers": totals.referrers,
        "friends": totals.friends,
        "friends_who_bought": totals.friends_who_bought,
        "friends_spend_minor": totals.friends_spend_minor,
        "currency": program.rules().currency,
        "as_of": isoformat(written) if written else None,
        "items": [
            {
                "rank": offset + n + 1,
                "customer_id": r.customer_id,
                "name": names.get(r.sub) if r.sub else None,
                "tier": r.tier,
                "friends": r.friends,
                "friends_who_bought": r.friends_who_bought,
                "friends_spend_minor": r.friends_spend_minor,
            }
            for n, r in enumerate(page)
        ],
        "next_cursor": cursors.next_cursor(
            identity, "referral_report", str(offset + limit) if len(rows) > limit else None
        ),
    }
