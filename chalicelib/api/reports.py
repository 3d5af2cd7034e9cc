"""Reports for the marketing team and the admin."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, Call, operation
from chalicelib.api.schemas.marketing import PeriodQuery, SettlementReport
from chalicelib.services import reports

reports_bp = Blueprint(__name__)


@operation(
    reports_bp,
    "GET",
    "/reports/settlement",
    summary="Who owes whom among the partners for a period (admin)",
    roles=ADMIN,
    query=PeriodQuery,
    response=SettlementReport,
)
def settlement(call: Call[None, PeriodQuery]) -> reports.SettlementView:
    return reports.settlement(call.query.from_, call.query.to)
