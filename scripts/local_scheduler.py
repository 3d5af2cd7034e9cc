"""The local stack's stand-in for EventBridge: runs each scheduled job at its time, in a thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from chalicelib import jobs


def next_run(now: datetime, hour: int, minute: int) -> datetime:
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def next_weekly_run(now: datetime, weekday: int, hour: int, minute: int) -> datetime:
    at = next_run(now, hour, minute)
    return at + timedelta(days=(weekday - at.weekday()) % 7)


def next_hourly_run(now: datetime, minute: int) -> datetime:
    this_hour = now.replace(minute=minute, second=0, microsecond=0)
    return this_hour if this_hour > now else this_hour + timedelta(hours=1)


def next_every(now: datetime, minutes: int) -> datetime:
    start = now.replace(minute=0, second=0, microsecond=0)
    passed = int((now - start).total_seconds() // (minutes * 60)) + 1
    return start + timedelta(minutes=minutes * passed)


def due_next(now: datetime) -> tuple[list[str], datetime]:
    """The jobs that run next, and when: the weekly ones on their day, the daily ones at their hour,
    the hourly ones every hour, the frequent ones every few minutes (several jobs may share a
    moment: every one runs then)."""
    weekly = [(name, next_weekly_run(now, d, h, m)) for name, (d, h, m) in jobs.WEEKLY_AT_UTC.items()]
    daily = [(name, next_run(now, h, m)) for name, (h, m) in jobs.DAILY_AT_UTC.items()]
    hourly = [(name, next_hourly_run(now, m)) for name, m in jobs.HOURLY_AT_MINUTE.items()]
    frequent = [(name, next_every(now, m)) for name, m in jobs.EVERY_MINUTES.items()]
    every = (*weekly, *daily, *hourly, *frequent)
    at = min(when for _, when in every)
    return [name for name, when in every if when == at], at


def start(stopping: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stopping.is_set():
            now = datetime.now(UTC)
            names, at = due_next(now)
            if stopping.wait((at - now).total_seconds()):
                return
            for name in names:
                try:
                    print(f"job {name}: {jobs.run(name, at)}", flush=True)
                except Exception as exc:  # noqa: BLE001 - a failed run is reported; the next one still comes
                    # The type only: a message may quote a member's data.
                    print(f"job {name} failed: {type(exc).__name__}", flush=True)

    thread = threading.Thread(target=loop, name="local-scheduler", daemon=True)
    thread.start()
    return thread
