"""Per-member marketing features, beside the member (see ``domain/features.py`` for why).

``features`` (hash ``sub``, TTL ``expires_at``): one item per member, keyed like the member item
but never read, written or conditioned on by a till's transaction. The segment run and the visit
predictor write their parts with targeted updates that leave the rest (and the contact
``revision``) alone; a message's contact is written inside its member change (``ledger.apply``)
conditioned on the revision its decision read. Every write pushes ``expires_at`` forward by
``contact.KEY_MEMORY``: leaving deletes the item, and one a racing job wrote back after the
erasure (a job never conditions on the member) holds no more than segments and then expires.
"""

from __future__ import annotations

from datetime import date, datetime

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.contact import KEY_MEMORY
from chalicelib.domain.features import Features, Prediction
from chalicelib.store.base import BaseMeta, OwnedWrite, condition_failed, table_name


class TouchDueIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members due a keep-in-touch message on a day (``YYYY-MM-DD``): the monthly minimum's query."""

    class Meta:
        index_name = "by_touch_due"
        projection = KeysOnlyProjection()

    touch_due = UnicodeAttribute(hash_key=True)


class NextVisitIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members predicted back on a day (``YYYY-MM-DD``): reminders before it, win-back after it."""

    class Meta:
        index_name = "by_next_visit"
        projection = KeysOnlyProjection()

    next_visit_day = UnicodeAttribute(hash_key=True)


class LastVisitIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    """Members by the day of their last visit: the surprises' regulars are among the recent days'."""

    class Meta:
        index_name = "by_last_visit"
        projection = KeysOnlyProjection()

    last_visit_day = UnicodeAttribute(hash_key=True)


class FeaturesModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("features")

    sub = UnicodeAttribute(hash_key=True)
    touch_due = UnicodeAttribute(null=True)
    by_touch_due = TouchDueIndex()
    #: Recent visit days (``YYYY-MM-DD``), added atomically from the ledger's stream (a record
    #: delivered twice adds nothing), bounded to the last ``prediction.VISITS_KEPT``.
    visit_days = UnicodeSetAttribute(null=True)
    last_visit_day = UnicodeAttribute(null=True)
    by_last_visit = LastVisitIndex()
    next_visit_day = UnicodeAttribute(null=True)
    by_next_visit = NextVisitIndex()
    segments = UnicodeSetAttribute(null=True)
    #: ``{"last": {kind: at}, "marketing": [at, ...], "keys": {key: at}}``, ISO-8601 UTC: one
    #: attribute, so a contact replaces it whole under the revision it read.
    contacts = JSONAttribute(null=True)
    next_visit_at = UTCDateTimeAttribute(null=True)
    next_visit_model = UnicodeAttribute(null=True)
    #: From a fitted model: the chance the member is still active, and their typical wait in days
    #: after a visit (a visit between two fits moves the expected one by it).
    p_active = NumberAttribute(null=True)
    next_visit_wait = NumberAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    revision = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def get_features(sub: str) -> Features:
    """The member's features (empty for a member nothing was written about yet)."""
    try:
        item = FeaturesModel.get(sub, consistent_read=True)
    except FeaturesModel.DoesNotExist:
        return Features(sub)
    contacts = item.contacts or {}
    prediction = (
        Prediction(
            item.next_visit_at,
            item.next_visit_model or "",
            float(item.p_active) if item.p_active is not None else None,
            int(item.next_visit_wait) if item.next_visit_wait is not None else None,
        )
        if item.next_visit_at is not None
        else None
    )
    return Features(
        sub=sub,
        segments=frozenset(item.segments or ()),
        last_contact={kind: _moment(at) for kind, at in contacts.get("last", {}).items()},
        marketing_sent=tuple(_moment(at) for at in contacts.get("marketing", [])),
        keys={key: _moment(at) for key, at in contacts.get("keys", {}).items()},
        prediction=prediction,
        touch_due=date.fromisoformat(item.touch_due) if item.touch_due else None,
        visit_days=tuple(sorted(date.fromisoformat(d) for d in item.visit_days or ())),
        updated_at=item.updated_at,
        revision=int(item.revision or 0),
    )


def set_segments(sub: str, segments: frozenset[str], now: datetime) -> None:
    """The segments the member belongs to now (a segment run's result), nothing else touched."""
    FeaturesModel(sub).update(
        actions=[
            FeaturesModel.segments.set(set(segments)) if segments else FeaturesModel.segments.remove(),
            *_touched(now),
        ]
    )


def set_prediction(sub: str, prediction: Prediction | None, now: datetime) -> None:
    """The member's predicted next visit (None: the model has nothing to say), nothing else touched."""
    FeaturesModel(sub).update(actions=[*_prediction_actions(prediction), *_touched(now)])


