"""Idempotency keys: the same key and body replay the first response; another body is a 409."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import metrics
from chalicelib.domain.errors import DomainRefusal
from chalicelib.errors import BadRequest, Conflict, LoyaltyError
from chalicelib.services import repositories
from chalicelib.services.skipped_offers import Skipped, without_offers
from chalicelib.store import ledger
from chalicelib.store import wallet as wallet_store

MAX_KEY_LENGTH = 255
#: Attempts when another transaction on the same member wins the race (jittered backoff between).
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 0.01
BACKOFF_CAP_S = 0.2


@dataclass(frozen=True)
class Outcome:
    """A response that is saved under its idempotency key and may be served again."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def scoped_key(caller_sub: str, operation: str, key: str | None) -> str:
    """The stored key: one caller's keys never collide with another's (as Stripe scopes them)."""
    if key is None or not key.strip():
        raise BadRequest(
            "this request moves points: send an Idempotency-Key header (a UUID per intended operation)",
            code="idempotency_key_required",
            field="Idempotency-Key",
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"the Idempotency-Key must be printable and at most {MAX_KEY_LENGTH} characters",
            code="invalid_idempotency_key",
            field="Idempotency-Key",
        )
    return f"{caller_sub}|{operation}|{key}"


def request_hash(body: Any) -> str:
    """The request's fingerprint, independent of key order and white space."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(key: str, fingerprint: str) -> Outcome | None:
    """The saved outcome of ``key``, if any; 409 if it was saved for a different request."""
    stored = repositories.changes().stored_response(key)
    if stored is None:
        return None
    if stored.request_hash != fingerprint:
        raise Conflict("this Idempotency-Key was used for a different request", code="idempotency_key_reused")
    return Outcome(stored.status, stored.body, replayed=True)


def exactly_once(
    key: str,
    fingerprint: str,
    prepare: Callable[[], ledger.MemberChange],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Read, decide and commit a member change once per key.

    ``prepare`` reads the current state and builds the change (with its response); the commit
    is one transaction conditioned on what was read. A lost race re-reads and retries with
    jittered backoff; a key that committed meanwhile replays its response. An offer the change
    would issue never blocks it: refused by the store, the change commits without it.
    """
    skipped = Skipped()
    attempt = 0
    while attempt < MAX_ATTEMPTS:
        try:
            change = without_offers(prepare(), skipped.offer_ids)
        except (LoyaltyError, DomainRefusal):
            # A retry whose first attempt succeeded must get that answer, even if the state it
            # changed would now refuse the same request (the points it redeemed are spent).
            earlier = replay(key, fingerprint)
            if earlier is not None:
                return earlier
            raise
        try:
            repositories.changes().apply(change)
        except wallet_store.OffersRefused as refusal:
            # Not a lost race on the member: decide again at once, without these offers.
            skipped.add(refusal)
            continue
        except ledger.KeyAlreadyUsed:
            earlier = replay(key, fingerprint)
            if earlier is not None:
                return earlier
        except ledger.StaleRead:
            pass
        else:
            _count(change)
            return Outcome(change.response_status, change.response)
        attempt += 1
        sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))  # noqa: S311 - jitter
    raise Conflict("the card is busy with another transaction; try again", code="card_busy", retryable=True)


def _count(change: ledger.MemberChange) -> None:
    """A committed change's figures (``chalicelib/metrics.py``)."""
    postings = change.points.postings if change.points is not None else ()
    metrics.count(metrics.PURCHASES, 1 if change.purchase is not None else 0)
    metrics.count(metrics.POINTS_ISSUED, sum(p.points for p in postings if p.points > 0))
    metrics.count(metrics.POINTS_DEBITED, -sum(p.points for p in postings if p.points < 0))
    metrics.count(metrics.OFFERS_ISSUED, len(change.offers_issued()))
