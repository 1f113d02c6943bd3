"""Use cases of hospital organisations and their API credentials (admins only).

A credential is a principal of role ``hospital`` bound to the organisation, with one bearer
token labelled after what uses it ("HIS production"); revoking it revokes that token. A
hospital may hold several, so a leaked one is replaced without stopping the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import audit, paging
from respite.auth.model import Principal
from respite.auth.service import create_principal, issue_token
from respite.errors import NotFoundError
from respite.paging import Page
from respite.referral import queries as q
from respite.referral.hospital_model import (
    Credential,
    CredentialIssued,
    Hospital,
    HospitalFilter,
    IssueCredential,
    NewHospital,
    RevokeCredential,
)

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "create_hospital",
    "issue_credential",
    "list_credentials",
    "list_hospitals",
    "revoke_credential",
]

HOSPITAL_PAGES = "page:hospitals"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""


def _hospital(row: asyncpg.Record) -> Hospital:
    return Hospital(id=row["id"], name=row["name"], created_at=row["created_at"])


def _credential(row: asyncpg.Record) -> Credential:
    return Credential(
        id=row["id"],
        label=row["label"],
        principal_id=row["principal_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


async def create_hospital(deps: Deps, admin: Principal, form: NewHospital) -> Hospital:
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.INSERT_HOSPITAL, form.name.strip())
        assert row is not None  # INSERT ... RETURNING
        hospital = _hospital(row)
        await audit.record(conn, admin, "create", "hospital", hospital.id, after=hospital)
    return hospital


async def list_hospitals(deps: Deps, admin: Principal, filters: HospitalFilter) -> Page[Hospital]:
    after = paging.decode(deps.settings, HOSPITAL_PAGES, filters.cursor, int) or 0
    rows = await deps.pool.fetch(q.LIST_HOSPITALS, after, paging.fetch_size(filters.limit))
    fetched = [_hospital(row) for row in rows]
    return paging.page(deps.settings, HOSPITAL_PAGES, fetched, filters.limit, lambda h: h.id)


async def issue_credential(
    deps: Deps, admin: Principal, command: IssueCredential
) -> CredentialIssued:
    """A new API credential of the hospital; the answer shows its token once."""
    hospital_id, label = command.hospital_id, command.credential.label.strip()
    async with deps.pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval(q.HOSPITAL_EXISTS, hospital_id):
            raise NotFoundError("hospital", hospital_id)
        principal = await create_principal(conn, "hospital", label, hospital_id=hospital_id)
        issued = await issue_token(conn, principal, None, label)
        row = await conn.fetchrow(q.SELECT_CREDENTIAL_OF_PRINCIPAL, principal.id)
        assert row is not None  # the token was issued in this transaction
        await audit.record(
            conn, admin, "issue", "credential", row["id"], after={"hospital_id": hospital_id}
        )
    return CredentialIssued(**msgspec.structs.asdict(_credential(row)), token=issued.token)


async def list_credentials(deps: Deps, admin: Principal, hospital_id: int) -> list[Credential]:
    async with deps.pool.acquire() as conn:
        if not await conn.fetchval(q.HOSPITAL_EXISTS, hospital_id):
            raise NotFoundError("hospital", hospital_id)
        rows = await conn.fetch(q.LIST_CREDENTIALS, hospital_id)
    return [_credential(row) for row in rows]


async def revoke_credential(deps: Deps, admin: Principal, command: RevokeCredential) -> Credential:
    """Revoke one credential at once; the hospital's others keep working."""
    hospital_id, credential_id = command.hospital_id, command.credential_id
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.REVOKE_CREDENTIAL, hospital_id, credential_id)
        if row is None:
            raise NotFoundError("credential", credential_id)
        await audit.record(
            conn, admin, "revoke", "credential", credential_id, after={"hospital_id": hospital_id}
        )
    return _credential(row)
