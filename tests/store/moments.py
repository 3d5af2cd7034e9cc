"""Moments for the store tests, from tomorrow on: DynamoDB Local deletes items whose TTL attribute
is past by the real clock, so a test dated in the past loses its idempotency records (24 hours)
as the calendar moves on. Fixed dates here failed from 2026-12 on."""

from datetime import UTC, datetime, timedelta


def tomorrow_at(hour: int, days: int = 1) -> datetime:
    """``hour`` o'clock UTC, ``days`` days from today."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
