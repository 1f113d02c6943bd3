"""Staff of a facility on the desk's pages, for the tests of beds, blocks, imports and exports:
a manager and a front-desk colleague, each a session (a token in the session cookie)."""

from __future__ import annotations

from typing import Any, Literal

import httpx
import msgspec

from respite.auth.guards import SESSION_COOKIE
from respite.auth.service import create_principal, issue_token
from tests import builders

StaffRole = Literal["manager", "front_desk"]


class Desk(msgspec.Struct):
    facility: int
    manager: str
    front_desk: str


async def staff_token(db: Any, facility: int, role: StaffRole) -> str:
    principal = await create_principal(db, "staff", role, facility_id=facility, staff_role=role)
    return (await issue_token(db, principal, None)).token


async def open_desk(db: Any) -> Desk:
    facility = await builders.facility(db)
    return Desk(
        facility,
        await staff_token(db, facility, "manager"),
        await staff_token(db, facility, "front_desk"),
    )


def sign_in(client: httpx.AsyncClient, token: str, lang: str = "en") -> None:
    client.cookies.set(SESSION_COOKIE, token)
    client.headers["Accept-Language"] = lang
