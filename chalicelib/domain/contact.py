"""The contact policy: whether a message may reach a member now, later, or not at all.

Pure: the member (consent, quiet hours in their time zone), their marketing features (last
contacts, the marketing sent within the frequency window, the keys already sent) and the moment
come in; a decision comes out. A transactional message (a receipt, amends) is the answer to
something the member did, so only "is a member" and "not twice for one key" hold it back; a
marketing message also needs consent, stays within the frequency cap and waits out quiet hours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from chalicelib.domain.changes import Notice
from chalicelib.domain.features import Features
from chalicelib.domain.members import Member, QuietHours
from chalicelib.domain.offers import Offer
from chalicelib.domain.program import ContactPolicy
from chalicelib.domain.wallet import WalletOffer


class Purpose(Enum):
    #: The answer to what the member is doing right now (amends handed over at the till): no
    #: consent needed, no cap, and no waiting for the morning.
    TRANSACTIONAL = "transactional"
    #: About their account (a receipt, points earned or about to expire, a tier change): no consent
    #: needed and not capped, but a push in quiet hours waits for their end.
    SERVICE = "service"
    #: Something we want to tell them: consent, the weekly cap and quiet hours apply.
    MARKETING = "marketing"


#: Every kind of message, and what it is for. A kind not listed here cannot be sent, so a new
#: one has to be classified before its first message.
KINDS: dict[str, Purpose] = {
    "amends": Purpose.TRANSACTIONAL,
    "receipt": Purpose.SERVICE,
    "points_earned": Purpose.SERVICE,
    "points_expiring": Purpose.SERVICE,
    "tier_change": Purpose.SERVICE,
    # A friend's purchase rewarded (or a reward taken back), the team's answer to feedback.
    "referral": Purpose.SERVICE,
    "feedback_reply": Purpose.SERVICE,
    "review_thanks": Purpose.SERVICE,
    "birthday": Purpose.MARKETING,
    "surprise": Purpose.MARKETING,
    "reminder": Purpose.MARKETING,
    "winback": Purpose.MARKETING,
    "keep_in_touch": Purpose.MARKETING,
    "campaign": Purpose.MARKETING,
}

#: The window the weekly cap counts over: rolling, not per calendar week, so Sunday night and
#: Monday morning are not two weeks.
FREQUENCY_WINDOW = timedelta(days=7)
#: How long a contact key is remembered: longer than a year, so ``birthday#<year>`` holds for its year.
KEY_MEMORY = timedelta(days=400)

NOT_A_MEMBER = "not_a_member"
NO_CONSENT = "no_marketing_consent"
FREQUENCY_CAP = "frequency_cap"
ALREADY_CONTACTED = "already_contacted"


@dataclass(frozen=True)
class Allowed:
    purpose: Purpose
    #: The push waits until then (the end of the member's quiet hours); the message itself is
    #: written to the inbox now. None: push at once.
    push_after: datetime | None = None


@dataclass(frozen=True)
class Refused:
    reason: str


Decision = Allowed | Refused


@dataclass(frozen=True)
class Contact:
    """A message the policy let through, as the caller's member change commits it: the inbox
    message, the member's features after it (their ``revision`` is the one the decision read),
    whether it is marketing (then the commit also requires the member's consent to still hold) and
    when its push may go. Its offers are written like any change's ``issue_offers``: one the store
    refuses is left out."""

    key: str
    notice: Notice
    features: Features
    purpose: Purpose
    #: The offer the message brings, into the wallet with its own inbox message and budget.
    offers: tuple[tuple[Offer, WalletOffer], ...] = ()
    push_after: datetime | None = None

    @property
    def marketing(self) -> bool:
        return self.purpose is Purpose.MARKETING


def campaign_key(campaign_id: str, run: str = "once") -> str:
    """A campaign's run reaches a member once (``run``: ``once``, or a recurrence's occurrence)."""
    return f"campaign#{campaign_id}#{run}"


def birthday_key(year: int) -> str:
    """One birthday greeting per member and year."""
    return f"birthday#{year}"


def purpose_of(kind: str) -> Purpose:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown message kind {kind!r}: classify it in contact.KINDS") from None


def decide(
    member: Member | None, features: Features, kind: str, key: str, now: datetime, policy: ContactPolicy
) -> Decision:
    """May a message of ``kind``, sent once per ``key``, reach ``member`` at ``now`` under the
    program's contact ``policy``? ``member`` None is someone who left (or never joined). Quiet
    hours never refuse: the message is written now and its push waits for their end."""
    purpose = purpose_of(kind)
    if member is not None and features.sub != member.sub:
        raise ValueError("the features are another member's")
    if member is None or now < member.joined_at:
        return Refused(NOT_A_MEMBER)
    sent_at = features.keys.get(key)
    if sent_at is not None and sent_at > now - KEY_MEMORY:
        return Refused(ALREADY_CONTACTED)
    if purpose is Purpose.TRANSACTIONAL:
        return Allowed(purpose)
    if purpose is Purpose.MARKETING:
        if not member.marketing_consent:
            return Refused(NO_CONSENT)
        if features.marketing_since(now - FREQUENCY_WINDOW) >= policy.marketing_per_week:
            return Refused(FREQUENCY_CAP)
    quiet = member.quiet_hours or QuietHours(policy.quiet_start, policy.quiet_end)
    return Allowed(purpose, quiet_hours_end(quiet, ZoneInfo(member.timezone), now))


def in_quiet_hours(quiet: QuietHours, zone: ZoneInfo, at: datetime) -> bool:
    """Quiet hours are local wall-clock times and may wrap past midnight; equal start and end
    mean none."""
    start, end = time.fromisoformat(quiet.start), time.fromisoformat(quiet.end)
    wall = at.astimezone(zone).time().replace(tzinfo=None)
    return start <= wall < end if start <= end else (wall >= start or wall < end)


def quiet_hours_end(quiet: QuietHours, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When the quiet hours ``now`` falls in end (None: ``now`` is not in them)."""
    if not in_quiet_hours(quiet, zone, now):
        return None
    end = time.fromisoformat(quiet.end)
    day = now.astimezone(zone).date()
    while True:
        # The next wall-clock ``end`` after now. On a day the clocks skip over ``end`` it names
        # a moment after the gap, which odd hours may still count as quiet: then the next day's.
        candidate = datetime.combine(day, end, tzinfo=zone)
        if candidate > now and not in_quiet_hours(quiet, zone, candidate):
            return candidate
        day += timedelta(days=1)


