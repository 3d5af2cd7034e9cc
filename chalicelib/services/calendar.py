"""The year's plan for the marketing team: what is scheduled (campaigns, their recurrences,
promotions) beside what a business should prepare for in advance (the public holidays of the
program's country, the seasons' new collections and menus, the retail dates), newest plans shown
with a reminder of when to start preparing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from chalicelib.domain import campaigns as campaign_rules
from chalicelib.domain.catalog import Merchant
from chalicelib.domain.identity import Identity
from chalicelib.domain.promotions import Promotion
from chalicelib.services import policy, program
from chalicelib.store import campaigns as campaign_store
from chalicelib.store import catalog

#: How long before a date the plan says to start preparing it.
PREPARE_DAYS = 21
#: Occurrences of one recurring campaign shown in a year, at most.
MAX_OCCURRENCES = 60


class EntryView(TypedDict, total=False):
    date: str
    end: str | None
    kind: str
    title: str
    id: str | None
    status: str | None
    note: str | None


class CalendarView(TypedDict):
    year: int
    country: str | None
    entries: list[EntryView]


def _seasons(year: int) -> list[tuple[date, str, str]]:
    """Dates a shop or café plans around every year, whatever its country."""
    november = date(year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    return [
        (date(year, 2, 14), "Valentine's Day", "gifts for two, a couples' offer"),
        (date(year, 3, 1), "Spring collection / menu", "the new season's range"),
        (date(year, 6, 1), "Summer menu", "cold drinks, outdoor seating, holiday hours"),
        (date(year, 9, 1), "Autumn collection / back to school", "the new season's range"),
        (thanksgiving + timedelta(days=1), "Black Friday", "decide whether to join in or run a loyalty-only offer"),
        (date(year, 12, 1), "Winter and the gift season", "gift cards, seasonal specials, opening hours"),
    ]


def year(identity: Identity, year: int) -> CalendarView:
    policy.acting_for(identity)
    rules = program.rules()
    tz = ZoneInfo(rules.timezone)
    entries: list[EntryView] = []
    entries += _campaign_entries(identity, year, tz)
    for promotion in policy.seen(identity, lambda: catalog.list_all(Promotion)):
        start, end = promotion.valid_from.astimezone(tz).date(), promotion.valid_to.astimezone(tz).date()
        if start.year <= year <= end.year:
            entries.append(
                {
                    "date": start.isoformat(),
                    "end": end.isoformat(),
                    "kind": "promotion",
                    "title": promotion.name,
                    "id": promotion.promotion_id,
                    "status": promotion.status,
                    "note": f"x{promotion.multiplier_percent / 100:g} points",
                }
            )
    country = rules.default_region
    try:
        import holidays  # the tables of every country: loaded by the calendar's requests only

        public: dict[date, str] = dict(holidays.country_holidays(country, years=year))
    except NotImplementedError:  # a country the table does not know: no holidays, said by country None
        public = {}
    for day, name in sorted(public.items()):
        entries.append(_prepared(day, "holiday", str(name)))
    for day, name, note in _seasons(year):
        entries.append(_prepared(day, "season", name, note))
    entries.sort(key=lambda e: (e["date"], e["kind"], e["title"]))
    return {"year": year, "country": country if public else None, "entries": entries}


def _prepared(day: date, kind: str, title: str, note: str | None = None) -> EntryView:
    prepare = f"prepare by {(day - timedelta(days=PREPARE_DAYS)).isoformat()}"
    return {"date": day.isoformat(), "kind": kind, "title": title, "note": f"{note}; {prepare}" if note else prepare}


def _campaign_entries(identity: Identity, year: int, tz: ZoneInfo) -> list[EntryView]:
    merchant = policy.acting_for(identity)
    owners = [None, merchant] if merchant else [None, *(m.merchant_id for m in catalog.list_all(Merchant))]
    ids = [campaign_id for owner in owners for _, campaign_id in campaign_store.owned_ids(owner)]
    entries: list[EntryView] = []
    for campaign in policy.seen(identity, lambda: campaign_store.get_many(ids)):
        for day in _days_in(campaign, year, tz):
            entries.append(
                {
                    "date": day.isoformat(),
                    "kind": "campaign",
                    "title": campaign.name,
                    "id": campaign.campaign_id,
                    "status": campaign.status,
                    "note": ", ".join(campaign.tags) or None,
                }
            )
    return entries


def _days_in(campaign: campaign_rules.Campaign, year: int, tz: ZoneInfo) -> list[date]:
    schedule = campaign.schedule
    if schedule is not None and schedule.rrule is not None and campaign.status != campaign_rules.CANCELLED:
        starts = schedule.starts or campaign.launched_at or campaign.created_at or datetime(year, 1, 1, tzinfo=tz)
        rule = campaign_rules.recurrence(schedule, starts, tz)
        first = datetime(year, 1, 1)
        last = datetime(year + 1, 1, 1)
        days = []
        for occurrence in rule.between(first, last, inc=True):
            if schedule.ends is not None and occurrence.replace(tzinfo=tz) > schedule.ends:
                break
            days.append(occurrence.date())
            if len(days) >= MAX_OCCURRENCES:
                break
        return days
    first_day = campaign_rules.first_day(campaign, tz)
    return [first_day] if first_day is not None and first_day.year == year else []