def set_fitted_prediction(sub: str, prediction: Prediction, last_visit: date, now: datetime) -> bool:
    """A fit's prediction for a member whose newest visit it saw was ``last_visit``; refused (False)
    when the member has visited since: the visit's own update, from the fit's wait, is newer."""
    try:
        FeaturesModel(sub).update(
            actions=[*_prediction_actions(prediction), *_touched(now)],
            condition=FeaturesModel.last_visit_day.does_not_exist()
            | (FeaturesModel.last_visit_day <= last_visit.isoformat()),
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _prediction_actions(prediction: Prediction | None) -> list[Action]:
    """The prediction's attributes, and its day for the ``by_next_visit`` index (all removed for None)."""
    if prediction is None:
        return [
            FeaturesModel.next_visit_at.remove(),
            FeaturesModel.next_visit_model.remove(),
            FeaturesModel.next_visit_day.remove(),
            FeaturesModel.p_active.remove(),
            FeaturesModel.next_visit_wait.remove(),
        ]
    return [
        FeaturesModel.next_visit_at.set(prediction.next_visit_at),
        FeaturesModel.next_visit_model.set(prediction.model),
        FeaturesModel.next_visit_day.set(prediction.next_visit_at.date().isoformat()),
        FeaturesModel.p_active.set(prediction.p_active)
        if prediction.p_active is not None
        else FeaturesModel.p_active.remove(),
        FeaturesModel.next_visit_wait.set(prediction.wait_days)
        if prediction.wait_days is not None
        else FeaturesModel.next_visit_wait.remove(),
    ]


def write_contact(tx: OwnedWrite, after: Features, now: datetime, *, owner: object = None) -> None:
    """In ``tx``: the contact part of ``after``, only if no other contact was recorded since
    ``after.revision`` was read (a racing message makes the transaction read again)."""
    read = after.revision
    condition = FeaturesModel.revision.does_not_exist() if read == 0 else FeaturesModel.revision == read
    contacts = {
        "last": {kind: _iso(at) for kind, at in sorted(after.last_contact.items())},
        "marketing": [_iso(at) for at in after.marketing_sent],
        "keys": {key: _iso(at) for key, at in sorted(after.keys.items())},
    }
    touch = (
        FeaturesModel.touch_due.set(after.touch_due.isoformat())
        if after.touch_due is not None
        else FeaturesModel.touch_due.remove()
    )
    tx.update(
        FeaturesModel(after.sub),
        actions=[FeaturesModel.contacts.set(contacts), FeaturesModel.revision.set(read + 1), touch, *_touched(now)],
        condition=condition,
        owner=owner,
    )


def set_touch_due(sub: str, day: date | None, now: datetime) -> None:
    """Move the member's keep-in-touch day (a member nothing may be sent to is looked at again
    then, not every day), nothing else touched."""
    action = FeaturesModel.touch_due.set(day.isoformat()) if day is not None else FeaturesModel.touch_due.remove()
    FeaturesModel(sub).update(actions=[action, *_touched(now)])


def subs_due_touch(day: date) -> list[str]:
    """Members whose keep-in-touch day is ``day``, through the ``by_touch_due`` index."""
    return [item.sub for item in FeaturesModel.by_touch_due.query(day.isoformat())]


def new_member_features(sub: str, touch_due: date | None, now: datetime) -> FeaturesModel:
    """A new member's features item, written in the join transaction: their first keep-in-touch day."""
    return FeaturesModel(
        sub, touch_due=touch_due.isoformat() if touch_due else None, updated_at=now, expires_at=now + KEY_MEMORY
    )


def backfill_touch_due(first_due: date, now: datetime) -> int:
    """Give a keep-in-touch day to members from before the index; returns how many. A scan of the
    members, once, when the index is added (``tables.create_missing_tables``), never in a job."""
    from chalicelib.store.members import MemberModel

    done = 0
    for member in MemberModel.scan(attributes_to_get=["sub"]):
        _backfill_one(member.sub, first_due, now)
        done += 1
    return done


def _backfill_one(sub: str, first_due: date, now: datetime) -> None:
    try:
        FeaturesModel(sub).update(
            actions=[FeaturesModel.touch_due.set(first_due.isoformat()), *_touched(now)],
            condition=FeaturesModel.touch_due.does_not_exist(),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def delete_features(sub: str) -> None:
    FeaturesModel(sub).delete()


def _touched(now: datetime) -> list[Action]:
    return [FeaturesModel.updated_at.set(now), FeaturesModel.expires_at.set(now + KEY_MEMORY)]


def _iso(at: datetime) -> str:
    return at.isoformat()


def _moment(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def add_visit(sub: str, day: date, now: datetime) -> Features:
    """Add a visit day (atomically; again is nothing) and return the member's features after it."""
    FeaturesModel(sub).update(actions=[FeaturesModel.visit_days.add({day.isoformat()}), *_touched(now)])
    return get_features(sub)


def set_rhythm(
    sub: str, visit_days: tuple[date, ...], kept: tuple[date, ...], prediction: Prediction | None, now: datetime
) -> None:
    """The member's last visit, their predicted next one (and its day for the index), and the
    visit days beyond the ``kept`` ones dropped."""
    actions: list[Action] = [FeaturesModel.last_visit_day.set(kept[-1].isoformat()), *_touched(now)]
    dropped = {d.isoformat() for d in visit_days} - {d.isoformat() for d in kept}
    if dropped:
        actions.append(FeaturesModel.visit_days.delete(dropped))
    FeaturesModel(sub).update(actions=[*actions, *_prediction_actions(prediction)])


def subs_next_visit_on(day: date) -> list[str]:
    return [item.sub for item in FeaturesModel.by_next_visit.query(day.isoformat())]


def subs_last_visit_on(day: date) -> list[str]:
    return [item.sub for item in FeaturesModel.by_last_visit.query(day.isoformat())]


def change_segment(sub: str, segment_id: str, member: bool, now: datetime) -> None:
    """The member came into (``member``) or left a saved segment; their other segments untouched."""
    change = FeaturesModel.segments.add({segment_id}) if member else FeaturesModel.segments.delete({segment_id})
    FeaturesModel(sub).update(actions=[change, *_touched(now)])
