"""Every list pages one way: ``limit`` and ``cursor`` in, ``items`` and ``next_cursor`` out.

Walking a list page by page gives every item once, in the list's order; a cursor works on its
own list only (another list's, an edited one or garbage is a 422 naming ``cursor``); and a
cursor is stateless: it works again, later, and on another instance of the app.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.app import create_app
from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_problems import assert_problem

PER_LIST = 5  # with pages of 2: three pages, the last one short


@dataclass(frozen=True)
class PagedList:
    name: str
    path: str
    headers: dict[str, str]
    expected: list[int]
    """Every id the list holds, in the list's order."""


async def arrange(db: Any, make_token: MakeToken) -> dict[str, PagedList]:
    """Five items or more in every list, each seen by the caller that lists them."""
    today = builders.today()
    _, admin = await make_token("admin")
    family, family_headers = await make_token("family")
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    hospital_id = await builders.hospital(db)
    for _ in range(PER_LIST - 1):
        await builders.hospital(db)
    hospital, hospital_headers = await make_token("hospital", hospital_id=hospital_id)

    beds = [await builders.bed(db, facility) for _ in range(PER_LIST)]
    for n, bed in enumerate(beds):
        # Another facility nearby with a bed of its own, so that a search has two pages too.
        await builders.bed(db, await builders.facility(db))
        start = today + timedelta(days=30 + n)
        await builders.booking(db, bed, start, start + timedelta(days=2))
        await builders.block(db, bed, start + timedelta(days=30), start + timedelta(days=31))
    recipients = [await builders.recipient(db, family_id=family.id) for _ in range(PER_LIST)]
    referrals = await _referrals(db, hospital_id, hospital.id)

    async def ids(query: str, *args: Any) -> list[int]:
        return [row["id"] for row in await db.fetch(query, *args)]

    lists = [
        PagedList(
            "facilities",
            "/v1/facilities",
            admin,
            await ids("SELECT id FROM facilities ORDER BY id"),
        ),
        PagedList(
            "beds",
            f"/v1/facilities/{facility}/beds",
            staff,
            await ids("SELECT id FROM beds WHERE facility_id = $1 ORDER BY id", facility),
        ),
        PagedList(
            "blocks",
            f"/v1/facilities/{facility}/blocks",
            staff,
            await ids("SELECT id FROM blocks WHERE facility_id = $1 ORDER BY id", facility),
        ),
        PagedList(
            "bookings", "/v1/bookings", admin, await ids("SELECT id FROM bookings ORDER BY id")
        ),
        PagedList("care recipients", "/v1/care-recipients", family_headers, recipients),
        PagedList(
            "hospitals", "/v1/hospitals", admin, await ids("SELECT id FROM hospitals ORDER BY id")
        ),
        PagedList("referrals", "/v1/referrals", hospital_headers, referrals),
        PagedList(
            "webhook deliveries",
            "/v1/webhooks/deliveries",
            hospital_headers,
            await ids(
                "SELECT id FROM webhook_deliveries WHERE hospital_id = $1 ORDER BY id", hospital_id
            ),
        ),
    ]
    return {paged.name: paged for paged in lists}


async def _referrals(db: Any, hospital_id: int, principal_id: int) -> list[int]:
    """The hospital's referrals in the list's order (last change, then id), with ties in
    ``updated_at`` that only the id breaks, and a delivery of an event of each."""
    endpoint = await db.fetchval(
        "INSERT INTO webhook_endpoints (hospital_id, url, secret, created_by)"
        " VALUES ($1, 'https://93.184.215.14/his', 'whsec_AAAA', $2) RETURNING id",
        hospital_id,
        principal_id,
    )
    for offset in (2, 0, 1, 0, 1):
        recipient = await builders.recipient(db, hospital_id=hospital_id)
        referral = await db.fetchval(
            "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
            " contact_name, created_by, updated_at)"
            " VALUES ($1, $2, 'respite', $3, 3, 'Zhou', $4, $5) RETURNING id",
            hospital_id,
            recipient,
            builders.today(),
            principal_id,
            builders.SUITE_START + timedelta(minutes=offset),
        )
        event = await db.fetchval(
            "INSERT INTO webhook_events (event_id, hospital_id, referral_id, type, body)"
            " VALUES ($1, $2, $3, 'referral.held', '{}') RETURNING id",
            f"evt_{secrets.token_hex(8)}",
            hospital_id,
            referral,
        )
        # Dead already: the app's delivery worker leaves it alone.
        await db.execute(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, hospital_id, referral_id,"
            " status) VALUES ($1, $2, $3, $4, 'dead')",
            event,
            endpoint,
            hospital_id,
            referral,
        )
    rows = await db.fetch(
        "SELECT id FROM referrals WHERE hospital_id = $1 ORDER BY updated_at, id", hospital_id
    )
    return [row["id"] for row in rows]


