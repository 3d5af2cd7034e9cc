"""What the scheduled jobs remember between runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class JobState:
    name: str
    #: The latest moment a run was made as of; the next run starts its catch-up from here.
    last_run_at: datetime | None = None
