"""Each row of the roles matrix (``auth.staff_roles.MATRIX``) over the API: what a facility's
front desk may do, and what only its managers may. A manager-only action asked by front desk
answers 403 ``managers-only`` in the caller's language and changes nothing; the same request
by a manager succeeds. Another facility's front desk meets 404 before any role is looked at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.auth.model import Principal, StaffRole
from respite.auth.service import create_principal, issue_token
from respite.auth.staff_roles import ACTIONS, MATRIX, Action, may
from tests import builders
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_walk_in import OVERRIDE


class Site(msgspec.Struct):
    facility: int
    bed: int
    recipient: int
    today: date
    db: Any


async def headers_of(db: Any, facility: int, staff_role: StaffRole) -> dict[str, str]:
    principal = await create_principal(
        db, "staff", staff_role, facility_id=facility, staff_role=staff_role
    )
    issued = await issue_token(db, principal, None)
    return {"Authorization": f"Bearer {issued.token}"}


def stay(site: Site, start: int, nights: int = 2) -> dict[str, str]:
    first = site.today + timedelta(days=start)
    return {
        "check_in": first.isoformat(),
        "check_out": (first + timedelta(days=nights)).isoformat(),
    }


Act = Callable[[httpx.AsyncClient, Site, dict[str, str]], Awaitable[httpx.Response]]


async def see_board(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    window = stay(site, 0, 31)
    url = (
        f"/v1/facilities/{site.facility}/board?start={window['check_in']}&end={window['check_out']}"
    )
    return await client.get(url, headers=h)


async def check_in(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    booking = await builders.booking(
        site.db, site.bed, site.today, site.today + timedelta(days=2), recipient_id=site.recipient
    )
    return await client.post(f"/v1/bookings/{booking}/check-in", headers=h)


async def walk_in(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    body = {"care_recipient_id": site.recipient, "bed_id": site.bed, **stay(site, 0)}
    return await client.post(f"/v1/facilities/{site.facility}/walk-ins", json=body, headers=h)


async def hold(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    body = {"care_recipient_id": site.recipient, "bed_id": site.bed, **stay(site, 5)}
    return await client.post("/v1/holds", json=body, headers=h)


async def block(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    body = {**stay(site, 10), "reason": "cleaning"}
    return await client.post(f"/v1/beds/{site.bed}/blocks", json=body, headers=h)


async def see_elder(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    return await client.get(f"/v1/care-recipients/{site.recipient}", headers=h)


async def referrals(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    return await client.get(f"/v1/facilities/{site.facility}/referrals", headers=h)


async def add_bed(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    body = {"kind": "respite", "label": "NEW-1", "sex_rule": "any", "nightly_price": 100}
    return await client.post(f"/v1/facilities/{site.facility}/beds", json=body, headers=h)


async def import_beds(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"/v1/facilities/{site.facility}/beds/import",
        content=b"label,kind,sex_rule,nightly_price\nIMP-1,respite,any,100\n",
        headers={**h, "content-type": "text/csv"},
    )


async def override(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    unassessed = await builders.recipient(site.db, facility_id=site.facility, level=None)
    body = {
        "care_recipient_id": unassessed,
        "bed_id": site.bed,
        **stay(site, 0),
        "override_reason": OVERRIDE,
        "overrides": [{"code": "no_assessment"}],
    }
    return await client.post(f"/v1/facilities/{site.facility}/walk-ins", json=body, headers=h)


async def invite(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"/v1/facilities/{site.facility}/staff-invitations",
        json={"login": "new.colleague@example.test"},
        headers=h,
    )


async def profile(client: httpx.AsyncClient, site: Site, h: dict[str, str]) -> httpx.Response:
    body = {"phone": "021-12345678", "visiting_hours": "9-17"}
    return await client.patch(f"/v1/facilities/{site.facility}", json=body, headers=h)


# One request doing each action of the matrix. ``exports`` has no route of the API yet (the
# desk's exports are pages): its row is checked by ``may`` alone, below.
ACTS: dict[Action, Act] = {
    "board": see_board,
    "day": check_in,
    "walk_ins": walk_in,
    "holds": hold,
    "blocks": block,
    "elders": see_elder,
    "referrals": referrals,
    "beds": add_bed,
    "import_beds": import_beds,
    "overrides": override,
    "team": invite,
    "profile": profile,
}
WITHOUT_A_ROUTE = {"exports"}


def test_every_action_of_the_matrix_is_tried() -> None:
    assert set(ACTS) | WITHOUT_A_ROUTE == set(ACTIONS)


def test_the_matrix_as_the_common_brief_decided_it() -> None:
    manager_only = {"beds", "import_beds", "overrides", "team", "profile"}
    for action in ACTIONS:
        assert MATRIX[action] == (
            {"manager"} if action in manager_only else {"manager", "front_desk"}
        ), action
    front = Principal(id=1, role="staff", name="f", facility_id=1, staff_role="front_desk")
    manager = msgspec.structs.replace(front, staff_role="manager")
    admin = Principal(id=2, role="admin", name="a")
    family = Principal(id=3, role="family", name="f")
    for action in ACTIONS:
        assert may(manager, action) and may(admin, action) and may(None, action)
        assert may(front, action) == (action not in manager_only)
        assert not may(family, action)


@pytest.fixture
async def site(db: Any) -> Site:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, facility_id=facility, level=2)
    return Site(facility, bed, recipient, builders.today(), db)


async def _audit_rows(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM audit_log"))


@pytest.mark.parametrize("staff_role", ["manager", "front_desk"])
@pytest.mark.parametrize("action", list(ACTS))
async def test_each_row_of_the_matrix_over_the_api(
    client: httpx.AsyncClient, db: Any, site: Site, action: Action, staff_role: StaffRole
) -> None:
    headers = await headers_of(db, site.facility, staff_role)
    before = await _audit_rows(db)
    answer = await ACTS[action](client, site, headers)
    if staff_role in MATRIX[action]:
        assert 200 <= answer.status_code < 300, answer.text
        return
    problem = assert_problem(answer, 403, "managers-only")
    assert problem["action"] == action and problem["allowed_staff_roles"] == ["manager"]
    assert "Only the care home's managers may" in problem["detail"]
    assert await _audit_rows(db) == before


@pytest.mark.parametrize("action", ["beds", "team", "profile", "overrides"])
async def test_front_desk_is_refused_in_chinese(
    client: httpx.AsyncClient, db: Any, site: Site, action: Action
) -> None:
    headers = {**await headers_of(db, site.facility, "front_desk"), "Accept-Language": "zh-CN"}
    problem = assert_problem(await ACTS[action](client, site, headers), 403, "managers-only")
    assert problem["title"] == "仅限机构负责人操作"
    assert (
        problem["detail"].startswith("只有机构负责人可以")
        and "前台账户无权操作" in problem["detail"]
    )


async def test_front_desk_may_neither_change_nor_retire_a_bed(
    client: httpx.AsyncClient, db: Any, site: Site
) -> None:
    front = await headers_of(db, site.facility, "front_desk")
    manager = await headers_of(db, site.facility, "manager")
    change = {"nightly_price": 12345}
    refused = await client.patch(f"/v1/beds/{site.bed}", json=change, headers=front)
    assert_problem(refused, 403, "managers-only")
    assert_problem(
        await client.post(f"/v1/beds/{site.bed}/retire", headers=front), 403, "managers-only"
    )
    bed = await db.fetchrow("SELECT nightly_price, retired_at FROM beds WHERE id = $1", site.bed)
    assert bed["nightly_price"] != 12345 and bed["retired_at"] is None
    changed = await client.patch(f"/v1/beds/{site.bed}", json=change, headers=manager)
    assert changed.status_code == 200 and changed.json()["nightly_price"] == 12345
    retired = await client.post(f"/v1/beds/{site.bed}/retire", headers=manager)
    assert retired.status_code == 200, retired.text


async def test_another_facilitys_front_desk_is_told_not_found_not_forbidden(
    client: httpx.AsyncClient, db: Any, site: Site
) -> None:
    elsewhere = await headers_of(db, await builders.facility(db), "front_desk")
    for action in ("beds", "team", "profile", "import_beds"):
        answer = await ACTS[action](client, site, elsewhere)
        assert_problem(answer, 404, "not-found")
    patched = await client.patch(
        f"/v1/beds/{site.bed}", json={"nightly_price": 1}, headers=elsewhere
    )
    assert_problem(patched, 404, "not-found")
