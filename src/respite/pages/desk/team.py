"""The team: a facility's managers keep its staff accounts (``/desk/team``), and an invited
colleague accepts on the invitation's own page (``/invitations/{token}``).

The team page lists the facility's staff (logins masked), the invitations still open with
their expiry, a form to invite a front desk colleague by email or phone, and for each front
desk colleague a way to remove them (a page that asks first). Every action calls the use
cases of ``auth.staff``, which check the role and the facility as the API does: another
facility's invitation or colleague is not found.

An invitation's link is shown once, to the manager who made it: only its token's hash is
kept. After the form, the token rides for ten minutes in an HttpOnly cookie limited to
``/desk/team``, so the page it lands on (and a reload of it) shows the link to copy and pass
on; the service sends nothing itself, and the page says so.

Accepting asks for a name and a password (the family rules: at least 10 characters), makes
the account, signs it in (the session cookie, as ``pages.account`` makes it) and lands on
``/desk``. An invitation used, withdrawn, expired or unknown gets a page saying what to do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from respite.auth import staff
from respite.auth.errors import AccountExistsError, InvitationEndedError, UnknownInvitationError
from respite.auth.guards import SESSION_COOKIE
from respite.auth.limits import request_address
from respite.auth.model import Principal
from respite.auth.staff_model import (
    Acceptance,
    InvitationState,
    InvitationView,
    NewInvitation,
    StaffMember,
    invitation_path,
)
from respite.deps import Deps
from respite.errors import InvalidInputError, NotFoundError, RespiteError
from respite.inventory.service import get_facility
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import cookie, go, page
from respite.pages.guards import manager
from respite.params import MAX_ID
from respite.problems import problem_kind

__all__ = ["InvitationPages", "TeamPages"]

NEW_INVITATION_COOKIE: Final = "respite_new_invitation"
_SHOWN_FOR: Final = 600
TEAM: Final = "/desk/team"
Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
Token = Annotated[str, PathParameter(min_length=1, max_length=100)]


class InviteForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class AcceptForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]


def _local(when: datetime, timezone: str) -> datetime:
    return when.astimezone(ZoneInfo(timezone))


async def _timezone(deps: Deps, principal: Principal) -> str:
    assert principal.facility_id is not None
    return (await get_facility(deps, principal, principal.facility_id)).timezone


class TeamPages(Controller):
    path = TEAM
    include_in_schema = False

    @get("/")
    async def team(self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]) -> Template:
        return await _team_page(request, deps, manager(request))

    @post("/invitations")
    async def invite(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = manager(request)
        assert principal.facility_id is not None
        fields = await form_fields(request)
        try:
            form = read_form(fields, InviteForm)
            creation = staff.InvitationCreation(
                facility_id=principal.facility_id, invitation=NewInvitation(login=form.login)
            )
            issued = await staff.invite_staff(deps, principal, creation)
        except InvalidInputError as exc:
            return await _team_page(
                request, deps, principal, errors=exc, login=str(fields.get("login", ""))
            )
        shown = cookie(
            NEW_INVITATION_COOKIE,
            issued.token,
            secure=deps.settings.cookies_secure,
            max_age=_SHOWN_FOR,
        )
        shown.path = TEAM
        return go(f"{TEAM}?invited={issued.invitation.id}#new-invitation", cookies=[shown])

    @post("/invitations/{invitation_id:int}/withdraw")
    async def withdraw(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], invitation_id: Id
    ) -> Redirect:
        await staff.withdraw_invitation(deps, manager(request), invitation_id)
        return go(f"{TEAM}?withdrawn={invitation_id}")

    @get("/staff/{staff_id:int}/remove")
    async def confirm_removal(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], staff_id: Id
    ) -> Template:
        principal = manager(request)
        member = await _colleague(deps, principal, staff_id)
        return page(request, "desk/team/remove.html", member=member)

    @post("/staff/{staff_id:int}/remove")
    async def remove(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], staff_id: Id
    ) -> Redirect:
        await staff.remove_staff(deps, manager(request), staff_id)
        return go(f"{TEAM}?removed={staff_id}")


async def _colleague(deps: Deps, principal: Principal, staff_id: int) -> StaffMember:
    assert principal.facility_id is not None
    team = await staff.list_team(deps, principal, principal.facility_id)
    member = next((m for m in team if m.id == staff_id), None)
    if member is None:
        raise NotFoundError("staff_member", staff_id)
    return member


async def _new_invitation(
    request: Request[Any, Any, Any], deps: Deps, principal: Principal
) -> InvitationView | None:
    """The invitation this manager just made, while its cookie lasts and it is still open."""
    token = request.cookies.get(NEW_INVITATION_COOKIE)
    if not token:
        return None
    try:
        view = await staff.read_invitation(deps, token)
    except UnknownInvitationError:
        return None
    if view.facility_id != principal.facility_id or view.state != "pending":
        return None
    return view


async def _team_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    *,
    errors: InvalidInputError | None = None,
    login: str = "",
) -> Template:
    assert principal.facility_id is not None
    timezone = await _timezone(deps, principal)
    members = await staff.list_team(deps, principal, principal.facility_id)
    invitations = await staff.list_invitations(deps, principal, principal.facility_id)
    new = await _new_invitation(request, deps, principal)
    token = request.cookies.get(NEW_INVITATION_COOKIE, "")
    link = f"{str(request.base_url).rstrip('/')}{invitation_path(token)}" if new else None
    return page(
        request,
        "desk/team/team.html",
        status=problem_kind(errors).status if errors else 200,
        errors=errors.errors if errors else None,
        members=members,
        invitations=[(i, _local(i.expires_at, timezone)) for i in invitations],
        new=new,
        new_expires=_local(new.expires_at, timezone) if new else None,
        link=link,
        login=login,
        notice=_notice(request),
    )


def _notice(request: Request[Any, Any, Any]) -> str | None:
    for name in ("withdrawn", "removed"):
        if name in request.query_params:
            return name
    return None


class InvitationPages(Controller):
    """The invitation's page: anyone with the link, signed in or not."""

    path = "/invitations"
    include_in_schema = False

    @get("/{token:str}")
    async def invitation(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], token: Token
    ) -> Template:
        try:
            view = await staff.read_invitation(deps, token)
        except UnknownInvitationError:
            return _ended(request, "unknown", 404)
        if view.state != "pending":
            return _ended(request, view.state, 409)
        return _accept_page(request, view, token)

    @post("/{token:str}")
    async def accept(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], token: Token
    ) -> Template | Redirect:
        fields = await form_fields(request)
        try:
            form = read_form(fields, AcceptForm)
            issued = await staff.accept_invitation(
                deps,
                Acceptance(token=token, name=form.name, password=form.password),
                address=request_address(request, deps.settings),
            )
        except UnknownInvitationError:
            return _ended(request, "unknown", 404)
        except InvitationEndedError as exc:
            return _ended(request, exc.state, 409)
        except RespiteError as exc:
            view = await staff.read_invitation(deps, token)
            return _accept_page(request, view, token, exc=exc, name=fields.get("name", ""))
        days = deps.settings.family_token_days
        session = cookie(
            SESSION_COOKIE,
            issued.token,
            secure=deps.settings.cookies_secure,
            max_age=days * 24 * 3600,
        )
        return go("/desk", cookies=[session, _forget_new_invitation(deps)])


def _forget_new_invitation(deps: Deps) -> Cookie:
    gone = cookie(NEW_INVITATION_COOKIE, "", secure=deps.settings.cookies_secure, max_age=0)
    gone.path = TEAM
    return gone


def _accept_page(
    request: Request[Any, Any, Any],
    view: InvitationView,
    token: str,
    *,
    exc: RespiteError | None = None,
    name: str = "",
) -> Template:
    errors = exc.errors if isinstance(exc, InvalidInputError) else []
    failure = None
    if exc is not None and not errors:
        failure = exc.detail
    return page(
        request,
        "desk/team/invitation.html",
        status=problem_kind(exc).status if exc else 200,
        errors=errors,
        failure=failure,
        account_exists=isinstance(exc, AccountExistsError),
        invitation=view,
        action=invitation_path(token),
        name=name,
    )


def _ended(request: Request[Any, Any, Any], state: InvitationState | str, status: int) -> Template:
    return page(request, "desk/team/ended.html", status=status, state=state)
