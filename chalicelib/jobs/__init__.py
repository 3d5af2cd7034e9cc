"""Scheduled and queue-driven work (birthdays, reminders, campaigns, expiry)."""
