"""The moments the program speaks at, as pure rules: whose day it is, and what to say."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

#: Time zones run from UTC-12 to UTC+14: at any instant, "today" is one of the dates in that span.
EARLIEST_OFFSET = timedelta(hours=-12)
LATEST_OFFSET = timedelta(hours=14)
LEAP_DAY = "02-29"


def month_day(day: date) -> str:
    return day.strftime("%m-%d")


def dates_somewhere(at: datetime) -> list[date]:
    """Every calendar date it is somewhere on Earth at ``at`` (two, sometimes three)."""
    first, last = (at + EARLIEST_OFFSET).date(), (at + LATEST_OFFSET).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def birthday_month_days(at: datetime) -> list[str]:
    """The ``MM-DD`` of every birthday that is today somewhere at ``at``: 29 February is
    celebrated on 28 February in a year without one."""
    days = []
    for day in dates_somewhere(at):
        days.append(month_day(day))
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            days.append(LEAP_DAY)
    return sorted(set(days))


def is_birthday(birthday: date, day: date) -> bool:
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    leapling = (birthday.month, birthday.day) == (2, 29)
    return leapling and (day.month, day.day) == (2, 28) and not calendar.isleap(day.year)


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else name


def birthday_greeting(name: str, bonus_points: int, offer_title: str | None) -> tuple[str, str]:
    """The greeting's title and body, in the member's own name, with what comes with it."""
    title = f"Happy birthday, {first_name(name)}!"
    gifts = []
    if bonus_points:
        gifts.append(f"{bonus_points} birthday points are on your card")
    if offer_title:
        gifts.append(
            f"and a treat is waiting in your wallet: {offer_title}"
            if gifts
            else f"A treat is waiting in your wallet: {offer_title}"
        )
    body = (" ".join(gifts) + ". Enjoy your day!") if gifts else "Have a wonderful day, from all of us."
    return title, body[0].upper() + body[1:]


def expiring_notice(points: int, on: date, balance: int) -> tuple[str, str]:
    """What a member is told before their points expire."""
    title = f"{points} points expire on {on:%d %B}"
    rest = balance - points
    body = f"Use them by {on:%d %B %Y}: they are worth a discount at your next visit."
    if rest > 0:
        body += f" The other {rest} points on your card stay."
    return title, body


def keep_in_touch_message(
    name: str, balance: int, expiring: tuple[int, date] | None, next_tier: str | None, visits_needed: int | None
) -> tuple[str, str]:
    """The monthly minimum: something true and useful, from the member's own account."""
    title = f"{first_name(name)}, here is where your card stands"
    lines = [f"You have {balance} points." if balance else "Your card is ready for your next visit."]
    if expiring is not None:
        points, on = expiring
        lines.append(f"{points} of them expire on {on:%d %B}: use them before.")
    if next_tier and visits_needed:
        lines.append(f"{visits_needed} more visit{'s' if visits_needed != 1 else ''} and you are {next_tier}.")
    return title, " ".join(lines)


def reminder_message(name: str, offer_title: str | None) -> tuple[str, str]:
    """A few days before the member would usually come back."""
    title = f"See you soon, {first_name(name)}?"
    body = (
        f"{offer_title} is waiting for you on your next visit."
        if offer_title
        else "Your next visit is on us to plan: we are open as usual."
    )
    return title, body


def winback_message(name: str, offer_title: str | None) -> tuple[str, str]:
    """A word to a member past their usual interval."""
    title = f"We miss you, {first_name(name)}"
    body = (
        f"Come back soon: {offer_title} is in your wallet."
        if offer_title
        else "It has been a while: your card and your points are waiting for you."
    )
    return title, body


def surprise_message(name: str, points: int) -> tuple[str, str]:
    """A small unexpected reward for a regular."""
    return (
        f"A little surprise for you, {first_name(name)}",
        f"Thank you for coming by so often: {points} points are on your card, just because.",
    )


def fair_order(subs: list[str], seed: str) -> list[str]:
    """The order candidates are offered a limited reward in: a shuffle seeded by ``seed`` (logged
    with the run), so the draw is fair and can be replayed for an audit."""
    import random

    ordered = sorted(set(subs))
    random.Random(seed).shuffle(ordered)  # noqa: S311 - fairness, not secrecy: the seed is published
    return ordered
