"""Operations: run a scheduled job now, optionally as of a given moment."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib import jobs
from chalicelib.api.http import ADMIN, Call, operation
from chalicelib.api.schemas.admin import JobRunRequest, JobRunResult
from chalicelib.ports import now

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
def run_job(call: Call[JobRunRequest, None], name: str) -> dict[str, jobs.JobSummary]:
    return {"result": jobs.run_on_request(name, call.body.at, clock=now)}
