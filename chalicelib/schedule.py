"""When each job runs by itself (UTC), by name: ``app.py``'s schedules on AWS, the local stack's
scheduler and the API's list of job names read it here, without importing the jobs themselves
(half a second of a cold start the API's requests do not need). ``chalicelib.jobs`` holds the jobs
under the same names and checks at import that they are exactly these.
"""

from __future__ import annotations

#: Daily, as (hour, minute) UTC.
DAILY_AT_UTC: dict[str, tuple[int, int]] = {"expire_points": (1, 15), "tier_review": (1, 45)}
#: Weekly, as (weekday, hour, minute) UTC, Monday 0: the predictor is fitted in the quiet of Monday
#: night, before the week's reminders read it.
WEEKLY_AT_UTC: dict[str, tuple[int, int, int]] = {"fit_predictor": (0, 2, 30)}
#: The moments, each selecting the members whose moment has come in their own time zone: they run
#: every hour because each member's day begins at their own midnight (the contact key keeps each
#: message once however often they run; quiet hours hold the push, not the decision).
MOMENTS = ("birthdays", "points_expiring", "keep_in_touch", "reminders", "winback", "surprises")
#: Every this many minutes (UTC, from the hour): campaign runs that came due.
EVERY_MINUTES: dict[str, int] = {"campaigns": 5}
#: Every hour at this minute (UTC): the snapshot is folded first, the segments read it, then the
#: moments (which may target them).
HOURLY_AT_MINUTE: dict[str, int] = {"snapshot": 0, "segments": 2, **dict.fromkeys(MOMENTS, 5)}
#: Every job there is.
NAMES = frozenset({*DAILY_AT_UTC, *WEEKLY_AT_UTC, *EVERY_MINUTES, *HOURLY_AT_MINUTE})
