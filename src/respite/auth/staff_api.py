"""HTTP routes of staff accounts: a facility's team and its invitations (its managers and
admins), and accepting an invitation (anyone holding its link)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from respite.auth import staff
from respite.auth.guards import requires
from respite.auth.limits import request_address
from respite.auth.model import Principal, TokenIssued
from respite.auth.staff_model import (
    Acceptance,
    Invitation,
    InvitationIssued,
    NewInvitation,
    StaffMember,
)
from respite.deps import Deps
from respite.dto import Strict
from respite.params import MAX_ID, FacilityPathId

__all__ = ["InvitationAcceptController", "TeamController"]

InvitationPathId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="The id of the staff invitation.")
]
StaffPathId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="The id of the staff member's account.")
]


class TeamController(Controller):
    path = "/v1"
    tags = ["staff"]
    guards = [requires("staff", "admin")]

    @post(
        "/facilities/{facility_id:int}/staff-invitations",
        dto=Strict[NewInvitation],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Invite a colleague to the team",
    )
    async def invite(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        data: JSONBody[NewInvitation],
    ) -> InvitationIssued:
        """Invite someone to the facility's team by email address or phone number: the answer
        carries the link to pass on (shown once; the service sends nothing). It expires after
        7 days, is used once, and inviting the same login again withdraws the earlier one.
        The facility's managers invite front desk; admins invite either role, so they make a
        facility's first manager. Front desk staff get 403 ``managers-only``."""
        creation = staff.InvitationCreation(facility_id=facility_id, invitation=data)
        return await staff.invite_staff(deps, principal, creation)

    @get(
        "/facilities/{facility_id:int}/staff-invitations",
        summary="List the team's open invitations",
    )
    async def invitations(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
    ) -> list[Invitation]:
        """Invitations neither used nor withdrawn, newest first (``state`` says which have
        expired); at most 500."""
        return await staff.list_invitations(deps, principal, facility_id)

    @post(
        "/staff-invitations/{invitation_id:int}/withdraw",
        status_code=HTTP_200_OK,
        summary="Withdraw an invitation",
    )
    async def withdraw(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        invitation_id: InvitationPathId,
    ) -> Invitation:
        """Its link stops working at once; one already used answers 409
        ``invitation-ended``."""
        return await staff.withdraw_invitation(deps, principal, invitation_id)

    @get("/facilities/{facility_id:int}/staff", summary="List the team")
    async def team(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
    ) -> list[StaffMember]:
        """The facility's staff accounts, managers first, then by name; logins masked."""
        return await staff.list_team(deps, principal, facility_id)

    @post("/staff/{staff_id:int}/remove", status_code=HTTP_200_OK, summary="Remove a colleague")
    async def remove(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        staff_id: StaffPathId,
    ) -> StaffMember:
        """Disable the account and revoke its every token at once. Managers remove front desk
        staff of their facility (not themselves, not a manager); admins remove anyone's."""
        return await staff.remove_staff(deps, principal, staff_id)


class InvitationAcceptController(Controller):
    path = "/v1/staff-invitations"
    tags = ["staff"]

    @post(
        "/accept",
        dto=Strict[Acceptance],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Accept a staff invitation",
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        data: JSONBody[Acceptance],
    ) -> TokenIssued:
        """Make the invited account (the invitation's login and role, this name and password)
        and sign it in: the answer carries its first token. An invitation used, withdrawn or
        expired answers 409 ``invitation-ended``; an unknown token 404."""
        return await staff.accept_invitation(
            deps, data, address=request_address(request, deps.settings)
        )
