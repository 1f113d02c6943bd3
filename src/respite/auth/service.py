"""Use cases of principals and credentials: register, sign in, sign out, authenticate; and
the building blocks operators and hospitals' credentials use inside their own transaction
(create a principal, issue a token, revoke one by id).

Registering and signing in act for nobody yet, so they take no principal. Every expiry is
reckoned by the app's one clock (``deps.clock``), never by the database's.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import audit
from respite.auth import queries as q
from respite.auth.errors import AccountExistsError
from respite.auth.limits import admit_sign_in, signed_in
from respite.auth.logins import Login, canonical_login, canonical_phone, earlier_phone_spelling
from respite.auth.model import (
    FamilyRegistration,
    Principal,
    Role,
    SignIn,
    StaffRole,
    TokenInfo,
    TokenIssued,
    hash_password,
    hash_token,
    identifier_hash,
    new_token,
    verify_password,
)
from respite.db import Conn, Pool
from respite.errors import AuthenticationError, InvalidInputError
from respite.i18n import t
from respite.ratelimit import enforce

if TYPE_CHECKING:
    from respite.deps import Deps
    from respite.settings import Settings

__all__ = [
    "Account",
    "account_of",
    "authenticate",
    "create_principal",
    "issue_token",
    "list_tokens",
    "principal_from_row",
    "register_family",
    "revoke_token_id",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
]

# Checked against when the login is unknown, so a wrong login costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password")


def principal_from_row(row: asyncpg.Record) -> Principal:
    return Principal(
        id=row["id"],
        role=row["role"],
        name=row["name"],
        facility_id=row["facility_id"],
        hospital_id=row["hospital_id"],
        staff_role=row["staff_role"],
    )


async def issue_token(
    conn: Conn, principal: Principal, expires_at: datetime | None, label: str = ""
) -> TokenIssued:
    """A new bearer token of ``principal``, in the caller's transaction (only its hash is
    stored; the answer shows it once)."""
    token = new_token()
    await conn.fetchval(q.INSERT_TOKEN, principal.id, hash_token(token), label, expires_at)
    return TokenIssued(
        token=token,
        expires_at=expires_at.isoformat() if expires_at else None,
        principal=principal,
    )


async def create_principal(
    conn: Conn,
    role: Role,
    name: str,
    *,
    facility_id: int | None = None,
    hospital_id: int | None = None,
    staff_role: StaffRole = "manager",
) -> Principal:
    """An operator-made principal (staff, hospital, admin), in the caller's transaction; it
    signs in with tokens only. Staff made so are their facility's managers unless
    ``staff_role`` says otherwise."""
    if role == "staff" and (
        facility_id is None or not await conn.fetchval(q.FACILITY_EXISTS, facility_id)
    ):
        raise InvalidInputError.one("facility", t("auth.no_facility", id=facility_id))
    if role == "hospital" and (
        hospital_id is None or not await conn.fetchval(q.HOSPITAL_EXISTS, hospital_id)
    ):
        raise InvalidInputError.one("hospital", t("auth.no_hospital", id=hospital_id))
    role_inside = staff_role if role == "staff" else None
    principal_id = await conn.fetchval(
        q.INSERT_PRINCIPAL,
        *(role, name, None, None, None, None, facility_id, hospital_id, role_inside),
    )
    return Principal(
        id=principal_id,
        role=role,
        name=name,
        facility_id=facility_id,
        hospital_id=hospital_id,
        staff_role=role_inside,
    )


def _phone_hashes(settings: Settings, e164: str) -> list[bytes]:
    """The keyed hashes a number's account may be kept under: the canonical one first."""
    spellings = [e164]
    if (earlier := earlier_phone_spelling(e164)) is not None:
        spellings.append(earlier)
    return [identifier_hash(settings.secret_key, spelling) for spelling in spellings]


