"""Campaigns: the console's CRUD, the launch, the runs, and what each run did.

A run goes through the contacts queue in two steps, so that neither a request nor a job does the
fan-out's work: a ``campaign_run`` message (the launch's, or the ``campaigns`` job's for a run that
came due) reads the audience from the members' snapshot, sets the hold-out group and the members
without consent aside, and enqueues the rest as ``campaign`` messages of up to 100 members; each
of those is decided member by member through the issuing service (the contact policy: consent,
the weekly cap, quiet hours; once per member and run), and its outcomes are added to the run's
funnel once (``counters.tally`` with the message's marker).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import structlog

from chalicelib import queues
from chalicelib.domain import campaigns as rules
from chalicelib.domain import contact
from chalicelib.domain.campaigns import Campaign, Message, Schedule
from chalicelib.domain.catalog import Merchant
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.contact import Refused
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.moments import first_name
from chalicelib.domain.offers import Offer
from chalicelib.domain.segments import Definition, Segment
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.ports import new_id, now
from chalicelib.services import cursors, issuing, policy, program, segments
from chalicelib.services.issuing import Sent
from chalicelib.store import campaigns as store
from chalicelib.store import catalog, counters, snapshot

#: Members per ``campaign`` queue message (a consumer's batch of 10 is then 1,000 members).
SUBS_PER_MESSAGE = 100
#: Outcomes of the contact policy as the funnel names them.
HELD_BACK = ("frequency_cap", "no_marketing_consent", "already_contacted", "offer_unavailable", "not_a_member")

log = structlog.get_logger("loyalty.campaigns")


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    message: Message
    segment: Definition | None = None
    segment_id: str | None = None
    offer_id: str | None = None
    schedule: Schedule | None = None
    merchant_id: str | None = None
    holdout_percent: int | None = None
    attribution_days: int = 7
    tags: tuple[str, ...] = ()


class RunView(TypedDict):
    run: str
    at: str
    audience: int
    holdout: int
    no_consent: int
    to_contact: int


class CampaignView(TypedDict):
    campaign_id: str
    name: str
    message: dict[str, str]
    segment: segments.DefinitionView | None
    segment_id: str | None
    offer_id: str | None
    schedule: dict[str, str | None] | None
    merchant_id: str | None
    status: str
    holdout_percent: int
    attribution_days: int
    tags: list[str]
    created_at: str | None
    updated_at: str | None
    launched_at: str | None
    next_run_at: str | None
    runs: list[str]


class LaunchView(TypedDict):
    campaign: CampaignView
    #: The run starting now (None: the first run is later).
    run: RunView | None


class CampaignPage(TypedDict):
    items: list[CampaignView]
    next_cursor: str | None


# --- the console ---------------------------------------------------------------------------


def create(identity: Identity, draft: CampaignDraft, *, clock: Clock) -> CampaignView:
    at = clock()
    campaign = _checked(identity, new_id("cmp", 16), draft, created_at=at, updated_at=at)
    store.save(campaign, None)
    return view(campaign)


def replace(identity: Identity, campaign_id: str, draft: CampaignDraft, *, clock: Clock) -> CampaignView:
    old, version = _owned(identity, campaign_id)
    if old.status != rules.DRAFT:
        raise Conflict("a launched or cancelled campaign no longer changes", code="campaign_launched")
    campaign = _checked(identity, campaign_id, draft, created_at=old.created_at, updated_at=clock())
    _save(campaign, version)
    return view(campaign)


def cancel(identity: Identity, campaign_id: str, *, clock: Clock) -> None:
    """Cancel a draft or stop a launched campaign's runs to come (runs under way finish)."""
    old, version = _owned(identity, campaign_id)
    if old.status == rules.CANCELLED:
        return
    _save(dataclasses.replace(old, status=rules.CANCELLED, next_run_at=None, updated_at=clock()), version)


def get(identity: Identity, campaign_id: str) -> CampaignView:
    return view(_visible(identity, campaign_id)[0])


def visible(identity: Identity, campaign_id: str) -> Campaign:
    return _visible(identity, campaign_id)[0]


def page(identity: Identity, limit: int, cursor: str | None) -> CampaignPage:
    """Newest first: the caller's merchant's campaigns and the program-wide ones (an admin: all)."""
    merchant = policy.acting_for(identity)
    owners = [None, merchant] if merchant else [None, *(m.merchant_id for m in catalog.list_all(Merchant))]
    after = cursors.position(identity, "campaigns", cursor)
    # Each owner's next page by key (newest first), merged: a page reads at most limit + 1 per owner.
    keys: list[tuple[str, str]] = []
    for owner in owners:
        for n, key in enumerate(store.owned_ids(owner, after=after)):
            if n > limit:
                break
            keys.append(key)
    keys.sort(reverse=True)
    chosen = keys[:limit]
    found = policy.seen(identity, lambda: store.get_many([c for _, c in chosen]))
    last = chosen[-1][0] if len(keys) > limit else None
    return {"items": [view(c) for c in found], "next_cursor": cursors.next_cursor(identity, "campaigns", last)}