#: Kinds that do not count as hearing something useful from the program: a receipt answers a
#: purchase, amends answer a complaint; neither keeps a member in touch.
NOT_KEEPING_IN_TOUCH = frozenset({"receipt", "amends"})


def recorded(
    features: Features, kind: str, key: str, now: datetime, keep_in_touch_after: timedelta | None = None
) -> Features:
    """The features after a message of ``kind`` under ``key`` reached the member at ``now``;
    what no rule will read again (marketing sent before the window, keys older than their
    memory) is dropped, so the item does not grow with the member's history. A useful message
    moves the member's keep-in-touch day ``keep_in_touch_after`` on (None: the minimum is off)."""
    marketing = purpose_of(kind) is Purpose.MARKETING
    window_start = now - FREQUENCY_WINDOW
    sent = tuple(at for at in features.marketing_sent if at > window_start) + ((now,) if marketing else ())
    keys = {k: at for k, at in features.keys.items() if at > now - KEY_MEMORY}
    keys[key] = now
    touch_due = features.touch_due
    if kind not in NOT_KEEPING_IN_TOUCH:
        touch_due = (now + keep_in_touch_after).date() if keep_in_touch_after else None
    return dataclasses.replace(
        features,
        last_contact={**features.last_contact, kind: now},
        marketing_sent=sent,
        keys=keys,
        touch_due=touch_due,
        updated_at=now,
    )


def keep_in_touch_after(policy: ContactPolicy) -> timedelta | None:
    return timedelta(days=policy.keep_in_touch_after_days) if policy.keep_in_touch_after_days else None