async def register_family(deps: Deps, form: FamilyRegistration, *, address: str) -> TokenIssued:
    """A family account and its first token; ``address`` is the client's, for the rate limit.
    A phone number is kept in its canonical form, so any spelling of it signs in."""
    settings = deps.settings
    await enforce(
        deps.redis,
        [(f"rl:register:addr:{address}", settings.signin_limit_per_address)],
        settings.signin_window_seconds,
    )
    phone = canonical_phone(form.phone, settings.phone_region) if form.phone else None
    if form.phone and phone is None:
        raise InvalidInputError.one("phone", t("auth.phone_invalid"))
    hashes = _phone_hashes(settings, phone) if phone else []
    password_hash = await asyncio.to_thread(hash_password, form.password)
    async with deps.pool.acquire() as conn, conn.transaction():
        if hashes and await conn.fetchval(q.PHONE_TAKEN, hashes):
            raise AccountExistsError
        try:
            principal_id = await conn.fetchval(
                q.INSERT_PRINCIPAL,
                "family",
                form.name,
                form.email.lower() if form.email else None,
                hashes[0] if hashes else None,
                phone[-4:] if phone else None,
                password_hash,
                None,
                None,
                None,
            )
        except asyncpg.UniqueViolationError:
            raise AccountExistsError from None
        principal = Principal(id=principal_id, role="family", name=form.name)
        await audit.record(conn, principal, "register", "principal", principal_id)
        expires = deps.clock.now() + timedelta(days=settings.family_token_days)
        return await issue_token(conn, principal, expires, "sign-up")


class Account(msgspec.Struct, frozen=True):
    """An account found by its login, as signing in needs it."""

    row: asyncpg.Record
    moved_to: bytes | None
    """The canonical hash of its number, when it is still kept under an earlier spelling."""


async def account_of(pool: Pool, settings: Settings, login: Login) -> Account | None:
    """The account a canonical login names (an enabled one), or None."""
    if login.kind == "email":
        row = await pool.fetchrow(q.SELECT_PRINCIPAL_BY_EMAIL, login.value)
        return None if row is None else Account(row, None)
    if login.kind == "other":
        return None
    hashes = _phone_hashes(settings, login.value)
    row = await pool.fetchrow(q.SELECT_PRINCIPAL_BY_PHONE, hashes[0], hashes)
    if row is None:
        return None
    return Account(row, None if row["phone_hash"] == hashes[0] else hashes[0])


async def sign_in(deps: Deps, form: SignIn, *, address: str) -> TokenIssued:
    """A new token for a family signing in with an email address or phone number (any
    spelling of it); limited as ``auth.limits`` explains."""
    settings = deps.settings
    login = canonical_login(form.login, settings.phone_region)
    key = identifier_hash(settings.secret_key, login.value).hex()
    attempt = await admit_sign_in(deps.redis, deps.settings, key, address)
    account = await account_of(deps.pool, deps.settings, login)
    kept = account.row["password_hash"] if account is not None else None
    stored = kept or _DUMMY_HASH
    matches = await asyncio.to_thread(verify_password, form.password, stored)
    if account is None or not matches or stored is _DUMMY_HASH:
        raise AuthenticationError(t("auth.wrong_login"))
    await signed_in(deps.redis, deps.settings, attempt)
    principal = principal_from_row(account.row)
    async with deps.pool.acquire() as conn, conn.transaction():
        if account.moved_to is not None:
            await conn.execute(q.CANONICAL_PHONE, principal.id, account.moved_to)
        await audit.record(conn, principal, "sign_in", "principal", principal.id)
        expires = deps.clock.now() + timedelta(days=settings.family_token_days)
        return await issue_token(conn, principal, expires, "sign-in")


async def authenticate(deps: Deps, token: str) -> Principal | None:
    """Whom a bearer token acts for; None when it is unknown, expired or revoked."""
    row = await deps.pool.fetchrow(q.SELECT_PRINCIPAL_BY_TOKEN, hash_token(token), deps.clock.now())
    return None if row is None else principal_from_row(row)


async def sign_out(deps: Deps, principal: Principal, token: str) -> None:
    """Revoke the token the request was made with."""
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.REVOKE_TOKEN, hash_token(token))
        if row is not None:
            await audit.record(conn, principal, "revoke", "token", row["id"])


async def sign_out_everywhere(deps: Deps, principal: Principal) -> int:
    """Revoke every token of ``principal``: every browser signed in and every API token; how
    many were live."""
    async with deps.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(q.REVOKE_TOKENS_OF_PRINCIPAL, principal.id)
        for row in rows:
            await audit.record(conn, principal, "revoke", "token", row["id"])
    return len(rows)


async def revoke_token_id(conn: Conn, token_id: int) -> bool:
    """Revoke a token by its id (an operator's command), in the caller's transaction; whether
    a live one was found."""
    row = await conn.fetchrow(q.REVOKE_TOKEN_BY_ID, token_id)
    if row is not None:
        await audit.record(conn, None, "revoke", "token", row["id"])
    return row is not None


async def list_tokens(conn: Conn) -> list[TokenInfo]:
    """Every token, oldest first (an operator's command), without the tokens themselves."""
    return [TokenInfo(**dict(row)) for row in await conn.fetch(q.LIST_TOKENS)]
