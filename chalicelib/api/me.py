"""The customer app: ``/v1/me/...``, always the caller's own data."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ANY_MEMBER, Call, command, operation
from chalicelib.api.schemas.common import FeedbackOut, PageQuery
from chalicelib.api.schemas.customer import (
    Card,
    CheckinRequest,
    CheckinResult,
    DeviceModel,
    DeviceRequest,
    Export,
    FeedbackRequest,
    InboxPage,
    JoinRequest,
    LedgerPage,
    MessageOut,
    MyReferrals,
    Profile,
    UpdateProfileRequest,
    WalletPage,
)
from chalicelib.ports import now
from chalicelib.services import checkins, feedback, members, purchases, referrals, wallet

me = Blueprint(__name__)


@operation(
    me,
    "POST",
    "/",
    summary="Join the program",
    roles=ANY_MEMBER,
    body=JoinRequest,
    response=Profile,
    status=201,
)
def join(call: Call[JoinRequest, None]) -> members.ProfileView:
    return members.join(call.identity, command(members.Join, call.body), clock=now)


@operation(me, "GET", "/", summary="My profile, balance, tier and discount", roles=ANY_MEMBER, response=Profile)
def get_profile(call: Call[None, None]) -> members.ProfileView:
    return members.profile(call.identity, clock=now)


@operation(
    me,
    "PATCH",
    "/",
    summary="Change my name, consent, quiet hours, time zone, interests",
    roles=ANY_MEMBER,
    body=UpdateProfileRequest,
    response=Profile,
)
def update_profile(call: Call[UpdateProfileRequest, None]) -> members.ProfileView:
    return members.update(
        call.identity, command(members.UpdateProfile, call.body, given=call.body.model_fields_set), clock=now
    )


@operation(me, "DELETE", "/", summary="Leave the program: personal data erased", roles=ANY_MEMBER, status=204)
def leave(call: Call[None, None]) -> None:
    members.leave(call.identity, clock=now)


@operation(me, "GET", "/export", summary="Everything stored about me", roles=ANY_MEMBER, response=Export)
def export(call: Call[None, None]) -> members.ExportView:
    return members.export(call.identity, clock=now)


@operation(me, "GET", "/card", summary="My card number and a fresh QR payload", roles=ANY_MEMBER, response=Card)
def card(call: Call[None, None]) -> members.CardView:
    return members.card(call.identity, clock=now)


@operation(
    me,
    "POST",
    "/devices",
    summary="Register a push token",
    roles=ANY_MEMBER,
    body=DeviceRequest,
    response=DeviceModel,
    status=201,
)
def add_device(call: Call[DeviceRequest, None]) -> members.DeviceView:
    return members.add_device(call.identity, command(members.RegisterDevice, call.body), clock=now)


@operation(me, "DELETE", "/devices/{token}", summary="Unregister a push token", roles=ANY_MEMBER, status=204)
def remove_device(call: Call[None, None], token: str) -> None:
    members.remove_device(call.identity, token)


@operation(
    me,
    "GET",
    "/ledger",
    summary="My points history, newest first",
    roles=ANY_MEMBER,
    query=PageQuery,
    response=LedgerPage,
)
def ledger(call: Call[None, PageQuery]) -> purchases.LedgerPage:
    return purchases.ledger_page(call.identity, call.query.limit, call.query.cursor)


@operation(
    me,
    "POST",
    "/checkins",
    summary="I am here: a beacon heard or a location; the offers that fit",
    roles=ANY_MEMBER,
    body=CheckinRequest,
    response=CheckinResult,
)
def check_in(call: Call[CheckinRequest, None]) -> checkins.CheckinView:
    return checkins.record(call.identity, command(checkins.CheckIn, call.body), clock=now)


@operation(
    me,
    "GET",
    "/offers",
    summary="My issued offers: issued, redeemed or expired",
    roles=ANY_MEMBER,
    response=WalletPage,
)
def my_offers(call: Call[None, None]) -> wallet.WalletPage:
    return wallet.my_offers(call.identity, clock=now)


@operation(
    me,
    "GET",
    "/inbox",
    summary="Every message sent to me, newest first",
    roles=ANY_MEMBER,
    query=PageQuery,
    response=InboxPage,
)
def my_inbox(call: Call[None, PageQuery]) -> wallet.InboxPage:
    return wallet.my_inbox(call.identity, call.query.limit, call.query.cursor)


@operation(
    me,
    "POST",
    "/inbox/{message_id}/read",
    summary="The app reports the member opened a message (the first report is kept)",
    roles=ANY_MEMBER,
    response=MessageOut,
)
def read_message(call: Call[None, None], message_id: str) -> wallet.MessageView:
    return wallet.mark_read(call.identity, message_id, clock=now)


@operation(
    me,
    "GET",
    "/referrals",
    summary="My referral code and share link, the friends who joined with it, points earned from them",
    roles=ANY_MEMBER,
    query=PageQuery,
    response=MyReferrals,
)
def my_referrals(call: Call[None, PageQuery]) -> referrals.MyReferralsView:
    return referrals.mine(call.identity, call.query.limit, call.query.cursor)


@operation(
    me,
    "POST",
    "/feedback",
    summary="A review, survey answers or a complaint; a review of a purchase earns the bonus once",
    roles=ANY_MEMBER,
    body=FeedbackRequest,
    response=FeedbackOut,
    status=201,
)
def give_feedback(call: Call[FeedbackRequest, None]) -> feedback.FeedbackView:
    return feedback.give(call.identity, command(feedback.GiveFeedback, call.body), clock=now)
