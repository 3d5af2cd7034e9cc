"""Reports from counters kept as events happen: the ledger's stream feeds them, reports read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict

import structlog

from chalicelib.domain.campaigns import Campaign
from chalicelib.domain.catalog import Merchant
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.offers import Offer
from chalicelib.domain.settlement import MerchantPeriod, settle
from chalicelib.errors import Forbidden, InvalidField
from chalicelib.services import cursors, policy, program
from chalicelib.store import audience, catalog, counters, ledger, sales, snapshot
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
        _points_tally(image, day, now)
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


# --- sales and points counters, from the write streams ----------------------------------------

#: Ledger reasons by what they do to the program's points.
SPENT = frozenset({"redemption"})
EXPIRED = frozenset({"expiry", "forfeited_on_leaving"})
TAKEN_BACK = frozenset({"refund", "referral_taken_back"})


def on_purchase_records(records: Iterable[Mapping[str, Any]], *, clock: Clock) -> int:
    """The purchases table's stream: each new purchase, and each refund of one (the difference of
    its images), into the day's sales counters of its merchant and of the program; returns how many
    records counted now (a record delivered twice counts once)."""
    rules = program.rules()
    now = clock()
    counted = 0
    for record in records:
        change = record["dynamodb"]
        new = change.get("NewImage")
        if record["eventName"] not in ("INSERT", "MODIFY") or not new:
            continue
        purchase, revision = ledger.purchase_from_image(new)
        if record["eventName"] == "INSERT":
            day = program.local_time(rules, purchase.at).date().isoformat()
            counts = {
                "purchases": 1,
                "revenue_minor": purchase.amount_due,
                "gross_minor": purchase.amount,
                "discount_minor": purchase.discount,
                "offer_discount_minor": purchase.offer_discount,
                "redeemed_value_minor": purchase.redeemed_value,
                "points_earned": purchase.points_earned,
                "points_redeemed": purchase.points_redeemed,
            }
            tallies: dict[tuple[str, str], dict[str, int]] = {
                (f"sales#{purchase.merchant_id}", day): counts,
                (f"sales#{sales.PROGRAM}", day): counts,
            }
            for offer_id in dict.fromkeys(purchase.offers_redeemed):
                tallies[(f"offer#{offer_id}", day)] = {"redemptions": 1, "revenue_minor": purchase.amount_due}
        else:
            old = change.get("OldImage")
            before = ledger.purchase_from_image(old)[0] if old else None
            refunded = purchase.refunded_money - (before.refunded_money if before else 0)
            if refunded <= 0 or not purchase.refunds:
                continue
            day = program.local_time(rules, purchase.refunds[-1].at).date().isoformat()
            counts = {"refunds": 1, "refunded_minor": refunded}
            tallies = {(f"sales#{purchase.merchant_id}", day): counts, (f"sales#{sales.PROGRAM}", day): counts}
        counted += sales.add(f"{purchase.purchase_id}#{revision}", tallies, now)
    return counted


def _points_tally(image: Mapping[str, Any], day: str, now: datetime) -> None:
    points = int(image["points"]["N"])
    reason = image.get("reason", {}).get("S", "")
    if reason in SPENT:
        counts = {"points_spent": -points}
    elif reason in EXPIRED:
        counts = {"points_expired": -points}
    elif reason in TAKEN_BACK:
        counts = {"points_taken_back": -points}
    elif points > 0:
        counts = {"points_given": points}
    else:
        return  # a debt's repayment moves no points in or out of the program
    marker = f"ledger#{image['customer_id']['S']}#{image['entry_id']['S']}"
    sales.add(marker, {(f"points#{sales.PROGRAM}", day): counts}, now)


# --- the summary, tiers, offers and the economics --------------------------------------------


class MoneyView(TypedDict):
    revenue_minor: int
    gross_minor: int
    purchases: int
    average_check_minor: int | None
    discounts_minor: int
    offer_discounts_minor: int
    points_redeemed_value_minor: int
    refunded_minor: int


class PointsView(TypedDict):
    given: int
    spent: int
    expired: int
    taken_back: int
    outstanding: int
    given_value_minor: int
    spent_value_minor: int
    outstanding_value_minor: int


class MembersView(TypedDict):
    members: int
    joined_in_period: int
    active_in_period: int
    repeat_rate: float | None
    consenting: int


class TierCountView(TypedDict):
    tier: str
    members: int


class OfferLineView(TypedDict):
    offer_id: str
    title: str
    issued: int
    redeemed: int
    revenue_minor: int


SummaryView = TypedDict(
    "SummaryView",
    {
        "from": str,
        "to": str,
        "merchant_id": str | None,
        "currency": str,
        "members": MembersView,
        "sales": MoneyView,
        "points": PointsView,
        "tiers": list[TierCountView],
        "offers": list[OfferLineView],
        "as_of": str | None,
    },
)


def summary(identity: Identity, merchant_id: str | None, first: date, last: date) -> SummaryView:
    """The program at a glance over a period: members (from the snapshot: how many, joined and
    active in the period's months, the repeat rate), sales and discounts (the day counters), the
    points given, spent and still outstanding as money, the tiers and the offers. A merchant's
    marketer sees their merchant's sales; the members and points are the program's."""
    merchant = _merchant_scope(identity, merchant_id)
    _check_period(first, last)
    rules = program.rules()
    point_value = rules.redemption.point_value_minor
    money = _sum_days(f"sales#{merchant or sales.PROGRAM}", first, last)
    points = _sum_days(f"points#{sales.PROGRAM}", first, last)
    shot = snapshot.current()
    facts = audience.member_facts(shot, first, last, rules.timezone)
    offers = _offer_lines(identity, first, last)
    written = shot.last_written()
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "merchant_id": merchant,
        "currency": rules.currency,
        "members": {
            "members": facts.members,
            "joined_in_period": facts.joined,
            "active_in_period": facts.active,
            "repeat_rate": round(facts.repeat / facts.buyers, 4) if facts.buyers else None,
            "consenting": facts.consenting,
        },
        "sales": {
            "revenue_minor": money["revenue_minor"],
            "gross_minor": money["gross_minor"],
            "purchases": money["purchases"],
            "average_check_minor": money["revenue_minor"] // money["purchases"] if money["purchases"] else None,
            "discounts_minor": money["discount_minor"],
            "offer_discounts_minor": money["offer_discount_minor"],
            "points_redeemed_value_minor": money["redeemed_value_minor"],
            "refunded_minor": money["refunded_minor"],
        },
        "points": {
            "given": points["points_given"],
            "spent": points["points_spent"],
            "expired": points["points_expired"],
            "taken_back": points["points_taken_back"],
            "outstanding": facts.points_outstanding,
            "given_value_minor": points["points_given"] * point_value,
            "spent_value_minor": points["points_spent"] * point_value,
            "outstanding_value_minor": facts.points_outstanding * point_value,
        },
        "tiers": [{"tier": tier, "members": n} for tier, n in facts.tiers],
        "offers": offers,
        "as_of": isoformat(written) if written else None,
    }


class TierView(TypedDict):
    tier: str
    members: int
    share: float | None
    consenting: int
    average_visits: float | None
    average_spend_minor: int | None
    points_outstanding: int
    perks: list[str]


class TiersView(TypedDict):
    members: int
    tiers: list[TierView]
    as_of: str | None


def tiers(identity: Identity) -> TiersView:
    """Members per tier with what they are worth, from the snapshot, and each tier's perks."""
    policy.acting_for(identity)
    rules = program.rules()
    shot = snapshot.current()
    rows = {row.tier: row for row in audience.tier_rows(shot)}
    total = sum(row.members for row in rows.values())
    perks = {tier["name"]: tier["perks"] for tier in program.public_view(rules)["tiers"]}
    names = [t.name for t in rules.tiers] + sorted(set(rows) - {t.name for t in rules.tiers})
    written = shot.last_written()
    out: list[TierView] = []
    for name in names:
        row = rows.get(name)
        members = row.members if row else 0
        out.append(
            {
                "tier": name,
                "members": members,
                "share": round(members / total, 4) if total else None,
                "consenting": row.consenting if row else 0,
                "average_visits": round(row.visits / members, 2) if row and members else None,
                "average_spend_minor": row.spend // members if row and members else None,
                "points_outstanding": row.points if row else 0,
                "perks": list(perks.get(name, [])),
            }
        )
    return {"members": total, "tiers": out, "as_of": isoformat(written) if written else None}


OfferReportView = TypedDict(
    "OfferReportView",
    {
        "offer_id": str,
        "title": str,
        "status": str,
        "from": str,
        "to": str,
        "issued": int,
        "redeemed": int,
        "redemption_rate": float | None,
        "revenue_minor": int,
        "days": list[dict[str, int | str]],
    },
)


def offer(identity: Identity, offer_id: str, first: date, last: date) -> OfferReportView:
    """One offer: issued (all time: its counter), redeemed and what those purchases paid in the
    period, per day."""
    _check_period(first, last)
    found = catalog.with_issued_count(policy.visible(identity, Offer, offer_id, "offer"))
    days = list(sales.days(f"offer#{offer_id}", first.isoformat(), last.isoformat()))
    redeemed = sum(counts["redemptions"] for _, counts in days)
    return {
        "offer_id": found.offer_id,
        "title": found.title,
        "status": found.status,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "issued": found.issued,
        "redeemed": redeemed,
        "redemption_rate": round(redeemed / found.issued, 4) if found.issued else None,
        "revenue_minor": sum(counts["revenue_minor"] for _, counts in days),
        "days": [
            {"day": day, "redeemed": counts["redemptions"], "revenue_minor": counts["revenue_minor"]}
            for day, counts in days
        ],
    }


class MonthEconomicsView(TypedDict):
    month: str
    revenue_minor: int
    discounts_minor: int
    points_given_value_minor: int
    points_redeemed_value_minor: int
    cost_minor: int
    cost_share: float | None


class EconomicsView(TypedDict):
    merchant_id: str | None
    currency: str
    point_value_minor: int
    months: list[MonthEconomicsView]
    note: str


def economics(identity: Identity, merchant_id: str | None, first: date, last: date) -> EconomicsView:
    """What the program gives against what members spend, per month: the discounts (the ladder's
    and offers'), the points given and redeemed as money, and their share of the revenue."""
    merchant = _merchant_scope(identity, merchant_id)
    _check_period(first, last)
    rules = program.rules()
    value = rules.redemption.point_value_minor
    by_month: dict[str, dict[str, int]] = {}
    for day, counts in sales.days(f"sales#{merchant or sales.PROGRAM}", first.isoformat(), last.isoformat()):
        totals = by_month.setdefault(day[:7], dict.fromkeys(sales.FIELDS, 0))
        for name, n in counts.items():
            totals[name] += n
    given: dict[str, int] = {}
    for day, counts in sales.days(f"points#{sales.PROGRAM}", first.isoformat(), last.isoformat()):
        given[day[:7]] = given.get(day[:7], 0) + counts["points_given"]
    out: list[MonthEconomicsView] = []
    for month in sorted(set(by_month) | set(given)):
        m = by_month.get(month, dict.fromkeys(sales.FIELDS, 0))
        discounts = m["discount_minor"] + m["offer_discount_minor"]
        # The points a merchant's purchases earned (all the program's given points for the program).
        points_given = (m["points_earned"] if merchant else given.get(month, 0)) * value
        cost = discounts + points_given
        out.append(
            {
                "month": month,
                "revenue_minor": m["revenue_minor"],
                "discounts_minor": discounts,
                "points_given_value_minor": points_given,
                "points_redeemed_value_minor": m["redeemed_value_minor"],
                "cost_minor": cost,
                "cost_share": round(cost / m["revenue_minor"], 4) if m["revenue_minor"] else None,
            }
        )
    return {
        "merchant_id": merchant,
        "currency": rules.currency,
        "point_value_minor": value,
        "months": out,
        "note": "cost = discounts given + points given at their redemption value; a share of revenue above the "
        "margin means the program gives away more than it earns",
    }


def _merchant_scope(identity: Identity, asked: str | None) -> str | None:
    """A merchant's staff see their merchant's; an admin (or a program-wide marketer) any, or all."""
    own = policy.acting_for(identity)
    if own is not None and asked not in (None, own):
        raise Forbidden("you can see only your merchant's reports", code="wrong_merchant", field="merchant_id")
    if asked is not None and catalog.get(Merchant, asked) is None:
        raise InvalidField("merchant_id", "no such merchant", code="unknown_merchant")
    return own or asked


def _check_period(first: date, last: date) -> None:
    if last < first:
        raise InvalidField("to", "must not be before from", code="invalid_period")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise InvalidField("to", f"a period is at most {MAX_PERIOD_DAYS} days", code="period_too_long")


def _sum_days(pk: str, first: date, last: date) -> dict[str, int]:
    total = dict.fromkeys(sales.FIELDS, 0)
    for _, counts in sales.days(pk, first.isoformat(), last.isoformat()):
        for name, n in counts.items():
            total[name] += n
    return total


def _offer_lines(identity: Identity, first: date, last: date) -> list[OfferLineView]:
    lines: list[OfferLineView] = []
    for o in sorted(policy.seen(identity, catalog.offers_with_counts), key=lambda o: o.offer_id):
        redeemed = revenue = 0
        for _, counts in sales.days(f"offer#{o.offer_id}", first.isoformat(), last.isoformat()):
            redeemed += counts["redemptions"]
            revenue += counts["revenue_minor"]
        lines.append(
            {
                "offer_id": o.offer_id,
                "title": o.title,
                "issued": o.issued,
                "redeemed": redeemed,
                "revenue_minor": revenue,
            }
        )
    return lines


# --- the CRM export ---------------------------------------------------------------------------

MEMBER_COLUMNS = (
    "customer_id",
    "name",
    "phone",
    "birthday",
    "tier",
    "points_balance",
    "visits",
    "spend_minor",
    "last_visit_at",
    "joined_at",
    "home_store_id",
    "marketing_consent_at",
    "referral_code",
)


@dataclass(frozen=True)
class CsvPage:
    text: str
    next_cursor: str | None
    rows: int


def members_csv(identity: Identity, limit: int, cursor: str | None) -> CsvPage:
    """Members who agreed to marketing, for import into a CRM, a page at a time (``limit`` rows,
    in a stable order): the snapshot says who consents, each page's members are read by key
    (BatchGetItem) and checked again (a consent withdrawn since is left out)."""
    policy.acting_for(identity)
    after = cursors.position(identity, "members_csv", cursor)
    subs = audience.consenting(snapshot.current(), after, limit + 1)
    page = subs[:limit]
    found = {m.sub: m for m in member_store.get_members(page)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MEMBER_COLUMNS)
    rows = 0
    for sub in page:
        m = found.get(sub)
        if m is None or not m.marketing_consent:
            continue
        writer.writerow(
            [
                m.customer_id,
                _cell(m.name),
                m.phone,
                m.birthday.isoformat(),
                m.tier,
                m.points_balance,
                m.visits_total,
                m.spend_total_minor,
                isoformat(m.last_visit_at) if m.last_visit_at else "",
                isoformat(m.joined_at),
                m.home_store_id or "",
                isoformat(m.consent_updated_at),
                m.referral_code,
            ]
        )
        rows += 1
    last = page[-1] if len(subs) > limit else None
    return CsvPage(out.getvalue(), cursors.next_cursor(identity, "members_csv", last), rows)


def _cell(text: str) -> str:
    """A name as a spreadsheet cell: never a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
