"""The program's admin: the rules (stores and beacons are ``places.py``'s)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, STAFF, Call, command, operation
from chalicelib.api.schemas.admin import ProgramRulesBody, ProgramRulesOut
from chalicelib.ports import now
from chalicelib.services import program

admin = Blueprint(__name__)


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
