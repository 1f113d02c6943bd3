"""Joining the waiting list with bad input, or someone else's ids: a 4xx problem naming the
field, in the caller's language, and nothing written. Staff's queue: their facility only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests import builders
from tests.conftest import MakeToken
from tests.waitlist import (
    Family,
    Scene,
    family,
    join,
    join_body,
    scene,
    settings,  # the fixtures: the app's offer worker off
)

__all__ = ["settings"]  # fixtures shared with tests/waitlist.py


@pytest.fixture
async def at(db: Any, make_token: MakeToken) -> Scene:
    return await scene(db, make_token)


@pytest.fixture
async def daughter(db: Any, make_token: MakeToken) -> Family:
    return await family(db, make_token)


def _day(at: Scene, n: int) -> str:
    return (at.first + timedelta(days=n)).isoformat()


BAD = [
    (
        "latest_check_out",
        {"latest_check_out": "FIRST"},
        "must be after earliest_check_in",
        "须晚于最早入住日期",
    ),
    (
        "latest_check_out",
        {"latest_check_out": "+200"},
        "the window may be at most 180 days long",
        "最长 180 天",
    ),
    ("nights", {"nights": 30}, "must fit in the window: at most 7 nights", "最多 7 晚"),
    ("min_nights", {"min_nights": 8}, "must be at most nights (7)", "不能多于"),
    ("nights", {"nights": 0}, "", ""),
    ("facility_ids", {"facility_ids": []}, "give at least one facility", "至少填写一个机构"),
    ("facility_ids", {"facility_ids": "REPEAT"}, "must not repeat a facility", "机构不能重复"),
    ("near", {"near": "31.2,121.4", "radius_km": 3}, "give exactly one of", "只选一项"),
    ("radius_km", {"facility_ids": None, "near": "31.2,121.4"}, "give how far", "多远以内"),
    ("kind", {"kind": "hotel"}, "respite", "respite"),
    ("earliest_check_in", {"earliest_check_in": "2027-13-01"}, "YYYY-MM-DD", "YYYY-MM-DD"),
    ("colour", {"colour": "blue"}, "", ""),
    (
        "earliest_check_in",
        {"earliest_check_in": "PAST", "latest_check_out": "FIRST"},
        "must be today",
        "须为今天",
    ),
]


def _bad_body(at: Scene, who: Family, changes: dict[str, Any]) -> dict[str, Any]:
    body = join_body(at, who)
    for field, value in changes.items():
        if value == "FIRST":
            value = _day(at, 0)
        elif value == "+200":
            value = _day(at, 200)
        elif value == "REPEAT":
            value = [at.facility, at.facility]
        elif value == "PAST":
            value = (builders.today() - timedelta(days=1)).isoformat()
        if value is None:
            body.pop(field)
        else:
            body[field] = value
    return body


@pytest.mark.parametrize(("field", "changes", "en", "zh"), BAD)
async def test_bad_joins_name_the_field_in_both_languages_and_write_nothing(
    client: httpx.AsyncClient,
    db: Any,
    at: Scene,
    daughter: Family,
    field: str,
    changes: dict[str, Any],
    en: str,
    zh: str,
) -> None:
    body = _bad_body(at, daughter, changes)
    for lang, words in (("en", en), ("zh-CN", zh)):
        answer = await client.post(
            "/v1/waitlist", json=body, headers={**daughter.headers, "Accept-Language": lang}
        )
        assert answer.status_code in (400, 422), answer.text
        problem = answer.json()
        fields = [e["field"] for e in problem.get("errors", [])]
        assert any(f == field or f.startswith(field) for f in fields), problem
        message = " ".join(e["message"] for e in problem["errors"])
        assert words in message, (lang, message)
    assert await db.fetchval("SELECT count(*) FROM waitlist_entries") == 0
    assert await db.fetchval("SELECT count(*) FROM waitlist_jobs") == 0


async def test_a_malformed_body_is_a_problem(
    client: httpx.AsyncClient, at: Scene, daughter: Family
) -> None:
    answer = await client.post(
        "/v1/waitlist",
        content=b"{not json",
        headers={**daughter.headers, "content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()["type"]) == (400, "/problems/malformed-body")


async def test_another_familys_elder_and_entries_are_not_found(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, daughter: Family
) -> None:
    stranger = await family(db, make_token)
    answer = await client.post(
        "/v1/waitlist",
        json={**join_body(at, daughter), "care_recipient_id": stranger.elder},
        headers=daughter.headers,
    )
    assert (answer.status_code, answer.json()["entity"]) == (404, "care recipient")
    theirs = await join(client, at, stranger)
    for path in (f"/v1/waitlist/{theirs['id']}",):
        assert (await client.get(path, headers=daughter.headers)).status_code == 404
    left = await client.post(f"/v1/waitlist/{theirs['id']}/leave", headers=daughter.headers)
    assert left.status_code == 404
    assert (await client.get("/v1/waitlist", headers=daughter.headers)).json()["items"] == []


async def test_unknown_facilities_are_named_one_by_one(
    client: httpx.AsyncClient, db: Any, at: Scene, daughter: Family
) -> None:
    homes_only = await builders.facility(db)
    await builders.bed(db, homes_only, kind="home")
    answer = await client.post(
        "/v1/waitlist",
        json={**join_body(at, daughter), "facility_ids": [at.facility, 999999, homes_only]},
        headers=daughter.headers,
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["facility_ids[1]", "facility_ids[2]"]


async def test_an_area_resolves_to_the_facilities_within_it(
    client: httpx.AsyncClient, db: Any, at: Scene, daughter: Family
) -> None:
    far = await builders.facility(db, lat=31.60, lon=121.90)
    await builders.bed(db, far)
    joined = await join(client, at, daughter, facility_ids=None, near="31.231,121.471", radius_km=2)
    assert joined["facility_ids"] == [at.facility]
    nowhere = await client.post(
        "/v1/waitlist",
        json={
            **join_body(at, daughter),
            "facility_ids": None,
            "near": "121.47,31.23",
            "radius_km": 2,
        },
        headers=daughter.headers,
    )
    assert nowhere.status_code == 422
    assert "31.23,121.47" in nowhere.json()["errors"][0]["message"]  # lon,lat swapped: said so


async def test_an_elder_waits_in_a_few_entries_at_most(
    client: httpx.AsyncClient, at: Scene, daughter: Family
) -> None:
    for _ in range(5):
        await join(client, at, daughter)
    sixth = await client.post(
        "/v1/waitlist", json=join_body(at, daughter), headers=daughter.headers
    )
    problem = sixth.json()
    assert (sixth.status_code, problem["type"], problem["limit"]) == (
        409,
        "/problems/too-many-entries",
        5,
    )


async def test_a_retried_join_with_its_key_joins_once(
    client: httpx.AsyncClient, db: Any, at: Scene, daughter: Family
) -> None:
    headers = {**daughter.headers, "Idempotency-Key": "join-1"}
    first = await client.post("/v1/waitlist", json=join_body(at, daughter), headers=headers)
    again = await client.post("/v1/waitlist", json=join_body(at, daughter), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM waitlist_entries") == 1


async def test_staff_wait_for_their_own_facility_and_read_its_queue_without_names(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, at: Scene, daughter: Family
) -> None:
    walk_in = await builders.recipient(db, facility_id=at.facility, sex="male")
    other = await builders.facility(db)
    await builders.bed(db, other)
    body = {**join_body(at, daughter), "care_recipient_id": walk_in}
    elsewhere = await client.post(
        "/v1/waitlist", json={**body, "facility_ids": [other]}, headers=at.staff
    )
    assert (elsewhere.status_code, elsewhere.json()["errors"][0]["field"]) == (422, "facility_ids")
    ours = await client.post("/v1/waitlist", json=body, headers=at.staff)
    assert ours.status_code == 201, ours.text
    await join(client, at, daughter, discharged_on=builders.today().isoformat())
    queue = await client.get(f"/v1/facilities/{at.facility}/waitlist", headers=at.staff)
    assert queue.status_code == 200
    items = queue.json()["items"]
    assert [(i["position"], i["sex"], i["priority"]) for i in items] == [
        (1, "female", "recent_discharge"),
        (2, "male", None),
    ]
    assert items[0]["priority_words"] == "Discharged from hospital within 14 days"
    assert "name" not in items[0] and "care_recipient_id" not in items[0]
    _, others = await make_token("staff", facility_id=other)
    theirs = await client.get(f"/v1/facilities/{at.facility}/waitlist", headers=others)
    assert theirs.status_code == 404
    families = await client.get(f"/v1/facilities/{at.facility}/waitlist", headers=daughter.headers)
    assert families.status_code == 403
