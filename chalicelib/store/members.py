"""Members, their uniqueness claims and their push devices (see the key design in ``__init__``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.members import Device, Member, ProfileChanges, QuietHours
from chalicelib.domain.points import NEVER
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.base import BaseMeta, condition_failed, failed_items, table_name, transaction
from chalicelib.store.features import new_member_features
from chalicelib.store.referrals import Referral, write_joined
from chalicelib.store.wallet import activity_item

MAX_DEVICES_PER_MEMBER = 10


class CodeTaken(Conflict):
    """A generated card number or referral code collided with an existing one: draw again."""

    code = "code_taken"

    def __init__(self, kind: str) -> None:
        super().__init__(f"the generated {kind} is taken")
        self.kind = kind


class ExpiryIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members with points expiring in a month (``YYYY-MM``), by date: the expiry job's query."""

    class Meta:
        index_name = "by_expiry"
        projection = KeysOnlyProjection()

    expiry_month = UnicodeAttribute(hash_key=True)
    expiry_due = UnicodeAttribute(range_key=True)


class TierReviewIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members whose tier is due a review in a month (``YYYY-MM``), by date: the review job's query."""

    class Meta:
        index_name = "by_tier_review"
        projection = KeysOnlyProjection()

    review_month = UnicodeAttribute(hash_key=True)
    tier_review_due = UnicodeAttribute(range_key=True)


class BirthdayIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members by the month and day of their birthday (``MM-DD``): the birthdays job's query."""

    class Meta:
        index_name = "by_birthday"
        projection = KeysOnlyProjection()

    birthday_md = UnicodeAttribute(hash_key=True)


class MemberModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("members")
        #: Every change of a member flows to the members' columnar snapshot (segments, audiences)
        #: and to the CRM's webhooks (a tier change is the two images' difference).
        stream_view_type = "NEW_AND_OLD_IMAGES"

    sub = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    birthday = UnicodeAttribute()
    card_number = UnicodeAttribute()
    referral_code = UnicodeAttribute()
    referred_by = UnicodeAttribute(null=True)
    joined_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    marketing_consent = BooleanAttribute()
    consent_updated_at = UTCDateTimeAttribute()
    timezone = UnicodeAttribute()
    tier = UnicodeAttribute()
    points_balance = NumberAttribute(default=0)
    home_store_id = UnicodeAttribute(null=True)
    quiet_start = UnicodeAttribute(null=True)
    quiet_end = UnicodeAttribute(null=True)
    interests = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]  # stored as str
    visits_total = NumberAttribute(default=0)
    spend_total_minor = NumberAttribute(default=0)
    last_visit_at = UTCDateTimeAttribute(null=True)
    monthly = JSONAttribute(null=True)
    revision = NumberAttribute(default=0)
    points_debt = NumberAttribute(default=0)
    lots = JSONAttribute(null=True)
    #: The next date points expire, split for the ``by_expiry`` index (absent: nothing expires).
    expiry_month = UnicodeAttribute(null=True)
    expiry_due = UnicodeAttribute(null=True)
    by_expiry = ExpiryIndex()
    category_counts = JSONAttribute(null=True)
    review_month = UnicodeAttribute(null=True)
    tier_review_due = UnicodeAttribute(null=True)
    tier_grace_until = UnicodeAttribute(null=True)
    by_tier_review = TierReviewIndex()
    #: ``MM-DD`` of the birthday, for the ``by_birthday`` index (written at join; members from
    #: before it get it from ``tables.backfill``).
    birthday_md = UnicodeAttribute(null=True)
    by_birthday = BirthdayIndex()


class ClaimModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("claims")

    claim = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    sub = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    retired_at = UTCDateTimeAttribute(null=True)


class DeviceTokenIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_token"
        projection = KeysOnlyProjection()

    token = UnicodeAttribute(hash_key=True)


class DeviceModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("devices")

    customer_id = UnicodeAttribute(hash_key=True)
    token = UnicodeAttribute(range_key=True)
    platform = UnicodeAttribute()
    registered_at = UTCDateTimeAttribute()
    by_token = DeviceTokenIndex()


def claim_key(kind: str, value: str) -> str:
    return f"{kind}#{value}"


def to_member(item: MemberModel) -> Member:
    quiet = (
        QuietHours(start=item.quiet_start, end=item.quiet_end)
        if item.quiet_start is not None and item.quiet_end is not None
        else None
    )
    return Member(
        customer_id=item.customer_id,
        sub=item.sub,
        name=item.name,
        phone=item.phone,
        birthday=date.fromisoformat(item.birthday),
        card_number=item.card_number,
        referral_code=item.referral_code,
        referred_by=item.referred_by,
        joined_at=item.joined_at,
        updated_at=item.updated_at,
        marketing_consent=item.marketing_consent,
        consent_updated_at=item.consent_updated_at,
        timezone=item.timezone,
        tier=item.tier,
        points_balance=int(item.points_balance),
        home_store_id=item.home_store_id,
        quiet_hours=quiet,
        interests=tuple(item.interests or ()),
        visits_total=int(item.visits_total),
        spend_total_minor=int(item.spend_total_minor),
        last_visit_at=item.last_visit_at,
        monthly={k: (int(v[0]), int(v[1])) for k, v in (item.monthly or {}).items()},
        revision=int(item.revision),
        points_debt=int(item.points_debt),
        lots=_lots(item),
        expiry_due=item.expiry_due,
        tier_review_due=item.tier_review_due,
        tier_grace_until=item.tier_grace_until,
        category_counts={str(k): int(v) for k, v in (item.category_counts or {}).items()},
    )


