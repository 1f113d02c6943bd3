"""Use cases of staff accounts: invite a colleague, withdraw an invitation, accept one, see
the team, remove a front-desk colleague.

Who may: a facility's managers, for their own facility (``staff_roles``: ``team``), and
admins for any; another facility's team, invitations and staff are "not found", as
everywhere. Managers invite front desk only; a facility's first manager is invited by an
admin (the API, or ``respite staff invite`` on the command line: ``principal`` None).
Accepting needs only the invitation's token: it makes the account, with the login the
invitation named, and signs it in. Removing a colleague disables the account and revokes its
every token in one transaction: a browser signed in stops working at its next request.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import asyncpg
import msgspec

from respite import audit
from respite.auth import queries as auth_q
from respite.auth import staff_queries as q
from respite.auth import staff_roles
from respite.auth.errors import AccountExistsError, InvitationEndedError, UnknownInvitationError
from respite.auth.logins import canonical_login
from respite.auth.model import Principal, TokenIssued, hash_password, hash_token
from respite.auth.service import _phone_hashes, issue_token
from respite.auth.staff_model import (
    INVITATION_VALID,
    Acceptance,
    Invitation,
    InvitationIssued,
    InvitationView,
    NewInvitation,
    StaffMember,
    invitation_path,
    invitation_state,
    masked_email,
    new_invitation_token,
)
from respite.db import Conn
from respite.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from respite.i18n import t
from respite.ratelimit import enforce

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "accept_invitation",
    "invite_staff",
    "list_invitations",
    "list_team",
    "read_invitation",
    "remove_staff",
    "withdraw_invitation",
]

MAX_LISTED: Final = 500
"""A team and its open invitations are listed whole, up to this many (a facility's staff)."""


class InvitationCreation(msgspec.Struct, frozen=True, kw_only=True):
    facility_id: int
    invitation: NewInvitation


class _Login(msgspec.Struct, frozen=True, kw_only=True):
    email: str | None = None
    phone_hashes: list[bytes] = []
    phone_last4: str | None = None


def _scope(principal: Principal | None) -> int | None:
    """The facility whose team ``principal`` may keep, None for every one (admin, operator);
    others are refused."""
    if principal is None or principal.role == "admin":
        return None
    if principal.role == "staff" and principal.facility_id is not None:
        return principal.facility_id
    raise PermissionDeniedError(t("staff_accounts.staff_only"))


def _own_facility(principal: Principal | None, facility_id: int) -> None:
    scope = _scope(principal)
    if scope is not None and scope != facility_id:
        raise NotFoundError("facility", facility_id)
    staff_roles.require(principal, "team")


def _invitation(row: asyncpg.Record | None, now: datetime) -> Invitation:
    assert row is not None, "the statement returns the row it wrote"
    return Invitation(
        id=row["id"],
        facility_id=row["facility_id"],
        staff_role=row["staff_role"],
        login_kind="email" if row["email"] is not None else "phone",
        email=masked_email(row["email"]),
        phone_last4=row["phone_last4"],
        state=invitation_state(
            accepted_at=row["accepted_at"],
            withdrawn_at=row["withdrawn_at"],
            expires_at=row["expires_at"],
            now=now,
        ),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        invited_by=row["invited_by"],
    )


def _member(row: asyncpg.Record) -> StaffMember:
    return StaffMember(
        id=row["id"],
        name=row["name"],
        staff_role=row["staff_role"],
        email=masked_email(row["email"]),
        phone_last4=row["phone_last4"],
        created_at=row["created_at"],
    )


def _login(deps: Deps, text: str) -> _Login:
    login = canonical_login(text, deps.settings.phone_region)
    if login.kind == "email":
        return _Login(email=login.value)
    if login.kind == "phone":
        hashes = _phone_hashes(deps.settings, login.value)
        return _Login(phone_hashes=hashes, phone_last4=login.value[-4:])
    raise InvalidInputError.one("login", t("staff_accounts.login_form"))


async def _taken(conn: Conn, login: _Login) -> bool:
    if login.email is not None:
        return bool(await conn.fetchval(q.EMAIL_TAKEN, login.email))
    return bool(await conn.fetchval(auth_q.PHONE_TAKEN, login.phone_hashes))


async def invite_staff(
    deps: Deps, principal: Principal | None, creation: InvitationCreation
) -> InvitationIssued:
    """A new invitation to the facility's team, and its link (shown once). Inviting a login
    that has an open invitation here withdraws that one: its link stops working."""
    facility_id, new = creation.facility_id, creation.invitation
    _own_facility(principal, facility_id)
    if new.staff_role == "manager" and principal is not None and principal.role != "admin":
        raise PermissionDeniedError(t("staff_accounts.admins_invite_managers"))
    login = _login(deps, new.login)
    token = new_invitation_token()
    now = deps.clock.now()
    phone_hash = login.phone_hashes[0] if login.phone_hashes else None
    async with deps.pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(q.FACILITY_NAME, facility_id) is None:
            raise NotFoundError("facility", facility_id)
        if await _taken(conn, login):
            raise InvalidInputError.one("login", t("staff_accounts.login_taken"))
        for earlier in await conn.fetch(
            q.WITHDRAW_OPEN_FOR_LOGIN, facility_id, login.email, phone_hash, now
        ):
            await audit.record(
                conn,
                principal,
                "withdraw",
                "staff_invitation",
                earlier["id"],
                facility_id=facility_id,
            )
        try:
            row = await conn.fetchrow(
                q.INSERT_INVITATION,
                *(facility_id, new.staff_role, login.email, phone_hash, login.phone_last4),
                *(hash_token(token), principal.id if principal else None),
                *(now, now + INVITATION_VALID),
            )
        except asyncpg.UniqueViolationError:
            # The same login invited at the same moment by someone else: theirs stands.
            raise InvalidInputError.one("login", t("staff_accounts.login_invited")) from None
        invitation = _invitation(row, now)
        await audit.record(
            conn,
            principal,
            "invite",
            "staff_invitation",
            invitation.id,
            facility_id=facility_id,
            after=invitation,
        )
    return InvitationIssued(invitation=invitation, token=token, path=invitation_path(token))


async def list_invitations(deps: Deps, principal: Principal, facility_id: int) -> list[Invitation]:
    """The facility's invitations neither used nor withdrawn (expired ones say so), newest
    first."""
    _own_facility(principal, facility_id)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        if await conn.fetchval(q.FACILITY_NAME, facility_id) is None:
            raise NotFoundError("facility", facility_id)
        rows = await conn.fetch(q.OPEN_INVITATIONS, facility_id, MAX_LISTED)
    return [_invitation(row, now) for row in rows]


async def withdraw_invitation(deps: Deps, principal: Principal, invitation_id: int) -> Invitation:
    """Withdraw an invitation: its link stops working. Withdrawing one already withdrawn or
    expired answers it as it is; one already used cannot be (409 ``invitation-ended``)."""
    scope = _scope(principal)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.INVITATION_FOR_UPDATE, invitation_id, scope)
        if row is None:
            raise NotFoundError("staff_invitation", invitation_id)
        staff_roles.require(principal, "team")
        before = _invitation(row, now)
        if before.state == "used":
            raise InvitationEndedError("used")
        if row["withdrawn_at"] is not None:
            return before
        after = _invitation(await conn.fetchrow(q.WITHDRAW_INVITATION, invitation_id, now), now)
        await audit.record(
            conn,
            principal,
            "withdraw",
            "staff_invitation",
            invitation_id,
            facility_id=before.facility_id,
            before=before,
            after=after,
        )
    return after


