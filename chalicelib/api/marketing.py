"""The marketing console: promotions and offers."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import Call, command, operation
from chalicelib.api.schemas.common import PageQuery
from chalicelib.api.schemas.marketing import OfferBody, OfferOut, OfferPage, PromotionBody, PromotionOut, PromotionPage
from chalicelib.domain.identity import Role
from chalicelib.ports import now
from chalicelib.services import offers, promotions

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
