"""Campaigns: a message (with an optional offer) to an audience, once or on a schedule, with a
random hold-out group that gets nothing so the report can say what the campaign changed.

A campaign is a draft until it is launched, once. Launching sends at once (no schedule, or a time
already past), at its time (``schedule.at``) or at every occurrence of its recurrence
(``schedule.rrule``, RFC 5545, in the program's time zone); the ``campaigns`` job starts each run
that is due. A run is named by its occurrence (``once`` or the local start time), and each member
gets a run's message at most once: its contact key is ``campaign#<id>#<run>``.
"""

from __future__ import annotations

import hashlib
import itertools
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from chalicelib.domain.segments import Definition

#: What a message may say about the member it reaches.
PLACEHOLDERS = ("name", "favourite_category", "balance", "tier")
#: Said for ``{favourite_category}`` to a member who has none yet.
NO_FAVOURITE = "our favourites"
#: A recurrence runs at most this often (a campaign is not a notification stream).
MIN_INTERVAL = timedelta(days=1)
#: Occurrences looked at when checking a recurrence's interval.
CHECKED_OCCURRENCES = 20

DRAFT = "draft"
SCHEDULED = "scheduled"
RECURRING = "recurring"
SENT = "sent"
CANCELLED = "cancelled"
#: A launched campaign's text and audience are what its report counts: they no longer change.
LAUNCHED = frozenset({SCHEDULED, RECURRING, SENT})


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@dataclass(frozen=True)
class Schedule:
    """``at``: one run then. ``rrule``: a run at each occurrence from ``starts`` (default: the
    launch), in the program's time zone, until the rule ends or ``ends``."""

    at: datetime | None = None
    rrule: str | None = None
    starts: datetime | None = None
    ends: datetime | None = None


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    message: Message
    #: The audience: a definition, or a saved segment's id (read at each run).
    segment: Definition | None = None
    segment_id: str | None = None
    offer_id: str | None = None
    schedule: Schedule | None = None
    merchant_id: str | None = None
    status: str = DRAFT
    #: Percent of the audience held out (gets nothing); None: the program's setting.
    holdout_percent: int | None = None
    #: Days after a run in which a purchase counts for the campaign.
    attribution_days: int = 7
    created_at: datetime | None = None
    updated_at: datetime | None = None
    launched_at: datetime | None = None
    #: The runs started so far, oldest first (``once`` or the occurrence's local time).
    runs: tuple[str, ...] = ()
    #: When the next run is due (None: nothing more to send).
    next_run_at: datetime | None = None
    #: Notes for the calendar (a holiday, a new menu), free text.
    tags: tuple[str, ...] = field(default_factory=tuple)


def placeholders(text: str) -> list[str]:
    """The ``{field}`` names ``text`` uses; ValueError when it is not a valid template."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def template_problem(text: str) -> str | None:
    """What is wrong with a message template (None: nothing)."""
    try:
        used = placeholders(text)
    except ValueError as exc:
        return f"not a valid template ({exc}); write {{{{ and }}}} for a brace"
    for name in used:
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{name}}}; known: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    return None


def personalised(text: str, values: dict[str, str]) -> str:
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


def recurrence(schedule: Schedule, starts: datetime, tz: ZoneInfo) -> rrule:
    """The schedule's rule from ``starts`` (local wall-clock time in ``tz``); ValueError if it is
    not a rule ``dateutil`` reads."""
    local_start = starts.astimezone(tz).replace(tzinfo=None, microsecond=0)
    rule = rrulestr(schedule.rrule or "", dtstart=local_start, forceset=False, cache=False)
    if not isinstance(rule, rrule):
        raise ValueError("one RRULE, without EXDATE or RDATE")
    return rule


def recurrence_problem(schedule: Schedule, starts: datetime, tz: ZoneInfo) -> str | None:
    try:
        rule = recurrence(schedule, starts, tz)
    except (ValueError, TypeError) as exc:
        return f"not a recurrence rule: {exc}"
    times = []
    for occurrence in rule:
        times.append(occurrence)
        if len(times) >= CHECKED_OCCURRENCES:
            break
    if not times:
        return "the rule has no occurrence"
    if any(later - earlier < MIN_INTERVAL for earlier, later in itertools.pairwise(times)):
        return "a campaign repeats at most daily"
    return None


def next_occurrence(schedule: Schedule, starts: datetime, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first run of the schedule strictly after ``after`` (UTC-aware), or None."""
    rule = recurrence(schedule, starts, tz)
    local_after = after.astimezone(tz).replace(tzinfo=None)
    found = rule.after(local_after, inc=False)
    if found is None:
        return None
    moment = found.replace(tzinfo=tz)
    if schedule.ends is not None and moment > schedule.ends:
        return None
    return moment


def run_name(campaign: Campaign, due: datetime, tz: ZoneInfo) -> str:
    """The run a due moment starts: ``once`` for a one-off campaign, else the local occurrence."""
    if campaign.schedule is None or campaign.schedule.rrule is None:
        return "once"
    return due.astimezone(tz).strftime("%Y%m%dT%H%M")


def held_out(campaign_id: str, sub: str, percent: int) -> bool:
    """Whether the member is in the campaign's hold-out group: a fixed draw per campaign and member
    (the same in every run, so the groups stay apart), ``percent`` of members on average."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"holdout|{campaign_id}|{sub}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < percent * 100


def first_day(campaign: Campaign, tz: ZoneInfo) -> date | None:
    """The day the campaign first runs (or ran), for the calendar."""
    when = campaign.next_run_at or (campaign.schedule.at if campaign.schedule else None) or campaign.launched_at
    return when.astimezone(tz).date() if when is not None else None
