"""Bed imports through the HTTP API: a good file lands whole, the same file again changes nothing,
and each kind of bad file is refused with what is wrong and where, changing nothing."""

from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
HEADER = "label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,active\n"
CSV = {"content-type": "text/csv"}


def beds_file(count: int, price: int = 28000) -> bytes:
    rows = [
        f"B-{i:04d},{'home' if i % 4 == 0 else 'respite'},any,{price},{'oxygen' if i % 2 else ''},0,\n"
        for i in range(count)
    ]
    return (HEADER + "".join(rows)).encode()


class Ward(msgspec.Struct):
    facility: int
    staff: dict[str, str]
    admin: dict[str, str]


async def open_ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    _, admin = await make_token("admin")
    return Ward(facility, {**staff, **CSV}, {**admin, **CSV})


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    return await open_ward(db, make_token)


@pytest.fixture(scope="module")
async def shared_ward(shared_db: Any, shared_make_token: MakeToken) -> Ward:
    """For the tests that only refuse: they share one database (see conftest). Its facility
    has a bed labelled A1, which the bad files name too."""
    ward = await open_ward(shared_db, shared_make_token)
    await builders.bed(shared_db, ward.facility, label="A1")
    return ward


async def _snapshot(db: Any) -> list[Any]:
    beds = [dict(r) for r in await db.fetch("SELECT * FROM beds ORDER BY id")]
    return [beds, await db.fetchval("SELECT count(*) FROM audit_log")]


@pytest.mark.parametrize("who", ["staff", "admin"])
async def test_a_good_file_imports_whole_and_again_changes_nothing(
    client: Client, db: Any, ward: Ward, who: str
) -> None:
    headers = ward.staff if who == "staff" else ward.admin
    url = f"/v1/facilities/{ward.facility}/beds/import"
    first = await client.post(url, content=beds_file(2000), headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"rows": 2000, "created": 2000, "updated": 0, "unchanged": 0}
    assert (
        await db.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM beds WHERE facility_id = $1", ward.facility
        )
        == 1
    )
    before = await _snapshot(db)
    again = await client.post(url, content=beds_file(2000), headers=headers)
    assert again.json() == {"rows": 2000, "created": 0, "updated": 0, "unchanged": 2000}
    assert await _snapshot(db) == before

    cheaper = await client.post(url, content=beds_file(3, price=100), headers=headers)
    assert cheaper.json() == {"rows": 3, "created": 0, "updated": 3, "unchanged": 0}
    listed = await client.get(
        f"/v1/facilities/{ward.facility}/beds", params={"limit": 4}, headers=headers
    )
    assert [b["nightly_price"] for b in listed.json()["items"]] == [100, 100, 100, 28000]


BAD_FILES = [
    pytest.param(
        b"name,type,price\nA,respite,1\n",
        [
            (1, "name"),
            (1, "type"),
            (1, "price"),
            (1, "label"),
            (1, "kind"),
            (1, "sex_rule"),
            (1, "nightly_price"),
        ],
        id="wrong header",
    ),
    pytest.param(
        (HEADER + "A1,respite,any,1,,,\nA2,respite,\xe9,1,,,\n").encode("cp1252"),
        [(3, None)],
        id="wrong encoding",
    ),
    pytest.param(
        (HEADER + "A1,respite,any,1,,,\nA2,respite,any,1,,,\nA1,home,any,1,,,\n").encode(),
        [(4, "label")],
        id="duplicate labels",
    ),
    pytest.param(
        (
            HEADER + "A1,respite,any,-100,,,\nA2,respite,any,1,sauna,,\nA3,respite,any,1,,,\n"
        ).encode(),
        [(2, "nightly_price"), (3, "capabilities")],
        id="negative price and unknown capability",
    ),
    pytest.param(b"", [(1, None)], id="empty"),
    pytest.param(bytes(range(256)) * 64, [(2, None)], id="binary junk"),
]


@pytest.mark.parametrize(("data", "where"), BAD_FILES)
async def test_a_bad_file_lists_every_problem_and_imports_nothing(
    shared_client: Client,
    shared_db: Any,
    shared_ward: Ward,
    data: bytes,
    where: list[tuple[int, str | None]],
) -> None:
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/facilities/{shared_ward.facility}/beds/import",
        content=data,
        headers=shared_ward.staff,
    )
    problem = assert_problem(response, 422, "invalid-file")
    assert [(e["line"], e["column"]) for e in problem["errors"]] == where
    assert all(e["message"] for e in problem["errors"])
    assert problem["error_count"] == len(where)
    assert "Nothing was imported" in problem["detail"]
    assert await _snapshot(shared_db) == before


async def test_ten_megabytes_of_junk_are_refused_before_reading(
    shared_client: Client, shared_db: Any, shared_ward: Ward
) -> None:
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/facilities/{shared_ward.facility}/beds/import",
        content=b"\x00junk," * (10 * 1024 * 1024 // 6),
        headers=shared_ward.staff,
    )
    assert_problem(response, 413, "body-too-large")
    assert await _snapshot(shared_db) == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "text/csv; charset=latin-1", None]
)
async def test_only_utf8_csv_is_accepted(
    shared_client: Client, shared_db: Any, shared_ward: Ward, content_type: str | None
) -> None:
    headers = {k: v for k, v in shared_ward.staff.items() if k != "content-type"}
    if content_type:
        headers["content-type"] = content_type
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/facilities/{shared_ward.facility}/beds/import", content=beds_file(2), headers=headers
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert await _snapshot(shared_db) == before


async def test_many_bad_rows_are_counted_and_the_list_is_capped(
    shared_client: Client, shared_db: Any, shared_ward: Ward
) -> None:
    rows = "".join(f"X{i},castle,any,1,,,\n" for i in range(1500))
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/facilities/{shared_ward.facility}/beds/import",
        content=(HEADER + rows).encode(),
        headers=shared_ward.staff,
    )
    problem = assert_problem(response, 422, "invalid-file")
    assert problem["error_count"] == 1500 and len(problem["errors"]) == 1000
    assert await _snapshot(shared_db) == before


async def test_unknown_facility_is_404(shared_client: Client, shared_ward: Ward) -> None:
    response = await shared_client.post(
        "/v1/facilities/987654/beds/import", content=beds_file(1), headers=shared_ward.admin
    )
    assert_problem(response, 404, "not-found")
