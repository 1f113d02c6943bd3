"""Every inventory route, called by staff of another facility, answers 404 and changes nothing;
families and hospitals get 403; without a token, 401."""

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
D0 = date(2032, 1, 10)
CSV = b"label,kind,sex_rule,nightly_price\nZ-1,respite,any,1\n"


class Target(msgspec.Struct):
    facility: int
    bed: int
    block: int


class Outsiders(msgspec.Struct):
    """A target and the headers of everyone who may not touch it."""

    target: Target
    other_staff: dict[str, str]
    by_role: dict[str, dict[str, str]]


async def _target(db: Any) -> Target:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    block = await builders.block(db, bed, D0, D0 + timedelta(2))
    await builders.booking(db, bed, D0 + timedelta(5), D0 + timedelta(7))
    return Target(facility, bed, block)


@pytest.fixture
async def target(db: Any) -> Target:
    return await _target(db)


@pytest.fixture(scope="module")
async def shared_outsiders(shared_db: Any, shared_make_token: MakeToken) -> Outsiders:
    """For the tests that are only refused: they share one database (see conftest)."""
    target = await _target(shared_db)
    _, other_staff = await shared_make_token(
        "staff", facility_id=await builders.facility(shared_db)
    )
    _, family = await shared_make_token("family")
    _, hospital = await shared_make_token(
        "hospital", hospital_id=await builders.hospital(shared_db)
    )
    return Outsiders(target, other_staff, {"family": family, "hospital": hospital})


def routes(t: Target) -> list[tuple[str, str, dict[str, Any]]]:
    """Every inventory route that names an object, with a body that would succeed."""
    block = {"check_in": "2032-02-01", "check_out": "2032-02-02", "reason": "cleaning"}
    window = {"start": D0.isoformat(), "end": (D0 + timedelta(7)).isoformat()}
    return [
        ("GET", f"/v1/facilities/{t.facility}", {}),
        ("PATCH", f"/v1/facilities/{t.facility}", {"json": {"phone": "021-1234 5678"}}),
        ("GET", f"/v1/facilities/{t.facility}/beds", {}),
        (
            "POST",
            f"/v1/facilities/{t.facility}/beds",
            {"json": {"kind": "home", "label": "N", "sex_rule": "any", "nightly_price": 1}},
        ),
        (
            "POST",
            f"/v1/facilities/{t.facility}/beds/import",
            {"content": CSV, "headers": {"content-type": "text/csv"}},
        ),
        ("GET", f"/v1/facilities/{t.facility}/blocks", {}),
        ("GET", f"/v1/facilities/{t.facility}/board", {"params": window}),
        ("GET", f"/v1/beds/{t.bed}", {}),
        ("PATCH", f"/v1/beds/{t.bed}", {"json": {"nightly_price": 1}}),
        ("POST", f"/v1/beds/{t.bed}/retire", {}),
        ("POST", f"/v1/beds/{t.bed}/blocks", {"json": block}),
        ("PATCH", f"/v1/blocks/{t.block}", {"json": {"check_out": "2032-01-11"}}),
        ("DELETE", f"/v1/blocks/{t.block}", {}),
    ]


async def _snapshot(db: Any) -> list[Any]:
    tables = ["facilities", "beds", "blocks", "bed_nights", "audit_log"]
    return [[tuple(r) for r in await db.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in tables]


async def _call(
    client: Client, method: str, url: str, extra: dict[str, Any], auth: dict[str, str]
) -> Any:
    headers = {**extra.get("headers", {}), **auth}
    options = {k: v for k, v in extra.items() if k != "headers"}
    return await client.request(method, url, headers=headers, **options)


async def test_staff_of_another_facility_get_404_on_every_object(
    shared_client: Client, shared_db: Any, shared_outsiders: Outsiders
) -> None:
    before = await _snapshot(shared_db)
    for method, url, extra in routes(shared_outsiders.target):
        response = await _call(shared_client, method, url, extra, shared_outsiders.other_staff)
        problem = assert_problem(response, 404, "not-found")
        entity = {"facilities": "facility", "beds": "bed", "blocks": "block"}[url.split("/")[2]]
        assert problem["entity"] == entity, (method, url)
    assert await _snapshot(shared_db) == before


async def test_the_same_calls_succeed_for_the_facilitys_own_staff(
    client: Client, db: Any, target: Target, make_token: MakeToken
) -> None:
    """The control for the test above: every route and body there is one that works."""
    _, staff = await make_token("staff", facility_id=target.facility)
    for method, url, extra in routes(target):
        response = await _call(client, method, url, extra, staff)
        if url.endswith("/retire"):  # the bed is booked: refused for a reason other than tenancy
            assert response.status_code == 409, response.text
        else:
            assert response.status_code in (200, 201, 204), (method, url, response.text)


@pytest.mark.parametrize("role", ["family", "hospital"])
async def test_families_and_hospitals_are_forbidden_everywhere(
    shared_client: Client, shared_db: Any, shared_outsiders: Outsiders, role: str
) -> None:
    headers = shared_outsiders.by_role[role]
    before = await _snapshot(shared_db)
    for method, url, extra in routes(shared_outsiders.target):
        assert_problem(await _call(shared_client, method, url, extra, headers), 403, "forbidden")
    for method, url, extra in routes(shared_outsiders.target):
        assert_problem(await _call(shared_client, method, url, extra, {}), 401, "unauthenticated")
    assert await _snapshot(shared_db) == before