def launch(identity: Identity, campaign_id: str, *, clock: Clock) -> LaunchView:
    """Launch once (a second launch is 409): at once, at its time, or on its recurrence."""
    campaign, version = _owned(identity, campaign_id)
    if campaign.status != rules.DRAFT:
        raise Conflict(f"the campaign is {campaign.status}: it is launched once", code="already_launched")
    at = clock()
    tz = _tz()
    schedule = campaign.schedule
    first: datetime | None
    if schedule is not None and schedule.rrule is not None:
        starts = schedule.starts or at
        first = (
            rules.next_occurrence(schedule, starts, at, tz) if starts <= at else starts_or_first(schedule, starts, tz)
        )
        status = rules.RECURRING
        schedule = dataclasses.replace(schedule, starts=starts)
    elif schedule is not None and schedule.at is not None and schedule.at > at:
        first, status = schedule.at, rules.SCHEDULED
    else:
        first, status = at, rules.SCHEDULED
    if first is None:
        raise InvalidField("schedule.rrule", "the rule has no occurrence after now", code="no_occurrence")
    launched = dataclasses.replace(
        campaign, status=status, schedule=schedule, launched_at=at, next_run_at=first, updated_at=at
    )
    version = _save(launched, version)
    run = None
    if first <= at:
        launched, run = _start_run(launched, version, at)
    return {"campaign": view(launched), "run": run}


def starts_or_first(schedule: Schedule, starts: datetime, tz: ZoneInfo) -> datetime | None:
    """A recurrence's first occurrence at or after ``starts``."""
    rule = rules.recurrence(schedule, starts, tz)
    found = rule.after(starts.astimezone(tz).replace(tzinfo=None, microsecond=0), inc=True)
    return found.replace(tzinfo=tz) if found is not None else None


# --- runs ------------------------------------------------------------------------------------


class CampaignsRun(TypedDict):
    job: str
    at: str
    started: int


def run_due(at: datetime) -> CampaignsRun:
    """The ``campaigns`` job: start every run that is due (each claimed once)."""
    started = 0
    for campaign_id in store.due_ids(at):
        found = store.get(campaign_id)
        if found is None:
            continue
        campaign, version = found
        if campaign.next_run_at is None or campaign.next_run_at > at or campaign.status == rules.CANCELLED:
            continue
        try:
            _start_run(campaign, version, at)
        except store.VersionConflict:
            continue  # another run of the job (or an edit) got there first
        started += 1
    log.info("campaigns_started", runs=started)
    return {"job": "campaigns", "at": isoformat(at), "started": started}


def _start_run(campaign: Campaign, version: int, at: datetime) -> tuple[Campaign, RunView]:
    """Claim the due run (the campaign moves on to its next one, conditioned on the version read),
    then hand the run to the contacts queue. Returns the campaign after, and what the run holds."""
    tz = _tz()
    due = campaign.next_run_at or at
    run = rules.run_name(campaign, due, tz)
    following = None
    if campaign.schedule is not None and campaign.schedule.rrule is not None:
        following = rules.next_occurrence(campaign.schedule, campaign.schedule.starts or due, max(due, at), tz)
    after = dataclasses.replace(
        campaign,
        runs=(*campaign.runs, run) if run not in campaign.runs else campaign.runs,
        next_run_at=following,
        status=campaign.status if following is not None else rules.SENT,
    )
    store.save(after, version)
    counted = _split(campaign, at)
    queues.send(
        queues.CONTACTS,
        [{"job": "campaign_run", "campaign_id": campaign.campaign_id, "run": run, "at": isoformat(at)}],
    )
    log.info("campaign_run_started", campaign_id=campaign.campaign_id, run=run, audience=counted["audience"])
    return after, {
        "run": run,
        "at": isoformat(at),
        "audience": counted["audience"],
        "holdout": counted["holdout"],
        "no_consent": counted["no_consent"],
        "to_contact": counted["to_contact"],
    }