async def read_invitation(deps: Deps, token: str) -> InvitationView:
    """What an invitation's link shows, whatever its state; an unknown token is 404."""
    row = await deps.pool.fetchrow(q.INVITATION_BY_TOKEN, hash_token(token))
    if row is None:
        raise UnknownInvitationError
    invitation = _invitation(row, deps.clock.now())
    return InvitationView(
        id=invitation.id,
        facility_id=invitation.facility_id,
        facility_name=row["facility_name"],
        staff_role=invitation.staff_role,
        login_kind=invitation.login_kind,
        email=invitation.email,
        phone_last4=invitation.phone_last4,
        state=invitation.state,
        expires_at=invitation.expires_at,
    )


async def accept_invitation(deps: Deps, acceptance: Acceptance, *, address: str) -> TokenIssued:
    """Make the invited colleague's account (the invitation's login, role and facility, the
    name and password given) and sign it in; the invitation is used. ``address`` is the
    client's, for the same limit as registering."""
    settings = deps.settings
    await enforce(
        deps.redis,
        [(f"rl:register:addr:{address}", settings.signin_limit_per_address)],
        settings.signin_window_seconds,
    )
    password_hash = await asyncio.to_thread(hash_password, acceptance.password)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.INVITATION_BY_TOKEN_FOR_UPDATE, hash_token(acceptance.token))
        if row is None:
            raise UnknownInvitationError
        invitation = _invitation(row, now)
        if invitation.state != "pending":
            raise InvitationEndedError(invitation.state)
        phone_hash: bytes | None = row["phone_hash"]
        login = _Login(
            email=row["email"],
            phone_hashes=[phone_hash] if phone_hash else [],
            phone_last4=row["phone_last4"],
        )
        if await _taken(conn, login):
            raise AccountExistsError
        try:
            principal_id = await conn.fetchval(
                q.INSERT_STAFF,
                *(acceptance.name, login.email, phone_hash, login.phone_last4, password_hash),
                *(invitation.facility_id, invitation.staff_role),
            )
        except asyncpg.UniqueViolationError:
            raise AccountExistsError from None
        await conn.execute(q.ACCEPT_INVITATION, invitation.id, now, principal_id)
        principal = Principal(
            id=principal_id,
            role="staff",
            name=acceptance.name,
            facility_id=invitation.facility_id,
            staff_role=invitation.staff_role,
        )
        await audit.record(
            conn,
            principal,
            "accept",
            "staff_invitation",
            invitation.id,
            facility_id=invitation.facility_id,
            after={"principal_id": principal_id, "staff_role": invitation.staff_role},
        )
        expires = now + timedelta(days=settings.family_token_days)
        return await issue_token(conn, principal, expires, "invitation")


