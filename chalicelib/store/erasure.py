"""A member leaving: personal data erased, the books kept, in one transaction."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.members import Member
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.base import transaction
from chalicelib.store.ledger import LedgerEntryModel, new_entry_id
from chalicelib.store.members import ClaimModel, DeviceModel, MemberModel, claim_key, get_member

FORFEIT_REASON = "forfeited_on_leaving"


def erase_member(sub: str, now: datetime) -> Member:
    """Erase the member's personal data and free the phone number.

    The member item and devices go. The card, referral and customer claims stay as retired
    tombstones without the ``sub``, so the numbers are never reissued and the books can still
    name the anonymous ``customer_id``. A remaining balance is forfeited by a ledger entry in the
    same transaction, so the anonymous ledger still sums to the balance (zero).
    """
    member = get_member(sub)
    if member is None:
        raise NotFound("you are not a member of the program", code="not_a_member")
    devices = list(DeviceModel.query(member.customer_id))
    try:
        with transaction() as tx:
            tx.delete(
                MemberModel(sub),
                condition=(MemberModel.customer_id == member.customer_id) & (MemberModel.revision == member.revision),
            )
            tx.delete(ClaimModel(claim_key("phone", member.phone)), condition=ClaimModel.sub == sub)
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
            for device in devices:
                tx.delete(device)
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
    return member
