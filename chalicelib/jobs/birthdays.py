"""``birthdays``: on each member's birthday in their own time zone, a greeting in their name with
the program's bonus points and an offer that fits what they buy; 29 February is greeted on 28
February in other years. Hourly: each run asks the ``by_birthday`` index for the month-days that
are today somewhere (never a scan); the member's own zone decides, and ``birthday#<year>`` makes
it once a year however often the job runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.bonus import Bonus
from chalicelib.domain.contact import birthday_key
from chalicelib.domain.moments import birthday_greeting, birthday_month_days, is_birthday
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import members as member_store

NAME = "birthdays"


def select(at: datetime) -> Iterator[str]:
    if not program.rules().moments.birthday.enabled:
        return
    for month_day in birthday_month_days(at):
        yield from member_store.subs_born_on(month_day)


def contact(sub: str, at: datetime) -> Outcome:
    settings = program.rules().moments.birthday
    member = member_store.get_member(sub)
    if member is None or not settings.enabled:
        return None
    local_day = at.astimezone(ZoneInfo(member.timezone)).date()
    if not is_birthday(member.birthday, local_day):
        return None  # their day is over, or not yet there, where they live
    offer = issuing.offer_for(member, "birthday", at, preferred=settings.offer_id)
    title, body = birthday_greeting(member.name, settings.bonus_points, offer.title if offer else None)
    bonus = Bonus(settings.bonus_points, "birthday_bonus") if settings.bonus_points else None
    return issuing.send(
        sub, "birthday", birthday_key(local_day.year), title, body, clock=lambda: at, offer=offer, bonus=bonus
    )


FANOUT = register(Fanout(NAME, select, contact))