async def list_team(deps: Deps, principal: Principal, facility_id: int) -> list[StaffMember]:
    """The facility's staff accounts that work (not removed): managers first, then by name."""
    _own_facility(principal, facility_id)
    async with deps.pool.acquire() as conn:
        if await conn.fetchval(q.FACILITY_NAME, facility_id) is None:
            raise NotFoundError("facility", facility_id)
        rows = await conn.fetch(q.TEAM, facility_id, MAX_LISTED)
    return [_member(row) for row in rows]


async def remove_staff(deps: Deps, principal: Principal, staff_id: int) -> StaffMember:
    """Remove a colleague from the team: the account is disabled and its every token revoked
    at once, and its login is freed (the person may be invited again, to a new account). A
    manager removes front desk staff of their facility, never themself nor another manager;
    an admin removes anyone's staff."""
    scope = _scope(principal)
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.STAFF_FOR_UPDATE, staff_id, scope)
        if row is None:
            raise NotFoundError("staff_member", staff_id)
        staff_roles.require(principal, "team")
        member = _member(row)
        if principal.role != "admin":
            if member.id == principal.id:
                raise PermissionDeniedError(t("staff_accounts.not_yourself"))
            if member.staff_role == "manager":
                raise PermissionDeniedError(t("staff_accounts.not_a_manager"))
        await conn.execute(q.DISABLE_PRINCIPAL, staff_id, deps.clock.now())
        revoked = await conn.fetch(auth_q.REVOKE_TOKENS_OF_PRINCIPAL, staff_id)
        await audit.record(
            conn,
            principal,
            "remove",
            "principal",
            staff_id,
            facility_id=row["facility_id"],
            before=member,
            after={"disabled": True, "tokens_revoked": [r["id"] for r in revoked]},
        )
    return member