def _lots(item: MemberModel) -> tuple[tuple[str, int], ...]:
    """The member's lots; points from before lots were kept (a balance without them) become a
    lot that never expires, so the balance is always the sum of the lots."""
    lots = [(str(day), int(n)) for day, n in (item.lots or [])]
    untracked = int(item.points_balance) - sum(n for _, n in lots)
    if untracked > 0:
        lots = sorted([*lots, (NEVER, untracked)])
    return tuple(lots)


def _to_item(member: Member) -> MemberModel:
    return MemberModel(
        member.sub,
        customer_id=member.customer_id,
        name=member.name,
        phone=member.phone,
        birthday=member.birthday.isoformat(),
        card_number=member.card_number,
        referral_code=member.referral_code,
        referred_by=member.referred_by,
        joined_at=member.joined_at,
        updated_at=member.updated_at,
        marketing_consent=member.marketing_consent,
        consent_updated_at=member.consent_updated_at,
        timezone=member.timezone,
        tier=member.tier,
        points_balance=member.points_balance,
        home_store_id=member.home_store_id,
        quiet_start=member.quiet_hours.start if member.quiet_hours else None,
        quiet_end=member.quiet_hours.end if member.quiet_hours else None,
        interests=list(member.interests) or None,
        visits_total=member.visits_total,
        spend_total_minor=member.spend_total_minor,
        last_visit_at=member.last_visit_at,
        monthly={k: list(v) for k, v in member.monthly.items()} or None,
        revision=member.revision,
        points_debt=member.points_debt,
        lots=[list(lot) for lot in member.lots] or None,
        expiry_month=member.expiry_due[:7] if member.expiry_due else None,
        expiry_due=member.expiry_due,
        birthday_md=member.birthday.strftime("%m-%d"),
    )


class ReferralCapReached(Exception):
    """The referral code has brought as many friends as the program allows."""


def create_member(
    member: Member, touch_due: date | None = None, referral: Referral | None = None, max_friends: int = 0
) -> None:
    """Write the member and all its uniqueness claims in one transaction (with ``referral``: the
    referral record and the referrer's friend count, capped at ``max_friends``).

    Raises ``Conflict(already_member)`` if this ``sub`` has joined, ``Conflict(phone_taken)`` if
    the phone belongs to another member, :class:`CodeTaken` if a generated code collided,
    :class:`ReferralCapReached` if the code is past its cap.
    """
    claims = [
        ("phone", member.phone),
        ("card", member.card_number),
        ("referral", member.referral_code),
        ("customer", member.customer_id),
    ]
    try:
        with transaction() as tx:
            tx.save(_to_item(member), condition=MemberModel.sub.does_not_exist())
            for kind, value in claims:
                tx.save(
                    ClaimModel(
                        claim_key(kind, value),
                        customer_id=member.customer_id,
                        sub=member.sub,
                        created_at=member.joined_at,
                    ),
                    condition=ClaimModel.claim.does_not_exist(),
                )
            # Last, so the failed items' indexes above keep naming the member and its claims. A
            # new member's check-ins then never look for records from before this item.
            tx.save(activity_item(member.sub, member.customer_id))
            # Their marketing features start with the day the monthly minimum is due.
            tx.save(new_member_features(member.sub, touch_due, member.joined_at))
            if referral is not None:
                write_joined(tx, referral, max_friends)
    except TransactWriteError as error:
        failed = failed_items(error)
        if not failed:
            raise Conflict("another request for this member is in progress; try again", code="try_again") from error
        if referral is not None and failed == [len(claims) + 4]:
            raise ReferralCapReached(referral.referrer) from error
        if 0 in failed:
            raise Conflict("this account has already joined the program", code="already_member") from error
        kind = claims[failed[0] - 1][0]
        if kind == "phone":
            raise Conflict("this phone number belongs to another member", code="phone_taken") from error
        raise CodeTaken(kind) from error


def member_from_image(image: Mapping[str, Any]) -> Member:
    """A member from a stream record's image (DynamoDB's typed JSON)."""
    return to_member(MemberModel.from_raw_data(dict(image)))


def get_member(sub: str) -> Member | None:
    try:
        return to_member(MemberModel.get(sub, consistent_read=True))
    except MemberModel.DoesNotExist:
        return None


def get_members(subs: list[str]) -> list[Member]:
    """BatchGetItem: the members found (those who left are not)."""
    return [to_member(item) for item in MemberModel.batch_get(list(dict.fromkeys(subs)))] if subs else []


