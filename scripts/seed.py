"""Demo data for the local stack: program rules, two partner merchants, three stores in Berlin
with geofences and iBeacons, staff of every role and a dozen members.

Written once per database: a marker item (``catalog`` ``seed/demo``) says ``started`` before the
first write and ``done`` after the last, and a run that finds ``done`` writes nothing, so a member
who left or a beacon an admin deleted is never re-created. A run stopped midway resumes: what was
written is kept (a member who joined keeps the purchases recorded so far), only what is missing is
added. A database seeded before the marker existed (no marker, but demo members) is marked done.

    python -m scripts.seed      (against LOYALTY_DYNAMODB_ENDPOINT; make run does it for you)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.campaigns import Campaign, Message, Schedule
from chalicelib.domain.catalog import Beacon, Merchant, StaffMember, Store
from chalicelib.domain.clock import isoformat, system_clock
from chalicelib.domain.identity import Identity, Role
from chalicelib.domain.program import (
    CumulativeDiscount,
    ExpiryRules,
    ProgramRules,
    RedemptionRules,
    Tier,
    TierReview,
)
from chalicelib.domain.segments import DayRange, Definition, Segment
from chalicelib.errors import Conflict
from chalicelib.services import members, program, purchases
from chalicelib.store import campaigns as campaign_store
from chalicelib.store import catalog, tables
from chalicelib.store import members as member_store

PROGRAM = ProgramRules(
    name="Kiez Card",
    currency="EUR",
    default_region="DE",
    timezone="Europe/Berlin",
    points_per_currency_unit=1,
    redemption=RedemptionRules(point_value_minor=1, min_points=100, max_share_percent=50),
    tiers=(
        Tier("Bronze"),
        Tier("Silver", min_spend_minor=30_000, min_visits=12, earn_multiplier_percent=125, perks=("free refill",)),
        Tier(
            "Gold",
            min_spend_minor=100_000,
            min_visits=40,
            earn_multiplier_percent=150,
            perks=("free refill", "birthday cake"),
        ),
    ),
    tier_window_months=12,
    cumulative_discount=CumulativeDiscount(enabled=True, base_percent=5, step_percent=1, max_percent=15),
    expiry=ExpiryRules(mode="fifo", months=24),
    tier_review=TierReview(every_months=12, grace_months=1),
)

MERCHANTS = (
    Merchant("m_kiez", "Kiez Kaffee", partner_ids=("m_nordlicht",)),
    Merchant("m_nordlicht", "Nordlicht Mode", partner_ids=("m_kiez",)),
)

STORES = (
    Store(
        "s_kiez_mitte",
        "m_kiez",
        "Kiez Kaffee Mitte",
        geofence={"center": [13.4016, 52.5303], "radius_m": 80},
        timezone="Europe/Berlin",
        address="Torstraße 100, 10119 Berlin",
    ),
    Store(
        "s_kiez_kreuzberg",
        "m_kiez",
        "Kiez Kaffee Kreuzberg",
        geofence={"center": [13.4185, 52.4986], "radius_m": 60},
        timezone="Europe/Berlin",
        address="Oranienstraße 50, 10969 Berlin",
    ),
    Store(
        "s_nordlicht_alex",
        "m_nordlicht",
        "Nordlicht Mode am Alexanderplatz",
        geofence={
            "type": "Polygon",
            "coordinates": [
                [
                    [13.4120, 52.5215],
                    [13.4142, 52.5222],
                    [13.4150, 52.5209],
                    [13.4128, 52.5202],
                    [13.4120, 52.5215],
                ]
            ],
        },
        timezone="Europe/Berlin",
        address="Alexanderplatz 9, 10178 Berlin",
    ),
)

BEACON_UUID = "F7826DA6-4FA2-4E98-8024-BC5B71E0893E"
BEACONS = (
    Beacon("b_mitte_door", "s_kiez_mitte", "entrance", uuid=BEACON_UUID, major=100, minor=1),
    Beacon("b_mitte_till", "s_kiez_mitte", "till", uuid=BEACON_UUID, major=100, minor=2),
    Beacon("b_kreuzberg_door", "s_kiez_kreuzberg", "entrance", uuid=BEACON_UUID, major=200, minor=1),
    Beacon("b_alex_door", "s_nordlicht_alex", "entrance", uuid=BEACON_UUID, major=300, minor=1),
    Beacon("b_alex_fitting", "s_nordlicht_alex", "fitting rooms", uuid=BEACON_UUID, major=300, minor=2),
)

STAFF = (
    StaffMember("demo-admin", "Ada Admin", Role.ADMIN),
    StaffMember("demo-marketer", "Mia Marketing", Role.MARKETER, merchant_id="m_kiez"),
    StaffMember(
        "demo-cashier-mitte",
        "Carl Kasse",
        Role.CASHIER,
        merchant_id="m_kiez",
        store_id="s_kiez_mitte",
        compensation_limit_points=200,
        daily_compensation_limit_points=500,
    ),
    StaffMember(
        "demo-cashier-kreuzberg",
        "Kai Kasse",
        Role.CASHIER,
        merchant_id="m_kiez",
        store_id="s_kiez_kreuzberg",
        compensation_limit_points=200,
    ),
    StaffMember(
        "demo-cashier-alex",
        "Nora Nordlicht",
        Role.CASHIER,
        merchant_id="m_nordlicht",
        store_id="s_nordlicht_alex",
        compensation_limit_points=300,
    ),
)

#: (sub, name, phone as typed at the till, birthday, consent, home store)
CUSTOMERS = (
    ("alice", "Alice Becker", "0151 23456701", date(1990, 4, 12), True, "s_kiez_mitte"),
    ("bob", "Bob Schulz", "0151 23456702", date(1985, 11, 23), True, "s_kiez_kreuzberg"),
    ("carla", "Carla Meyer", "0160 9876503", date(1998, 1, 30), False, "s_kiez_mitte"),
    ("deniz", "Deniz Yılmaz", "+49 170 5550104", date(1979, 7, 4), True, "s_nordlicht_alex"),
    ("emma", "Emma Wagner", "0171 2223305", date(2001, 9, 15), True, None),
    ("felix", "Felix Hoffmann", "0152 33344406", date(1969, 12, 24), True, "s_kiez_kreuzberg"),
    ("greta", "Greta Schäfer", "0157 44455507", date(1993, 3, 3), False, None),
    ("hannes", "Hannes Koch", "0176 5556608", date(1988, 5, 19), True, "s_kiez_mitte"),
    ("ines", "Inês Costa", "+351 912 345 609", date(1995, 8, 8), True, "s_nordlicht_alex"),
    ("jonas", "Jonas Richter", "0163 7778810", date(1975, 2, 14), True, "s_kiez_mitte"),
    ("katrin", "Katrin Wolf", "0172 8889911", date(1982, 6, 1), False, "s_kiez_kreuzberg"),
    ("lena", "Lena Neumann", "0159 09990012", date(2004, 10, 31), True, None),
)


#: The marker's name: the demo data set, written once per database.
SEED_NAME = "demo"
STARTED, DONE = "started", "done"
#: The marketing team's demo data (segments, a planned campaign): its own data set, so a database
#: seeded before it gets it once, and a segment or campaign deleted since is never written again.
MARKETING_SEED = "marketing"

SEGMENTS = (
    Segment(
        "seg_demo_regulars",
        "Regulars",
        Definition(min_visits=5, consent_only=True),
        merchant_id="m_kiez",
        description="Five visits or more, consenting: thank them first",
    ),
    Segment(
        "seg_demo_drifting",
        "Drifting away",
        Definition(last_visit_days=DayRange(min=30), min_visits=2),
        merchant_id="m_kiez",
        description="Came at least twice, not seen for a month",
    ),
)


def _spring_campaign(now: datetime) -> Campaign:
    year = now.year + 1 if (now.month, now.day) >= (3, 20) else now.year
    return Campaign(
        campaign_id="cmp_demo_spring",
        name="Spring menu",
        message=Message("{name}, spring is on the menu", "Try the new season's drinks: your {tier} discount applies."),
        segment_id="seg_demo_regulars",
        schedule=Schedule(at=datetime(year, 3, 20, 9, 0, tzinfo=UTC)),
        merchant_id="m_kiez",
        created_at=now,
        updated_at=now,
        tags=("new menu",),
    )


def seed_marketing(now: datetime) -> str:
    if catalog.seed_state(MARKETING_SEED) is not None:
        return "already written"
    catalog.mark_seed(MARKETING_SEED, STARTED, now)
    for segment in SEGMENTS:
        catalog.put_if_missing(dataclasses.replace(segment, created_at=now, updated_at=now))
    with contextlib.suppress(campaign_store.VersionConflict):  # written by a run stopped before its marker
        campaign_store.save(_spring_campaign(now), None)
    catalog.mark_seed(MARKETING_SEED, DONE, now)
    return f"{len(SEGMENTS)} segments, 1 draft campaign"


def seed() -> dict[str, int | str]:
    created_tables = tables.create_missing_tables()
    state = catalog.seed_state(SEED_NAME)
    if state is None and any(member_store.get_member(sub) for sub, *_ in CUSTOMERS):
        # Seeded by a version without the marker: whoever is missing since then left.
        catalog.mark_seed(SEED_NAME, DONE, system_clock())
        return {"tables created": len(created_tables), "demo data": "already written (by an earlier version)"}
    if state is not None and state[0] == DONE:
        when = isoformat(state[1]) if state[1] else "an earlier run"
        marketing = seed_marketing(system_clock())
        return {
            "tables created": len(created_tables),
            "demo data": f"already written on {when}",
            "marketing": marketing,
        }
    if state is None:
        catalog.mark_seed(SEED_NAME, STARTED, system_clock())
    # Demo data never overwrites what an admin changed since: only what is missing is written.
    if catalog.program_rules() is None:
        program.save(PROGRAM, None, clock=system_clock)
    for thing in (*MERCHANTS, *STORES, *BEACONS, *STAFF):
        catalog.put_if_missing(thing)
    now = system_clock()
    joined = purchases_made = 0
    for sub, name, phone, birthday, consent, home in CUSTOMERS:
        request = members.Join(name=name, phone=phone, birthday=birthday, marketing_consent=consent, home_store_id=home)
        rng = random.Random(sub)
        joined_at = now - timedelta(days=rng.randint(60, 120))
        try:
            member = members.join(
                Identity(sub=sub, roles=frozenset({Role.CUSTOMER})), request, clock=lambda at=joined_at: at
            )
        except Conflict as exc:
            if exc.code != "already_member":
                raise
            continue
        joined += 1
        purchases_made += _history(sub, member["customer_id"], home, joined_at, now, rng)
    marketing = seed_marketing(system_clock())
    # Last: a run stopped before this line runs again and finishes what is missing.
    catalog.mark_seed(SEED_NAME, DONE, system_clock())
    return {
        "tables created": len(created_tables),
        "stores": len(STORES),
        "beacons": len(BEACONS),
        "staff": len(STAFF),
        "members joined now": joined,
        "members in demo": len(CUSTOMERS),
        "purchases recorded now": purchases_made,
        "marketing": marketing,
    }


def _history(
    sub: str, customer_id: str, home: str | None, joined_at: datetime, now: datetime, rng: random.Random
) -> int:
    """Weeks of visits through the real purchase path: discounts, earning, redemptions, tiers."""
    cashiers = {s.store_id: s for s in STAFF if s.store_id}
    visits = rng.randint(3, 14)
    for n in range(visits):
        day = joined_at + (now - joined_at) * (n + 1) / (visits + 1)
        at = day.replace(hour=rng.randint(7, 17), minute=rng.randint(0, 59))  # opening hours (UTC)
        store_id = home or rng.choice([s.store_id for s in STORES])
        cashier = cashiers[store_id]
        amount = rng.choice([450, 780, 1250, 2390, 4900, 8900, 15900])
        balance = members.profile(Identity(sub=sub), clock=lambda at=at: at)["points_balance"]
        redeem = 100 if balance >= 300 and rng.random() < 0.4 else 0
        request = purchases.RecordPurchase(
            customer_id=customer_id, store_id=store_id, amount=amount, currency="EUR", redeem_points=redeem
        )
        staff = Identity(sub=cashier.sub, roles=frozenset({cashier.role}), merchant_id=cashier.merchant_id)
        purchases.record(staff, request, f"seed-{customer_id}-{n}", clock=lambda at=at: at)
    return visits


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    for key, value in seed().items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
