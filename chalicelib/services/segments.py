"""Segments: saved audiences, previews, and who is in each (the membership an offer's
``targeting.segment_id`` reads).

Every read of an audience goes to the members' columnar snapshot (``store/snapshot.py``), never to
the live tables: a preview over 100,000 members is one DuckDB query over a few megabytes of
Parquet. The ``segments`` job writes each saved segment's membership into the members' features
(``features.segments``), one write per member who came in or left since the last run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

import structlog

from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.segments import DayRange, Definition, Segment, problems
from chalicelib.errors import InvalidField
from chalicelib.ports import new_id
from chalicelib.services import cursors, places, policy, program
from chalicelib.store import audience, catalog, features, snapshot

#: Members shown with a preview.
SAMPLE_SIZE = 20

log = structlog.get_logger("loyalty.segments")


@dataclass(frozen=True)
class SegmentDraft:
    name: str
    definition: Definition
    description: str | None = None
    merchant_id: str | None = None
    status: str = "active"


class DayRangeView(TypedDict):
    min: int | None
    max: int | None


class DefinitionView(TypedDict):
    tiers: list[str]
    rfm: list[str]
    categories: list[str]
    last_visit_days: DayRangeView | None
    min_visits: int | None
    max_visits: int | None
    min_spend: int | None
    birthday_month: int | None
    home_store_id: str | None
    consent_only: bool
    joined_days: DayRangeView | None
    next_visit_days: DayRangeView | None


class SegmentView(TypedDict):
    segment_id: str
    name: str
    description: str | None
    merchant_id: str | None
    definition: DefinitionView
    status: str
    created_at: str | None
    updated_at: str | None
    #: As the last membership run found it (None before the first run).
    members: int | None
    members_at: str | None


class SegmentPage(TypedDict):
    items: list[SegmentView]
    next_cursor: str | None


class SampleView(TypedDict):
    customer_id: str
    tier: str
    visits: int
    spend_minor: int
    last_visit_at: str | None
    favourite_category: str | None


class PreviewView(TypedDict):
    count: int
    members: int
    sample: list[SampleView]
    #: When the snapshot the count comes from was last written to (None: it is empty).
    as_of: str | None


def create(identity: Identity, draft: SegmentDraft, *, clock: Clock) -> SegmentView:
    now = clock()
    segment = _checked(identity, new_id("seg", 16), draft, created_at=now, updated_at=now)
    catalog.put(segment)
    return view(segment)


def replace(identity: Identity, segment_id: str, draft: SegmentDraft, *, clock: Clock) -> SegmentView:
    old = policy.owned(identity, Segment, segment_id, "segment")
    segment = _checked(identity, segment_id, draft, created_at=old.created_at, updated_at=clock())
    segment = dataclasses.replace(segment, members=old.members, members_at=old.members_at)
    catalog.put(segment)
    return view(segment)


def end(identity: Identity, segment_id: str, *, clock: Clock) -> None:
    """Retire a segment: offers naming it reach nobody new once the membership run has emptied it."""
    old = policy.owned(identity, Segment, segment_id, "segment")
    catalog.put(dataclasses.replace(old, status="ended", updated_at=clock()))


def get(identity: Identity, segment_id: str) -> SegmentView:
    return view(policy.visible(identity, Segment, segment_id, "segment"))


def page(identity: Identity, limit: int, cursor: str | None) -> SegmentPage:
    mine = sorted(policy.seen(identity, lambda: catalog.list_all(Segment)), key=lambda s: s.segment_id)
    after = cursors.position(identity, "segments", cursor)
    if after is not None:
        mine = [s for s in mine if s.segment_id > after]
    chosen = mine[:limit]
    last = chosen[-1].segment_id if len(mine) > limit else None
    return {"items": [view(s) for s in chosen], "next_cursor": cursors.next_cursor(identity, "segments", last)}


def preview(identity: Identity, definition: Definition, *, clock: Clock) -> PreviewView:
    policy.acting_for(identity)
    check(definition)
    today, tz = _today(clock())
    found = audience.preview(snapshot.current(), definition, today, tz, SAMPLE_SIZE)
    written = snapshot.current().last_written()
    return {
        "count": found.count,
        "members": found.members,
        "sample": [
            {
                "customer_id": s.customer_id,
                "tier": s.tier,
                "visits": s.visits,
                "spend_minor": s.spend_minor,
                "last_visit_at": isoformat(s.last_visit_at) if s.last_visit_at else None,
                "favourite_category": s.favourite_category,
            }
            for s in found.sample
        ],
        "as_of": isoformat(written) if written else None,
    }


def definition_of(identity: Identity, segment_id: str) -> Definition:
    """A saved segment's definition, if the caller may see it (a campaign's audience)."""
    return policy.visible(identity, Segment, segment_id, "segment").definition


def members_of(definition: Definition, at: datetime) -> list[tuple[str, bool]]:
    """``(sub, consents to marketing)`` of every member the definition matches now, as the
    snapshot has them (a campaign's audience; the contact policy checks consent again)."""
    today, tz = _today(at)
    return list(audience.members(snapshot.current(), definition, today, tz))


def count_of(definition: Definition, at: datetime) -> int:
    today, tz = _today(at)
    return audience.preview(snapshot.current(), definition, today, tz, 0).count


class MembershipRun(TypedDict):
    job: str
    at: str
    segments: int
    joined: int
    left: int


def refresh_memberships(at: datetime) -> MembershipRun:
    """The ``segments`` job: each saved segment's members written to their features (only those
    who came in or left since the last run); an ended segment is emptied."""
    today, tz = _today(at)
    joined = left = 0
    saved = catalog.list_all(Segment)
    for segment in saved:
        definition = segment.definition if segment.status == "active" else None
        change = audience.refresh_membership(snapshot.current(), segment.segment_id, definition, today, tz)
        for sub in change.joined:
            features.change_segment(sub, segment.segment_id, True, at)
        for sub in change.left:
            features.change_segment(sub, segment.segment_id, False, at)
        change.commit()
        joined += len(change.joined)
        left += len(change.left)
        catalog.put(dataclasses.replace(segment, members=change.total, members_at=at))
    log.info("segments_refreshed", segments=len(saved), joined=joined, left=left)
    return {"job": "segments", "at": isoformat(at), "segments": len(saved), "joined": joined, "left": left}


def check(definition: Definition, prefix: str = "") -> None:
    """A definition that can match nobody by construction (a range upside down, a tier or store
    that does not exist) is refused naming the field (``prefix``: where the definition sits)."""
    for name, message in problems(definition):
        raise InvalidField(f"{prefix}{name}", message, code="invalid_segment")
    rules = program.rules()
    known = {t.name for t in rules.tiers}
    for i, tier in enumerate(definition.tiers):
        if tier not in known:
            raise InvalidField(f"{prefix}tiers.{i}", f"no tier named {tier!r}", code="unknown_tier")
    if definition.home_store_id is not None and places.store(definition.home_store_id) is None:
        raise InvalidField(f"{prefix}home_store_id", "no such store", code="unknown_store")


def _checked(
    identity: Identity, segment_id: str, draft: SegmentDraft, created_at: datetime | None, updated_at: datetime
) -> Segment:
    merchant_id = policy.merchant_for(identity, draft.merchant_id, "segment")
    check(draft.definition, "definition.")
    return Segment(
        segment_id=segment_id,
        name=draft.name,
        description=draft.description,
        definition=draft.definition,
        merchant_id=merchant_id,
        created_at=created_at,
        updated_at=updated_at,
        status=draft.status,
    )


def _today(at: datetime) -> tuple[date, ZoneInfo]:
    tz = ZoneInfo(program.rules().timezone)
    return at.astimezone(tz).date(), tz


def _days(days: DayRange | None) -> DayRangeView | None:
    return {"min": days.min, "max": days.max} if days is not None else None


def definition_view(d: Definition) -> DefinitionView:
    return {
        "tiers": list(d.tiers),
        "rfm": list(d.rfm),
        "categories": list(d.categories),
        "last_visit_days": _days(d.last_visit_days),
        "min_visits": d.min_visits,
        "max_visits": d.max_visits,
        "min_spend": d.min_spend,
        "birthday_month": d.birthday_month,
        "home_store_id": d.home_store_id,
        "consent_only": d.consent_only,
        "joined_days": _days(d.joined_days),
        "next_visit_days": _days(d.next_visit_days),
    }


def view(segment: Segment) -> SegmentView:
    return {
        "segment_id": segment.segment_id,
        "name": segment.name,
        "description": segment.description,
        "merchant_id": segment.merchant_id,
        "definition": definition_view(segment.definition),
        "status": segment.status,
        "created_at": isoformat(segment.created_at) if segment.created_at else None,
        "updated_at": isoformat(segment.updated_at) if segment.updated_at else None,
        "members": segment.members,
        "members_at": isoformat(segment.members_at) if segment.members_at else None,
    }