@pytest.fixture(scope="module")
async def lists(shared_db: Any, shared_make_token: MakeToken) -> dict[str, PagedList]:
    return await arrange(shared_db, shared_make_token)


async def walk(
    client: httpx.AsyncClient, paged: PagedList, limit: int = 2
) -> tuple[list[int], list[str]]:
    """Every id of the list, page after page, and the cursors followed."""
    seen: list[int] = []
    cursors: list[str] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursors:
            params["cursor"] = cursors[-1]
        response = await client.get(paged.path, params=params, headers=paged.headers)
        assert response.status_code == 200, (paged.name, response.text)
        page = response.json()
        assert set(page) == {"items", "next_cursor"}, paged.name
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            return seen, cursors
        assert len(page["items"]) == limit, paged.name
        cursors.append(page["next_cursor"])


LISTS = [
    "facilities",
    "beds",
    "blocks",
    "bookings",
    "care recipients",
    "hospitals",
    "referrals",
    "webhook deliveries",
]


@pytest.mark.parametrize("name", LISTS)
async def test_pages_give_every_item_once_in_order(
    shared_client: httpx.AsyncClient, lists: dict[str, PagedList], name: str
) -> None:
    paged = lists[name]
    assert len(paged.expected) >= PER_LIST
    seen, cursors = await walk(shared_client, paged)
    assert seen == paged.expected
    assert len(cursors) >= 2  # three pages at least
    everything, none = await walk(shared_client, paged, limit=len(paged.expected))
    assert (everything, none) == (paged.expected, [])


def _tampered(cursor: str) -> str:
    body, mac = cursor.split(".")
    return f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"


def _edited(cursor: str) -> str:
    body, mac = cursor.split(".")
    return f"{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{mac}"


@pytest.mark.parametrize("name", LISTS)
async def test_only_a_cursor_of_the_list_itself_is_accepted(
    shared_client: httpx.AsyncClient, lists: dict[str, PagedList], name: str
) -> None:
    paged = lists[name]
    _, [own, *_] = await walk(shared_client, paged)
    other = lists[LISTS[(LISTS.index(name) + 1) % len(LISTS)]]
    _, [foreign, *_] = await walk(shared_client, other)
    for cursor in (foreign, _tampered(own), _edited(own), "not-a-cursor", "", "a.b.c", "x" * 600):
        response = await shared_client.get(
            paged.path, params={"limit": 2, "cursor": cursor}, headers=paged.headers
        )
        problem = assert_problem(response, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["cursor"], (name, cursor, problem)


async def test_a_cursor_of_the_search_is_no_cursor_of_a_list_nor_the_other_way(
    shared_client: httpx.AsyncClient, lists: dict[str, PagedList]
) -> None:
    soon = builders.today() + timedelta(days=5)
    search: dict[str, Any] = {
        "check_in": soon.isoformat(),
        "check_out": (soon + timedelta(days=2)).isoformat(),
        "near": "31.23,121.47",
        "limit": 1,
    }
    first = await shared_client.get("/v1/availability", params=search)
    assert first.status_code == 200, first.text
    search_cursor = first.json()["next_cursor"]
    assert search_cursor is not None
    bookings = lists["bookings"]
    _, [bookings_cursor, *_] = await walk(shared_client, bookings)

    on_a_list = await shared_client.get(
        bookings.path, params={"cursor": search_cursor}, headers=bookings.headers
    )
    on_the_search = await shared_client.get(
        "/v1/availability", params={**search, "cursor": bookings_cursor}
    )
    for response in (on_a_list, on_the_search):
        problem = assert_problem(response, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["cursor"], problem


async def test_a_cursor_keeps_working_later_and_on_another_instance(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    settings: Settings,
    clock: ManualClock,
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    beds = [await builders.bed(db, facility) for _ in range(3)]
    url = f"/v1/facilities/{facility}/beds"
    first = (await client.get(url, params={"limit": 2}, headers=staff)).json()
    assert [b["id"] for b in first["items"]] == beds[:2]
    cursor = first["next_cursor"]

    async def rest(http: httpx.AsyncClient) -> list[int]:
        response = await http.get(url, params={"limit": 2, "cursor": cursor}, headers=staff)
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None
        return [b["id"] for b in response.json()["items"]]

    assert await rest(client) == await rest(client) == beds[2:]
    # Nothing is stored behind a cursor: a month later, and on another instance of the app
    # with the same key, it still says where the page ended, and sees the beds added since.
    clock.advance(timedelta(days=30))
    added = await builders.bed(db, facility)
    async with serve_in_loop(create_app(settings, clock=clock, configure_logs=False)) as other:
        assert await rest(other) == [beds[2], added]
