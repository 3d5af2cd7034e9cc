"""What the store holds about a member, table by table: what the export shows, what leaving erases
and what is kept, anonymised, for the books.

``POLICIES`` is the one place that decides, per declared table, and a test holds it to
``tables.declared()``: a new table without a policy fails the build. Once the member item and the
phone claim are gone, nothing links the random ``customer_id`` the kept tables use to a person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model

from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.members import Device, Member
from chalicelib.domain.purchase_record import RecordedPurchase
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import ledger, wallet
from chalicelib.store.activity import activity
from chalicelib.store.base import transaction
from chalicelib.store.campaigns import CampaignModel
from chalicelib.store.catalog import CatalogItem
from chalicelib.store.compensations import CompensationModel
from chalicelib.store.counters import CounterModel
from chalicelib.store.features import FeaturesModel, delete_features
from chalicelib.store.feedback import FeedbackModel
from chalicelib.store.ledger import IdempotencyModel, LedgerEntryModel, PurchaseModel, new_entry_id
from chalicelib.store.members import ClaimModel, DeviceModel, MemberModel, claim_key, devices_of, get_member
from chalicelib.store.push import DeadLetterModel
from chalicelib.store.referrals import ReferralModel
from chalicelib.store.wallet import ActivityModel, Checkin, CheckinModel, InboxModel, Message, WalletModel, WalletOffer
from chalicelib.store.webhooks import DeliveryModel

FORFEIT_REASON = "forfeited_on_leaving"
#: A claim that says an erasure started and may not have finished (see ``erase_member``).
ERASING = "erasing"
#: Ledger and inbox pages read for an export.
EXPORT_PAGE = 200


class Retention(Enum):
    #: Deleted when the member leaves.
    ERASE = "erase"
    #: Kept for the books under the random ``customer_id`` only.
    KEEP_ANONYMISED = "keep_anonymised"
    #: Short-lived records that DynamoDB's TTL deletes.
    EXPIRES = "expires"
    #: Holds nothing about members.
    NOTHING_PERSONAL = "nothing_personal"


@dataclass(frozen=True)
class Policy:
    retention: Retention
    why: str
    #: The section of ``GET /v1/me/export`` that shows what the table holds about the member.
    export: str | None = None


POLICIES: dict[type[Model], Policy] = {
    MemberModel: Policy(Retention.ERASE, "the profile: name, phone, birthday, consent, balance", "profile"),
    ClaimModel: Policy(
        Retention.KEEP_ANONYMISED,
        "the phone claim is deleted (the number is free again); card, referral and customer claims stay "
        "as retired tombstones without the sub, so a number is never issued twice",
        "identifiers",
    ),
    DeviceModel: Policy(Retention.ERASE, "push tokens", "devices"),
    ActivityModel: Policy(
        Retention.ERASE,
        "the last check-in (where: coordinates, which store, when), which offers were issued when, "
        "and which wallet entries are live",
        "last_checkin",
    ),
    CheckinModel: Policy(
        Retention.ERASE, "the last check-in as kept before the activity item (members from before it)", "last_checkin"
    ),
    WalletModel: Policy(Retention.ERASE, "offers issued to the member (a redemption stays on its purchase)", "wallet"),
    InboxModel: Policy(Retention.ERASE, "every message sent to the member", "inbox"),
    FeaturesModel: Policy(
        Retention.ERASE,
        "marketing features by sub: segments, when messages reached the member and under which keys, "
        "the predicted next visit",
        "marketing",
    ),
    LedgerEntryModel: Policy(
        Retention.KEEP_ANONYMISED,
        "points are money: the balance is the sum of the ledger, and merchants settle from it; "
        "a remaining balance is forfeited by one more entry",
        "ledger",
    ),
    PurchaseModel: Policy(
        Retention.KEEP_ANONYMISED, "what a merchant sold and refunded, for settlement and refunds", "purchases"
    ),
    IdempotencyModel: Policy(
        Retention.EXPIRES,
        "the first answer to a till's or a job's request, kept 24 hours to replay retries; the keys are "
        "scoped by the caller, not indexed by member",
    ),
    CounterModel: Policy(
        Retention.EXPIRES,
        "report totals per merchant and day and campaign funnels hold no member; dedup markers name the "
        "customer_id for 3 days, a campaign's conversion markers the sub for 120 days (no name, no purchase)",
    ),
    ReferralModel: Policy(
        Retention.KEEP_ANONYMISED,
        "who brought whom, by random customer_id only (no sub, no name), for the rewards it gave (on the "
        "ledger) and the referrer's counts",
        "referrals",
    ),
    FeedbackModel: Policy(
        Retention.ERASE, "what the member told us (ratings, texts, answers) and the team's replies", "feedback"
    ),
    CompensationModel: Policy(
        Retention.KEEP_ANONYMISED,
        "amends asked for and granted, under the random customer_id (the points are on the ledger): who granted "
        "them and why, for the books and the staff's limits",
        "compensations",
    ),
    DeliveryModel: Policy(
        Retention.EXPIRES,
        "what the CRM's webhooks were sent: event ids, the random customer_id and amounts, never a name, "
        "phone or token; 30 days, then TTL",
    ),
    CampaignModel: Policy(Retention.NOTHING_PERSONAL, "campaigns: their message, audience definition and runs"),
    CatalogItem: Policy(Retention.NOTHING_PERSONAL, "program, merchants, stores, beacons, staff, offers"),
    DeadLetterModel: Policy(
        Retention.EXPIRES,
        "a push that failed: the random customer_id, the message id and FCM's error code, never a token "
        "or the text; 30 days, then TTL (after leaving, the message it names is gone)",
    ),
}


def _hash_key(model: type[Model]) -> str:
    return next(name for name, attribute in model.get_attributes().items() if attribute.is_hash_key)


#: Erased tables keyed by the member's ``customer_id``: swept item by item, in batches, because
#: a member may have more wallet offers and messages than a transaction's 100 items.
SWEPT: tuple[type[Model], ...] = tuple(
    model
    for model, policy in POLICIES.items()
    if policy.retention is Retention.ERASE and _hash_key(model) == "customer_id"
)


@dataclass(frozen=True)
class HeldAbout:
    """Everything the per-member tables hold about one member (the profile and claims aside)."""

    devices: list[Device]
    last_checkin: Checkin | None
    wallet: list[WalletOffer]
    inbox: list[Message]
    ledger: list[LedgerEntry]
    purchases: list[RecordedPurchase]


def held_about(customer_id: str, sub: str | None = None) -> HeldAbout:
    """All of it, by key: purchases are found through the member's ledger (every purchase writes
    an entry naming it, in the same transaction), so no index on ``purchases`` is needed. The
    last check-in is the activity item's (by ``sub``), or the old item's for a member from before."""
    entries = list(_ledger(customer_id))
    purchase_ids = list(dict.fromkeys(e.purchase_id for e in entries if e.purchase_id))
    purchases = sorted(
        (ledger.recorded_purchase(p.body) for p in PurchaseModel.batch_get(purchase_ids)),
        key=lambda p: p.at,
        reverse=True,
    )
    return HeldAbout(
        devices=devices_of(customer_id),
        last_checkin=_last_checkin(customer_id, sub),
        wallet=sorted(wallet.wallet(customer_id), key=lambda w: w.issued_at, reverse=True),
        inbox=list(_inbox(customer_id)),
        ledger=entries,
        purchases=purchases,
    )


def _last_checkin(customer_id: str, sub: str | None) -> Checkin | None:
    kept = activity(sub) if sub is not None else None
    return kept.last_checkin if kept is not None else wallet.last_checkin(customer_id)


def _ledger(customer_id: str) -> Iterator[LedgerEntry]:
    cursor = None
    while True:
        page, cursor = ledger.entries(customer_id, EXPORT_PAGE, cursor)
        yield from page
        if cursor is None:
            return


def _inbox(customer_id: str) -> Iterator[Message]:
    before = None
    while True:
        page = wallet.inbox(customer_id, EXPORT_PAGE, before)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        before = page[-1].message_id


def erase_member(sub: str, now: datetime) -> None:
    """Erase the member's personal data and free the phone number; safe to run again.

    The per-member tables are swept before the transaction (it holds at most 100 items), then one
    transaction deletes the member, its marketing features and the phone claim, retires the other
    claims, forfeits a remaining balance on the ledger (so the anonymous ledger still sums to the
    balance, zero) and records that an erasure is under way, then a second sweep removes anything
    written meanwhile (a check-in that read the member just before). If the process stops after the transaction, the
    member is gone but the ``erasing`` claim (keyed by a hash of the sub, never the sub itself)
    lets ``DELETE /v1/me`` again find the ``customer_id`` and finish.
    """
    member = get_member(sub)
    if member is None:
        customer_id = _erasure_under_way(sub)
        if customer_id is None:
            raise NotFound("you are not a member of the program", code="not_a_member")
        sweep(customer_id)
        delete_features(sub)
        _erasure_done(sub)
        return
    sweep(member.customer_id)
    _forget_member(member, now)
    sweep(member.customer_id)
    # Keyed by sub, the features go with the member in its transaction; a job's write racing
    # the leaving (a segment run conditions on nothing) is deleted here, or else expires.
    delete_features(sub)
    _erasure_done(sub)


def sweep(customer_id: str) -> int:
    """Delete every item of the erased per-member tables; returns how many there were."""
    deleted = 0
    for model in SWEPT:
        with model.batch_write() as batch:
            for item in model.query(customer_id):
                batch.delete(item)
                deleted += 1
    # Feedback is keyed by its own id: found through its by_customer index.
    with FeedbackModel.batch_write() as batch:
        for found in FeedbackModel.by_customer.query(customer_id):
            batch.delete(FeedbackModel(found.feedback_id))
            deleted += 1
    return deleted


def _forget_member(member: Member, now: datetime) -> None:
    sub = member.sub
    try:
        with transaction() as tx:
            tx.delete(
                MemberModel(sub),
                condition=(MemberModel.customer_id == member.customer_id) & (MemberModel.revision == member.revision),
            )
            tx.delete(ClaimModel(claim_key("phone", member.phone)), condition=ClaimModel.sub == sub)
            # Keyed by the sub, not swept by customer_id: deleted with the member (a check-in is
            # conditioned on the member, so none writes it again after this).
            tx.delete(ActivityModel(sub))
            for kind, value in (
                ("card", member.card_number),
                ("referral", member.referral_code),
                ("customer", member.customer_id),
            ):
                tx.update(
                    ClaimModel(claim_key(kind, value)),
                    actions=[ClaimModel.status.set("retired"), ClaimModel.sub.remove(), ClaimModel.retired_at.set(now)],
                    condition=ClaimModel.sub == sub,
                )
            tx.save(
                ClaimModel(_erasing_key(sub), customer_id=member.customer_id, status=ERASING, created_at=now),
            )
            tx.delete(FeaturesModel(sub))
            if member.points_balance:
                tx.save(
                    LedgerEntryModel(
                        member.customer_id,
                        new_entry_id(member.revision + 1, 0, now),
                        at=now,
                        points=-member.points_balance,
                        reason=FORFEIT_REASON,
                        balance_after=0,
                    ),
                    condition=LedgerEntryModel.entry_id.does_not_exist(),
                )
    except TransactWriteError as error:
        raise Conflict("the membership changed while leaving; try again", code="try_again") from error


def _erasing_key(sub: str) -> str:
    return claim_key(ERASING, hashlib.sha256(sub.encode()).hexdigest())


def _erasure_under_way(sub: str) -> str | None:
    try:
        return str(ClaimModel.get(_erasing_key(sub), consistent_read=True).customer_id)
    except ClaimModel.DoesNotExist:
        return None


def _erasure_done(sub: str) -> None:
    ClaimModel(_erasing_key(sub)).delete()
