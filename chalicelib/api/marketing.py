"""The marketing console: promotions, offers, segments, campaigns and the calendar."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import Call, command, operation
from chalicelib.api.schemas.common import FeedbackOut, PageQuery
from chalicelib.api.schemas.marketing import (
    CalendarOut,
    CalendarQuery,
    CampaignBody,
    CampaignOut,
    CampaignPage,
    FeedbackInbox,
    FeedbackQuery,
    LaunchOut,
    OfferBody,
    OfferOut,
    OfferPage,
    PromotionBody,
    PromotionOut,
    PromotionPage,
    ReplyBody,
    SegmentBody,
    SegmentDefinition,
    SegmentOut,
    SegmentPage,
    SegmentPreviewOut,
)
from chalicelib.domain.identity import Role
from chalicelib.domain.segments import Definition
from chalicelib.ports import now
from chalicelib.services import calendar as calendar_service
from chalicelib.services import campaigns, feedback, offers, promotions, segments

marketing = Blueprint(__name__)
MARKETER = frozenset({Role.MARKETER})


@operation(
    marketing,
    "GET",
    "/promotions",
    summary="Promotions you may see",
    roles=MARKETER,
    query=PageQuery,
    response=PromotionPage,
)
def list_promotions(call: Call[None, PageQuery]) -> promotions.PromotionPage:
    return promotions.page(call.identity, call.query.limit, call.query.cursor, clock=now)


@operation(
    marketing,
    "POST",
    "/promotions",
    summary="Start a promotion (a window that multiplies earning)",
    roles=MARKETER,
    body=PromotionBody,
    response=PromotionOut,
    status=201,
)
def create_promotion(call: Call[PromotionBody, None]) -> promotions.PromotionView:
    return promotions.create(call.identity, command(promotions.PromotionDraft, call.body), clock=now)


@operation(
    marketing,
    "GET",
    "/promotions/{promotion_id}",
    summary="One promotion",
    roles=MARKETER,
    response=PromotionOut,
)
def get_promotion(call: Call[None, None], promotion_id: str) -> promotions.PromotionView:
    return promotions.get(call.identity, promotion_id, clock=now)


@operation(
    marketing,
    "PUT",
    "/promotions/{promotion_id}",
    summary="Replace a promotion",
    roles=MARKETER,
    body=PromotionBody,
    response=PromotionOut,
)
def replace_promotion(call: Call[PromotionBody, None], promotion_id: str) -> promotions.PromotionView:
    return promotions.replace(call.identity, promotion_id, command(promotions.PromotionDraft, call.body), clock=now)


@operation(
    marketing,
    "DELETE",
    "/promotions/{promotion_id}",
    summary="End a promotion (kept for reports)",
    roles=MARKETER,
    status=204,
)
def end_promotion(call: Call[None, None], promotion_id: str) -> None:
    promotions.end(call.identity, promotion_id)


@operation(
    marketing,
    "GET",
    "/offers",
    summary="Offers you may see",
    roles=MARKETER,
    query=PageQuery,
    response=OfferPage,
)
def list_offers(call: Call[None, PageQuery]) -> offers.OfferPage:
    return offers.page(call.identity, call.query.limit, call.query.cursor)


@operation(
    marketing,
    "POST",
    "/offers",
    summary="Create an offer: trigger, targeting, reward, validity, limits",
    roles=MARKETER,
    body=OfferBody,
    response=OfferOut,
    status=201,
)
def create_offer(call: Call[OfferBody, None]) -> offers.OfferView:
    return offers.create(call.identity, command(offers.OfferDraft, call.body))


@operation(marketing, "GET", "/offers/{offer_id}", summary="One offer", roles=MARKETER, response=OfferOut)
def get_offer(call: Call[None, None], offer_id: str) -> offers.OfferView:
    return offers.get(call.identity, offer_id)


@operation(
    marketing,
    "PUT",
    "/offers/{offer_id}",
    summary="Replace an offer (its issued count is kept)",
    roles=MARKETER,
    body=OfferBody,
    response=OfferOut,
)
def replace_offer(call: Call[OfferBody, None], offer_id: str) -> offers.OfferView:
    return offers.replace(call.identity, offer_id, command(offers.OfferDraft, call.body))


@operation(
    marketing,
    "DELETE",
    "/offers/{offer_id}",
    summary="Stop issuing an offer (kept for reports)",
    roles=MARKETER,
    status=204,
)
def end_offer(call: Call[None, None], offer_id: str) -> None:
    offers.end(call.identity, offer_id)


@operation(
    marketing,
    "POST",
    "/segments/preview",
    summary="Count the members a definition matches, with a sample (from the members' snapshot)",
    roles=MARKETER,
    body=SegmentDefinition,
    response=SegmentPreviewOut,
)
def preview_segment(call: Call[SegmentDefinition, None]) -> segments.PreviewView:
    return segments.preview(call.identity, command(Definition, call.body), clock=now)


@operation(
    marketing, "GET", "/segments", summary="Saved segments", roles=MARKETER, query=PageQuery, response=SegmentPage
)
def list_segments(call: Call[None, PageQuery]) -> segments.SegmentPage:
    return segments.page(call.identity, call.query.limit, call.query.cursor)


@operation(
    marketing,
    "POST",
    "/segments",
    summary="Save a segment (offers target it by id, campaigns name it)",
    roles=MARKETER,
    body=SegmentBody,
    response=SegmentOut,
    status=201,
)
def create_segment(call: Call[SegmentBody, None]) -> segments.SegmentView:
    return segments.create(call.identity, command(segments.SegmentDraft, call.body), clock=now)


@operation(marketing, "GET", "/segments/{segment_id}", summary="One segment", roles=MARKETER, response=SegmentOut)
def get_segment(call: Call[None, None], segment_id: str) -> segments.SegmentView:
    return segments.get(call.identity, segment_id)


@operation(
    marketing,
    "PUT",
    "/segments/{segment_id}",
    summary="Replace a segment's definition",
    roles=MARKETER,
    body=SegmentBody,
    response=SegmentOut,
)
def replace_segment(call: Call[SegmentBody, None], segment_id: str) -> segments.SegmentView:
    return segments.replace(call.identity, segment_id, command(segments.SegmentDraft, call.body), clock=now)


@operation(
    marketing,
    "DELETE",
    "/segments/{segment_id}",
    summary="Retire a segment (emptied by the next membership run)",
    roles=MARKETER,
    status=204,
)
def end_segment(call: Call[None, None], segment_id: str) -> None:
    segments.end(call.identity, segment_id, clock=now)


@operation(
    marketing,
    "GET",
    "/campaigns",
    summary="Campaigns, newest first",
    roles=MARKETER,
    query=PageQuery,
    response=CampaignPage,
)
def list_campaigns(call: Call[None, PageQuery]) -> campaigns.CampaignPage:
    return campaigns.page(call.identity, call.query.limit, call.query.cursor)


@operation(
    marketing,
    "POST",
    "/campaigns",
    summary="Draft a campaign: a message, an audience, an optional offer and schedule",
    roles=MARKETER,
    body=CampaignBody,
    response=CampaignOut,
    status=201,
)
def create_campaign(call: Call[CampaignBody, None]) -> campaigns.CampaignView:
    return campaigns.create(call.identity, command(campaigns.CampaignDraft, call.body), clock=now)


@operation(marketing, "GET", "/campaigns/{campaign_id}", summary="One campaign", roles=MARKETER, response=CampaignOut)
def get_campaign(call: Call[None, None], campaign_id: str) -> campaigns.CampaignView:
    return campaigns.get(call.identity, campaign_id)


@operation(
    marketing,
    "PUT",
    "/campaigns/{campaign_id}",
    summary="Replace a draft campaign (409 once launched)",
    roles=MARKETER,
    body=CampaignBody,
    response=CampaignOut,
)
def replace_campaign(call: Call[CampaignBody, None], campaign_id: str) -> campaigns.CampaignView:
    return campaigns.replace(call.identity, campaign_id, command(campaigns.CampaignDraft, call.body), clock=now)


@operation(
    marketing,
    "DELETE",
    "/campaigns/{campaign_id}",
    summary="Cancel a campaign: a draft, or the runs still to come (kept for reports)",
    roles=MARKETER,
    status=204,
)
def cancel_campaign(call: Call[None, None], campaign_id: str) -> None:
    campaigns.cancel(call.identity, campaign_id, clock=now)


@operation(
    marketing,
    "POST",
    "/campaigns/{campaign_id}/launch",
    summary="Launch once (409 after): now, at its time, or on its recurrence",
    roles=MARKETER,
    response=LaunchOut,
)
def launch_campaign(call: Call[None, None], campaign_id: str) -> campaigns.LaunchView:
    return campaigns.launch(call.identity, campaign_id, clock=now)


@operation(
    marketing,
    "GET",
    "/calendar",
    summary="The year's plan: campaigns, promotions, public holidays and the seasons to prepare for",
    roles=MARKETER,
    query=CalendarQuery,
    response=CalendarOut,
)
def calendar(call: Call[None, CalendarQuery]) -> calendar_service.CalendarView:
    return calendar_service.year(call.identity, call.query.year)


@operation(
    marketing,
    "GET",
    "/feedback",
    summary="The team's feedback inbox by status (open: awaiting an answer), newest first",
    roles=MARKETER,
    query=FeedbackQuery,
    response=FeedbackInbox,
)
def feedback_inbox(call: Call[None, FeedbackQuery]) -> feedback.FeedbackPage:
    q = call.query
    return feedback.inbox(call.identity, q.status, q.limit, q.cursor)


@operation(
    marketing,
    "POST",
    "/feedback/{feedback_id}/reply",
    summary="Answer feedback: the reply reaches the customer's inbox and closes it",
    roles=MARKETER,
    body=ReplyBody,
    response=FeedbackOut,
)
def reply_to_feedback(call: Call[ReplyBody, None], feedback_id: str) -> feedback.FeedbackView:
    return feedback.reply(call.identity, feedback_id, command(feedback.Reply, call.body), clock=now)
