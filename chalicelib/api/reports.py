"""Reports for the marketing team and the admin."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, Call, TextBody, operation
from chalicelib.api.marketing import MARKETER
from chalicelib.api.schemas.common import PageQuery
from chalicelib.api.schemas.marketing import (
    CampaignReport,
    CompensationReport,
    CsvQuery,
    EconomicsReport,
    OfferReport,
    PeriodQuery,
    ReferralReport,
    ReportQuery,
    SettlementReport,
    SummaryReport,
    TiersReport,
)
from chalicelib.services import campaigns, compensations, reports

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


@operation(
    reports_bp,
    "GET",
    "/reports/campaigns/{campaign_id}",
    summary="A campaign's funnel and its lift against the hold-out group",
    roles=MARKETER,
    response=CampaignReport,
)
def campaign_report(call: Call[None, None], campaign_id: str) -> reports.CampaignReportView:
    return reports.campaign(campaigns.visible(call.identity, campaign_id))


@operation(
    reports_bp,
    "GET",
    "/reports/referrals",
    summary="Who brought whom: friends per referrer, what they spent, ranked; the program's totals",
    roles=MARKETER,
    query=PageQuery,
    response=ReferralReport,
)
def referral_report(call: Call[None, PageQuery]) -> reports.ReferralReportView:
    return reports.referrals(call.identity, call.query.limit, call.query.cursor)


@operation(
    reports_bp,
    "GET",
    "/reports/compensations",
    summary="Amends of a period: every request, who granted what and why, totals per staff member",
    roles=MARKETER,
    query=PeriodQuery,
    response=CompensationReport,
)
def compensation_report(call: Call[None, PeriodQuery]) -> compensations.CompensationReportView:
    return compensations.report(call.identity, call.query.from_, call.query.to)


@operation(
    reports_bp,
    "GET",
    "/reports/summary",
    summary="The program at a glance: members, sales, discounts, points (outstanding as money), tiers, offers",
    roles=MARKETER,
    query=ReportQuery,
    response=SummaryReport,
)
def summary_report(call: Call[None, ReportQuery]) -> reports.SummaryView:
    q = call.query
    return reports.summary(call.identity, q.merchant_id, q.from_, q.to)


@operation(
    reports_bp,
    "GET",
    "/reports/tiers",
    summary="Members per tier, what they are worth, and each tier's perks",
    roles=MARKETER,
    response=TiersReport,
)
def tiers_report(call: Call[None, None]) -> reports.TiersView:
    return reports.tiers(call.identity)


@operation(
    reports_bp,
    "GET",
    "/reports/offers/{offer_id}",
    summary="One offer: issued, redeemed and what the redeeming purchases paid, per day",
    roles=MARKETER,
    query=PeriodQuery,
    response=OfferReport,
)
def offer_report(call: Call[None, PeriodQuery], offer_id: str) -> reports.OfferReportView:
    return reports.offer(call.identity, offer_id, call.query.from_, call.query.to)


@operation(
    reports_bp,
    "GET",
    "/reports/economics",
    summary="The program's economics per month: discounts and points given against members' revenue",
    roles=MARKETER,
    query=ReportQuery,
    response=EconomicsReport,
)
def economics_report(call: Call[None, ReportQuery]) -> reports.EconomicsView:
    q = call.query
    return reports.economics(call.identity, q.merchant_id, q.from_, q.to)


@operation(
    reports_bp,
    "GET",
    "/reports/members.csv",
    summary="Members who agreed to marketing, as CSV for a CRM, a page at a time (X-Next-Cursor)",
    roles=MARKETER,
    query=CsvQuery,
    produces="text/csv",
)
def members_csv(call: Call[None, CsvQuery]) -> TextBody:
    page = reports.members_csv(call.identity, call.query.limit, call.query.cursor)
    headers = {"Content-Disposition": 'attachment; filename="members.csv"', "X-Rows": str(page.rows)}
    if page.next_cursor is not None:
        headers["X-Next-Cursor"] = page.next_cursor
        headers["Link"] = f'</v1/reports/members.csv?{urlencode({"cursor": page.next_cursor})}>; rel="next"'
    return TextBody(page.text, "text/csv; charset=utf-8", headers)
