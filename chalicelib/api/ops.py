"""Operations: run a scheduled job now, optionally as of a given moment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, Call, operation
from chalicelib.api.schemas.admin import JobRunRequest, JobRunResult
from chalicelib.ports import now

if TYPE_CHECKING:
    from chalicelib.jobs import JobSummary

ops = Blueprint(__name__)


@operation(
    ops,
    "POST",
    "/jobs/{name}/run",
    summary="Run a scheduled job now (admin); idempotent per moment",
    roles=ADMIN,
    body=JobRunRequest,
    response=JobRunResult,
)
def run_job(call: Call[JobRunRequest, None], name: str) -> dict[str, JobSummary]:
    from chalicelib import jobs  # every job's code: half a second the API's other routes never need

    return {"result": jobs.run_on_request(name, call.body.at, clock=now)}
