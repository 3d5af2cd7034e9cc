"""The program's admin: the rules, staff and their amends (stores and beacons are ``places.py``'s)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, ANY_MEMBER, STAFF, Call, command, operation
from chalicelib.api.schemas.admin import (
    CompensationItem,
    CompensationList,
    CompensationQuery,
    DeadLetterOut,
    DeadLetterPage,
    ProgramRulesBody,
    ProgramRulesOut,
    RejectBody,
    StaffBody,
    StaffOut,
)
from chalicelib.api.schemas.common import PageQuery, PublicProgramOut
from chalicelib.ports import now
from chalicelib.services import compensations, program, push

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
    response=CompensationItem,
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
    response=CompensationItem,
)
def reject_compensation(call: Call[RejectBody, None], compensation_id: str) -> compensations.CompensationView:
    return compensations.reject(call.identity, compensation_id, call.body.note, clock=now)
