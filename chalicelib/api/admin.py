"""The program's admin: the rules, staff and their amends (stores and beacons are ``places.py``'s)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, ANY_MEMBER, STAFF, Call, command, operation
from chalicelib.api.schemas.admin import (
    CompensationList,
    CompensationQuery,
    DeadLetterOut,
    DeadLetterPage,
    DeliveryOut,
    DeliveryPage,
    ProgramRulesBody,
    ProgramRulesOut,
    RejectBody,
    StaffBody,
    StaffOut,
    WebhookBody,
    WebhookOut,
    WebhookPage,
)
from chalicelib.api.schemas.common import CompensationOut, PageQuery, PublicProgramOut
from chalicelib.ports import now
from chalicelib.services import compensations, program, push, webhooks

admin = Blueprint(__name__)


@operation(
    admin,
    "GET",
    "/program/public",
    summary="The program's rules in plain terms, for members (any signed-in role)",
    roles=ANY_MEMBER | STAFF,
    response=PublicProgramOut,
)
def public_program(call: Call[None, None]) -> program.PublicProgramView:
    return program.public()


@operation(admin, "GET", "/program", summary="The program's rules", roles=STAFF, response=ProgramRulesOut)
def get_program(call: Call[None, None]) -> program.ProgramRulesView:
    return program.current()


@operation(
    admin,
    "PUT",
    "/program",
    summary="Replace the program's rules; a new version, effective from the save",
    roles=ADMIN,
    body=ProgramRulesBody,
    response=ProgramRulesOut,
)
def put_program(call: Call[ProgramRulesBody, None]) -> program.ProgramRulesView:
    return program.update(command(program.RulesDraft, call.body), clock=now)


@operation(
    admin,
    "GET",
    "/push/dead-letters",
    summary="Pushes that failed after their retries, newest first",
    roles=ADMIN,
    query=PageQuery,
    response=DeadLetterPage,
)
def list_dead_letters(call: Call[None, PageQuery]) -> push.DeadLetterPage:
    return push.dead_letters(call.identity, call.query.limit, call.query.cursor)


@operation(
    admin,
    "POST",
    "/push/dead-letters/{dead_letter_id}/replay",
    summary="Push a dead letter's message again (once: a second replay answers the first)",
    roles=ADMIN,
    response=DeadLetterOut,
)
def replay_dead_letter(call: Call[None, None], dead_letter_id: str) -> push.DeadLetterView:
    return push.replay(dead_letter_id, clock=now)


@operation(
    admin,
    "PUT",
    "/staff/{sub}",
    summary="A staff member's role, merchant, store and amends limits",
    roles=ADMIN,
    body=StaffBody,
    response=StaffOut,
)
def put_staff(call: Call[StaffBody, None], sub: str) -> compensations.StaffView:
    return compensations.put_staff(sub, command(compensations.StaffLimits, call.body))


@operation(admin, "GET", "/staff/{sub}", summary="A staff member's limits", roles=ADMIN, response=StaffOut)
def get_staff(call: Call[None, None], sub: str) -> compensations.StaffView:
    return compensations.get_staff(sub)


@operation(
    admin,
    "GET",
    "/compensations",
    summary="Amends by status (pending: the ones waiting for an admin), newest first",
    roles=ADMIN,
    query=CompensationQuery,
    response=CompensationList,
)
def list_compensations(call: Call[None, CompensationQuery]) -> compensations.CompensationPage:
    q = call.query
    return compensations.pending(call.identity, q.status, q.limit, q.cursor)


@operation(
    admin,
    "POST",
    "/compensations/{compensation_id}/approve",
    summary="Grant amends a cashier asked for above their limit (once)",
    roles=ADMIN,
    response=CompensationOut,
)
def approve_compensation(call: Call[None, None], compensation_id: str) -> compensations.CompensationView:
    return compensations.approve(call.identity, compensation_id, clock=now)


@operation(
    admin,
    "POST",
    "/compensations/{compensation_id}/reject",
    summary="Refuse amends a cashier asked for above their limit",
    roles=ADMIN,
    body=RejectBody,
    response=CompensationOut,
)
def reject_compensation(call: Call[RejectBody, None], compensation_id: str) -> compensations.CompensationView:
    return compensations.reject(call.identity, compensation_id, call.body.note, clock=now)


@operation(admin, "GET", "/webhooks", summary="The CRM's webhooks", roles=ADMIN, query=PageQuery, response=WebhookPage)
def list_webhooks(call: Call[None, PageQuery]) -> webhooks.WebhookPage:
    return webhooks.page(call.identity, call.query.limit, call.query.cursor)


@operation(
    admin,
    "POST",
    "/webhooks",
    summary="A CRM endpoint for some events, signed with HMAC-SHA256 (the secret is shown once)",
    roles=ADMIN,
    body=WebhookBody,
    response=WebhookOut,
    status=201,
)
def create_webhook(call: Call[WebhookBody, None]) -> webhooks.WebhookView:
    return webhooks.create(command(webhooks.WebhookDraft, call.body), clock=now)


@operation(admin, "GET", "/webhooks/{webhook_id}", summary="One webhook", roles=ADMIN, response=WebhookOut)
def get_webhook(call: Call[None, None], webhook_id: str) -> webhooks.WebhookView:
    return webhooks.get(webhook_id)


@operation(
    admin,
    "PUT",
    "/webhooks/{webhook_id}",
    summary="Replace a webhook (a secret left out keeps the current one)",
    roles=ADMIN,
    body=WebhookBody,
    response=WebhookOut,
)
def replace_webhook(call: Call[WebhookBody, None], webhook_id: str) -> webhooks.WebhookView:
    return webhooks.replace(webhook_id, command(webhooks.WebhookDraft, call.body))


@operation(admin, "DELETE", "/webhooks/{webhook_id}", summary="Remove a webhook", roles=ADMIN, status=204)
def delete_webhook(call: Call[None, None], webhook_id: str) -> None:
    webhooks.delete(webhook_id)


@operation(
    admin,
    "GET",
    "/webhooks/{webhook_id}/deliveries",
    summary="A webhook's delivery log, newest first (30 days)",
    roles=ADMIN,
    query=PageQuery,
    response=DeliveryPage,
)
def webhook_deliveries(call: Call[None, PageQuery], webhook_id: str) -> webhooks.DeliveryPage:
    return webhooks.deliveries(call.identity, webhook_id, call.query.limit, call.query.cursor)


@operation(
    admin,
    "POST",
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    summary="Send a delivery again from its first attempt",
    roles=ADMIN,
    response=DeliveryOut,
)
def replay_delivery(call: Call[None, None], webhook_id: str, delivery_id: str) -> webhooks.DeliveryView:
    return webhooks.replay(webhook_id, delivery_id, clock=now)