def _split(campaign: Campaign, at: datetime) -> dict[str, int]:
    audience = _members(campaign, at)
    percent = _holdout_percent(campaign)
    holdout = sum(rules.held_out(campaign.campaign_id, sub, percent) for sub, _ in audience)
    no_consent = sum(
        1 for sub, consent in audience if not consent and not rules.held_out(campaign.campaign_id, sub, percent)
    )
    return {
        "audience": len(audience),
        "holdout": holdout,
        "no_consent": no_consent,
        "to_contact": len(audience) - holdout - no_consent,
    }


def on_run(body: Mapping[str, Any]) -> None:
    """A ``campaign_run`` message: the run's audience from the snapshot, the hold-out group recorded
    (their purchases are the baseline), members without consent counted and left out, the rest
    enqueued as ``campaign`` messages. Delivered twice, it enqueues again (each member is still
    decided once) and counts once."""
    campaign_id, run = str(body["campaign_id"]), str(body["run"])
    at = datetime.fromisoformat(str(body["at"]))
    found = store.get(campaign_id)
    if found is None:
        return
    campaign = found[0]
    audience = _members(campaign, at)
    percent = _holdout_percent(campaign)
    to_contact: list[str] = []
    held: list[str] = []
    no_consent = 0
    for sub, consent in audience:
        if rules.held_out(campaign_id, sub, percent):
            held.append(sub)
        elif not consent:
            no_consent += 1
        else:
            to_contact.append(sub)
    holdout = len(held)
    # The hold-out group is remembered in one file (their purchases are the baseline).
    snapshot.write_holdout(snapshot.current(), campaign_id, run, at, held)
    bodies = [
        {"job": "campaign", "campaign_id": campaign_id, "run": run, "at": isoformat(at), "chunk": n, "subs": chunk}
        for n, chunk in enumerate(queues.chunks(to_contact, SUBS_PER_MESSAGE))
    ]
    queues.send(queues.CONTACTS, bodies)
    counters.tally(
        campaign_id,
        run,
        {"audience": len(audience), "holdout": holdout, "no_consent": no_consent, "enqueued": len(to_contact)},
        once=f"campaign#{campaign_id}#{run}#start",
        now=at,
    )
    log.info("campaign_run_fanned_out", campaign_id=campaign_id, run=run, enqueued=len(to_contact))


def on_members(body: Mapping[str, Any]) -> None:
    """A ``campaign`` message: each member decided through the issuing service; the outcomes are
    added to the run's funnel once the whole message is through (a member whose decision failed
    fails the message, which comes back whole: those sent replay, and it is counted then)."""
    campaign_id, run = str(body["campaign_id"]), str(body["run"])
    found = store.get(campaign_id)
    if found is None:
        return
    campaign = found[0]
    if campaign.status == rules.CANCELLED:
        return
    offer = catalog.get(Offer, campaign.offer_id) if campaign.offer_id else None
    key = contact.campaign_key(campaign_id, run)
    counts: dict[str, int] = {}
    failure: Exception | None = None
    for sub in body["subs"]:
        try:
            outcome = issuing.send(
                str(sub),
                "campaign",
                key,
                campaign.message.title,
                campaign.message.body,
                clock=now,
                offer=offer,
                personalise=lambda member: _personalised(campaign.message, member),
            )
        except Exception as exc:  # noqa: BLE001 - the others in the message are still decided
            failure = exc
            continue
        for name in _counted(outcome):
            counts[name] = counts.get(name, 0) + 1
    if failure is not None:
        raise failure
    counters.tally(campaign_id, run, counts, once=f"campaign#{campaign_id}#{run}#{body.get('chunk', 0)}", now=now())


def _counted(outcome: Sent | Refused) -> list[str]:
    if isinstance(outcome, Sent):
        return ["sent", "quiet_hours"] if outcome.push_after is not None else ["sent"]
    return [outcome.reason if outcome.reason in HELD_BACK else "other"]


def _personalised(message: Message, member: Member) -> tuple[str, str | None]:
    values = {
        "name": first_name(member.name),
        "favourite_category": _favourite(member) or rules.NO_FAVOURITE,
        "balance": str(member.points_balance),
        "tier": member.tier,
    }
    return rules.personalised(message.title, values), rules.personalised(message.body, values)


def _favourite(member: Member) -> str | None:
    counts = member.category_counts
    return max(sorted(counts), key=lambda c: counts[c]) if counts else None


# --- checks and views ------------------------------------------------------------------------


def _members(campaign: Campaign, at: datetime) -> list[tuple[str, bool]]:
    """The run's audience as the snapshot has it now; a saved segment is read at each run (one
    retired since reaches nobody)."""
    definition = campaign.segment
    if campaign.segment_id is not None:
        segment = catalog.get(Segment, campaign.segment_id)
        definition = segment.definition if segment is not None and segment.status == "active" else None
        if definition is None:
            return []
    return segments.members_of(definition or Definition(), at)