def find_claim(kind: str, value: str) -> tuple[str, str] | None:
    """``(sub, customer_id)`` of the active member holding this claim, or None."""
    try:
        claim = ClaimModel.get(claim_key(kind, value))
    except ClaimModel.DoesNotExist:
        return None
    if claim.status != "active" or claim.sub is None:
        return None
    return claim.sub, claim.customer_id


def member_by_claim(kind: str, value: str) -> Member | None:
    found = find_claim(kind, value)
    return get_member(found[0]) if found else None


def update_profile(sub: str, changes: ProfileChanges, now: datetime) -> Member:
    actions: list[Any] = [MemberModel.updated_at.set(now)]
    if changes.name is not None:
        actions.append(MemberModel.name.set(changes.name))
    if changes.marketing_consent is not None:
        actions.append(MemberModel.marketing_consent.set(changes.marketing_consent))
        actions.append(MemberModel.consent_updated_at.set(now))
    if changes.timezone is not None:
        actions.append(MemberModel.timezone.set(changes.timezone))
    if changes.quiet_hours is not None:
        actions.append(MemberModel.quiet_start.set(changes.quiet_hours.start))
        actions.append(MemberModel.quiet_end.set(changes.quiet_hours.end))
    elif changes.clear_quiet_hours:
        actions.append(MemberModel.quiet_start.remove())
        actions.append(MemberModel.quiet_end.remove())
    if changes.interests is not None:
        actions.append(
            MemberModel.interests.set(list(changes.interests)) if changes.interests else MemberModel.interests.remove()
        )
    if changes.home_store_id is not None:
        actions.append(MemberModel.home_store_id.set(changes.home_store_id))
    elif changes.clear_home_store_id:
        actions.append(MemberModel.home_store_id.remove())
    item = MemberModel(sub)
    try:
        item.update(actions=actions, condition=MemberModel.sub.exists())
    except UpdateError as error:
        if condition_failed(error):
            raise NotFound("you are not a member of the program", code="not_a_member") from error
        raise
    return to_member(item)


def device_owners(token: str) -> set[str]:
    """The ``customer_id`` of every member a push token is registered to (the ``by_token`` index)."""
    return {d.customer_id for d in DeviceModel.by_token.query(token)}


def devices_of(customer_id: str) -> list[Device]:
    return [
        Device(token=d.token, platform=d.platform, registered_at=d.registered_at)
        for d in DeviceModel.query(customer_id)
    ]


def register_device(customer_id: str, token: str, platform: str, now: datetime) -> Device:
    """Add a push token; it moves from another member if it was theirs, and the oldest of this
    member's devices makes room when they already have the maximum."""
    mine = sorted(DeviceModel.query(customer_id), key=lambda d: d.registered_at)
    elsewhere = [d for d in DeviceModel.by_token.query(token) if d.customer_id != customer_id]
    others = [d for d in mine if d.token != token]
    evicted = others[: max(0, len(others) - (MAX_DEVICES_PER_MEMBER - 1))]
    device = DeviceModel(customer_id, token, platform=platform, registered_at=now)
    try:
        with transaction() as tx:
            tx.save(device)
            for stale in [*elsewhere, *evicted]:
                tx.delete(DeviceModel(stale.customer_id, stale.token))
    except TransactWriteError as error:
        raise Conflict("the device list changed meanwhile; try again", code="try_again") from error
    return Device(token=token, platform=platform, registered_at=now)


def remove_device(customer_id: str, token: str) -> None:
    try:
        DeviceModel(customer_id, token).delete(condition=DeviceModel.token.exists())
    except DeleteError as error:
        if condition_failed(error):
            raise NotFound("no such device", code="device_not_found") from error
        raise


def subs_with_points_expiring(month: str, through: str) -> list[str]:
    """Members whose next expiry falls in ``month`` (``YYYY-MM``) on or before ``through``."""
    return [item.sub for item in MemberModel.by_expiry.query(month, MemberModel.expiry_due <= through)]


def subs_with_points_expiring_on(day: str) -> list[str]:
    """Members whose next points expire on ``day`` (``YYYY-MM-DD``)."""
    return [item.sub for item in MemberModel.by_expiry.query(day[:7], MemberModel.expiry_due == day)]


def subs_due_tier_review(month: str, through: str) -> list[str]:
    """Members whose tier review falls in ``month`` (``YYYY-MM``) on or before ``through``."""
    return [item.sub for item in MemberModel.by_tier_review.query(month, MemberModel.tier_review_due <= through)]


def subs_born_on(month_day: str) -> list[str]:
    """Every member whose birthday is on ``MM-DD`` (any year), through the ``by_birthday`` index."""
    return [item.sub for item in MemberModel.by_birthday.query(month_day)]


def backfill_birthday_index() -> int:
    """Give ``birthday_md`` to members written before the index existed; returns how many. A scan,
    once, when the index is added (``tables.create_missing_tables``), never on a request or a job."""
    done = 0
    for item in MemberModel.scan(MemberModel.birthday_md.does_not_exist()):
        try:
            item.update(
                actions=[MemberModel.birthday_md.set(date.fromisoformat(item.birthday).strftime("%m-%d"))],
                condition=MemberModel.sub.exists(),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise
            continue  # the member left meanwhile
        done += 1
    return done
