"""A member's activity: what the next check-in and the next issue of an offer decide on, kept in one
small item beside the member so that neither reads the wallet, whose entries grow with history.

It holds the last check-in (dedup, speed, rate), the offers' issue history (per offer issued to
the member: how many times and the last time; what per-customer limits, cooldowns and the
``<offer_id>#<n>`` key count) and the live wallet keys (issued, not redeemed) with their expiry,
so that a till reads only those entries. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.checkins import Checkin
from chalicelib.domain.wallet import WalletOffer, history_of

#: offer_id -> (times issued to the member, the last time).
History = Mapping[str, tuple[int, datetime]]


@dataclass(frozen=True)
class Activity:
    last_checkin: Checkin | None
    history: History = field(default_factory=dict)
    #: wallet_id -> expires_at of the entries issued and not redeemed (an expired one leaves at the
    #: next check-in).
    live: Mapping[str, datetime] = field(default_factory=dict)


def from_wallet(last_checkin: Checkin | None, held: Iterable[WalletOffer], now: datetime) -> Activity:
    """The activity of a member whose wallet and check-in were kept before the activity item
    existed: the history counts every entry (redeemed and expired too), live are the unexpired
    ones (a redeemed one too: a refund may give it back)."""
    entries = list(held)
    live = {e.wallet_id: e.expires_at for e in entries if e.expires_at > now}
    return Activity(last_checkin, history_of(entries), live)


def live_ids(activity: Activity, now: datetime, offer_ids: Collection[str] | None = None) -> list[str]:
    """The keys of the live entries unexpired at ``now`` (of ``offer_ids`` only, if given)."""
    return sorted(
        wallet_id
        for wallet_id, expires in activity.live.items()
        if expires > now and (offer_ids is None or offer_of(wallet_id) in offer_ids)
    )


def expired_ids(activity: Activity, now: datetime) -> list[str]:
    """The live keys past their expiry: dropped from the item by the next write."""
    return sorted(wallet_id for wallet_id, expires in activity.live.items() if expires <= now)


def offer_of(wallet_id: str) -> str:
    """The offer a wallet key issues (``<offer_id>#<n>``)."""
    return wallet_id.rsplit("#", 1)[0]