def _holdout_percent(campaign: Campaign) -> int:
    if campaign.holdout_percent is not None:
        return campaign.holdout_percent
    return program.rules().contact.campaign_holdout_percent


def _tz() -> ZoneInfo:
    return ZoneInfo(program.rules().timezone)


def _save(campaign: Campaign, version: int) -> int:
    try:
        return store.save(campaign, version)
    except store.VersionConflict:
        raise Conflict("the campaign changed meanwhile; reload and retry", code="version_conflict") from None


def _visible(identity: Identity, campaign_id: str) -> tuple[Campaign, int]:
    policy.acting_for(identity)
    found = store.get(campaign_id)
    if found is None or not policy.seen(identity, lambda: [found[0]]):
        raise NotFound("no such campaign", code="campaign_not_found")
    return found


def _owned(identity: Identity, campaign_id: str) -> tuple[Campaign, int]:
    campaign, version = _visible(identity, campaign_id)
    policy.merchant_for(identity, campaign.merchant_id, "campaign")
    return campaign, version


def _checked(
    identity: Identity, campaign_id: str, draft: CampaignDraft, created_at: datetime | None, updated_at: datetime
) -> Campaign:
    merchant_id = policy.merchant_for(identity, draft.merchant_id, "campaign")
    for name, text in (("message.title", draft.message.title), ("message.body", draft.message.body)):
        problem = rules.template_problem(text)
        if problem:
            raise InvalidField(name, problem, code="invalid_template")
    if (draft.segment is None) == (draft.segment_id is None):
        raise InvalidField("segment", "give the audience: a segment definition or a segment_id", code="no_audience")
    if draft.segment is not None:
        segments.check(draft.segment, "segment.")
    if draft.segment_id is not None:
        try:
            policy.visible(identity, Segment, draft.segment_id, "segment")
        except NotFound:
            raise InvalidField("segment_id", "no such segment", code="unknown_segment") from None
    if draft.offer_id is not None:
        try:
            offer = policy.visible(identity, Offer, draft.offer_id, "offer")
        except NotFound:
            raise InvalidField("offer_id", "no such offer", code="unknown_offer") from None
        if offer.trigger.type != "campaign":
            raise InvalidField("offer_id", "a campaign brings an offer whose trigger is campaign", code="wrong_trigger")
    schedule = draft.schedule
    if schedule is not None:
        if (schedule.at is None) == (schedule.rrule is None):
            raise InvalidField("schedule", "give either at or rrule", code="invalid_schedule")
        if schedule.rrule is not None:
            problem = rules.recurrence_problem(schedule, schedule.starts or updated_at, _tz())
            if problem:
                raise InvalidField("schedule.rrule", problem, code="invalid_schedule")
        if schedule.ends is not None and schedule.starts is not None and schedule.ends <= schedule.starts:
            raise InvalidField("schedule.ends", "must be after starts", code="invalid_schedule")
    return Campaign(
        campaign_id=campaign_id,
        name=draft.name,
        message=draft.message,
        segment=draft.segment,
        segment_id=draft.segment_id,
        offer_id=draft.offer_id,
        schedule=schedule,
        merchant_id=merchant_id,
        holdout_percent=draft.holdout_percent,
        attribution_days=draft.attribution_days,
        created_at=created_at,
        updated_at=updated_at,
        tags=draft.tags,
    )


def view(c: Campaign) -> CampaignView:
    s = c.schedule
    return {
        "campaign_id": c.campaign_id,
        "name": c.name,
        "message": {"title": c.message.title, "body": c.message.body},
        "segment": segments.definition_view(c.segment) if c.segment is not None else None,
        "segment_id": c.segment_id,
        "offer_id": c.offer_id,
        "schedule": {
            "at": isoformat(s.at) if s.at else None,
            "rrule": s.rrule,
            "starts": isoformat(s.starts) if s.starts else None,
            "ends": isoformat(s.ends) if s.ends else None,
        }
        if s is not None
        else None,
        "merchant_id": c.merchant_id,
        "status": c.status,
        "holdout_percent": _holdout_percent(c),
        "attribution_days": c.attribution_days,
        "tags": list(c.tags),
        "created_at": isoformat(c.created_at) if c.created_at else None,
        "updated_at": isoformat(c.updated_at) if c.updated_at else None,
        "launched_at": isoformat(c.launched_at) if c.launched_at else None,
        "next_run_at": isoformat(c.next_run_at) if c.next_run_at else None,
        "runs": list(c.runs),
    }


def first_day(campaign: Campaign) -> date | None:
    return rules.first_day(campaign, _tz())
