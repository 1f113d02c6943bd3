"""Policies over HTTP: presets as version 1, admins publish versions, malformed ones are named."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock, local_today
from respite.eligibility import PRESETS, Policy
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

DROP = "<left out>"


@pytest.fixture
def today(clock: ManualClock) -> date:
    return local_today("Asia/Shanghai", clock.now())


@pytest.fixture
def next_month(today: date) -> date:
    return today + timedelta(days=30)


@pytest.fixture(scope="module")
def shared_next_month(shared_clock: ManualClock) -> date:
    return local_today("Asia/Shanghai", shared_clock.now()) + timedelta(days=30)


def publication(start: date, preset: str = "cn-respite", **changes: Any) -> dict[str, Any]:
    """A preset's document as a new version from ``start``; ``DROP`` leaves a field out."""
    document: dict[str, Any] = msgspec.to_builtins(PRESETS[preset])
    body = {**document, "effective_from": start.isoformat(), **changes}
    return {k: v for k, v in body.items() if v != DROP}


async def _versions(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM policies"))


async def _audited(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'policy'"))


async def test_the_presets_are_version_1_of_five_policies(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")

    listed = await client.get("/v1/policies", headers=headers)

    assert listed.status_code == 200, listed.text
    versions = {p["code"]: (p["current_version"], p["latest_version"]) for p in listed.json()}
    assert versions == dict.fromkeys(PRESETS, (1, 1))
    home = next(p for p in listed.json() if p["code"] == "cn-home-bed")
    assert (home["programme"], home["jurisdiction"]) == ("home", "CN")
    one = (await client.get("/v1/policies/de-kurzzeitpflege", headers=headers)).json()
    assert one["current_version"] == 1
    (version,) = one["versions"]
    assert version["effective_from"] == "2020-01-01"
    assert msgspec.convert(version["document"], Policy) == PRESETS["de-kurzzeitpflege"]


async def test_an_admin_publishes_the_next_version_and_it_applies_from_its_date(
    next_month: date, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    body = publication(next_month, quota={"period": "calendar_year", "nights": 45})

    published = await client.post("/v1/policies/cn-respite/versions", json=body, headers=admin)

    assert published.status_code == 201, published.text
    result = published.json()
    assert (result["code"], result["version"]) == ("cn-respite", 2)
    assert result["document"]["quota"] == {"period": "calendar_year", "nights": 45}
    assert "effective_from" not in result["document"]
    url = "/v1/policies/cn-respite"
    now = (await client.get(url, headers=admin)).json()
    assert now["current_version"] == 1
    assert [v["version"] for v in now["versions"]] == [2, 1]
    later = (await client.get(url, params={"on": next_month.isoformat()}, headers=admin)).json()
    assert later["current_version"] == 2
    only = (await client.get(url, params={"version": 1}, headers=admin)).json()
    assert [v["version"] for v in only["versions"]] == [1]
    stored = await db.fetchval(
        "SELECT document->'quota'->>'nights' FROM policies WHERE code = 'cn-respite' AND version = 2"
    )
    assert stored == "45"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'policy'") == 1


async def test_a_new_code_starts_at_version_1(
    today: date, client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    body = publication(today, code="sg-respite", jurisdiction="SG")
    published = await client.post("/v1/policies/sg-respite/versions", json=body, headers=admin)
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 1


@pytest.mark.parametrize("role", ["family", "staff", "hospital"])
async def test_only_admins_publish(
    shared_next_month: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    role: str,
) -> None:
    facility = await builders.facility(shared_db) if role == "staff" else None
    hospital = await builders.hospital(shared_db) if role == "hospital" else None
    _, headers = await shared_make_token(role, facility_id=facility, hospital_id=hospital)
    before = await _versions(shared_db)
    refused = await shared_client.post(
        "/v1/policies/cn-respite/versions", json=publication(shared_next_month), headers=headers
    )
    assert_problem(refused, 403, "forbidden")
    assert await _versions(shared_db) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quota": {"period": "calendar_year", "nights": "60"}}, "quota.nights"),
        ({"quota": {"period": "calendar_year", "nights": 0}}, "quota.nights"),
        ({"quota": {"period": "weekly", "nights": 3}}, "quota.period"),
        (
            {"quota": {"period": "financial_year", "nights": 63, "start_month": 13}},
            "quota.start_month",
        ),
        ({"eligible_levels": [1, 5]}, "eligible_levels[1]"),
        ({"eligible_levels": [2, 2]}, "eligible_levels"),
        ({"needs_capabilities": {"snoring": []}}, "needs_capabilities"),
        ({"needs_capabilities": {"oxygen": ["tank"]}}, "needs_capabilities[...][0]"),
        ({"home": {}}, "home"),
        ({"quota": None, "extra_nights_with_approval": 21}, "extra_nights_with_approval"),
        ({"colour": "red"}, "colour"),
        ({"effective_from": DROP}, "effective_from"),
        ({"min_age": DROP}, "min_age"),
        ({"effective_from": "tomorrow"}, "effective_from"),
        ({"effective_from": "2019-12-31"}, "effective_from"),
        ({"code": "cn-home-bed"}, "code"),
        ({"preset": "cn-home-bed", "code": "cn-respite"}, "programme"),
    ],
)
async def test_a_malformed_version_is_refused_with_the_path_of_the_wrong_field(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_next_month: date,
    changes: dict[str, Any],
    field: str,
) -> None:
    _, admin = await shared_make_token("admin")
    given = dict(changes)
    body = publication(shared_next_month, given.pop("preset", "cn-respite"), **given)
    before = (await _versions(shared_db), await _audited(shared_db))

    refused = await shared_client.post("/v1/policies/cn-respite/versions", json=body, headers=admin)

    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert (await _versions(shared_db), await _audited(shared_db)) == before


async def test_a_version_may_start_on_any_date_that_is_still_today_somewhere(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    # 01:00 UTC on 1 March: 09:00 in Shanghai, still 28 February in the last zone (UTC-12).
    clock.set(datetime(2030, 3, 1, 1, 0, tzinfo=UTC))
    _, admin = await make_token("admin")
    url = "/v1/policies/cn-respite/versions"
    before = await _versions(db)

    past = await client.post(url, json=publication(date(2030, 2, 27)), headers=admin)
    assert assert_problem(past, 422, "invalid-input")["errors"][0]["field"] == "effective_from"
    assert await _versions(db) == before
    still_today = await client.post(url, json=publication(date(2030, 2, 28)), headers=admin)
    assert still_today.status_code == 201, still_today.text


async def test_a_version_may_not_start_before_the_latest_one(
    next_month: date, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    url = "/v1/policies/cn-respite/versions"
    assert (await client.post(url, json=publication(next_month), headers=admin)).status_code == 201
    earlier = publication(next_month - timedelta(days=1))

    refused = await client.post(url, json=earlier, headers=admin)

    assert assert_problem(refused, 422, "invalid-input")["errors"][0]["field"] == "effective_from"
    assert await db.fetchval("SELECT max(version) FROM policies WHERE code = 'cn-respite'") == 2


async def test_malformed_json_and_bad_codes(
    shared_next_month: date, shared_client: httpx.AsyncClient, shared_make_token: MakeToken
) -> None:
    _, admin = await shared_make_token("admin")
    broken = await shared_client.post(
        "/v1/policies/cn-respite/versions",
        content=b'{"code": ',
        headers={**admin, "content-type": "application/json"},
    )
    assert_problem(broken, 400, "malformed-body")
    bad_code = await shared_client.post(
        "/v1/policies/CN_respite/versions", json=publication(shared_next_month), headers=admin
    )
    assert assert_problem(bad_code, 422, "invalid-input")["errors"][0]["field"] == "code"
    assert_problem(await shared_client.get("/v1/policies/xx-none", headers=admin), 404, "not-found")
    missing = await shared_client.get(
        "/v1/policies/cn-respite", params={"version": 9}, headers=admin
    )
    assert_problem(missing, 404, "not-found")


async def test_racing_publications_get_consecutive_versions(
    next_month: date, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    bodies = [
        publication(next_month, quota={"period": "calendar_year", "nights": nights})
        for nights in range(50, 58)
    ]

    answers = await asyncio.gather(
        *(client.post("/v1/policies/cn-respite/versions", json=b, headers=admin) for b in bodies)
    )

    assert [a.status_code for a in answers] == [201] * len(bodies), [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == list(range(2, 2 + len(bodies)))
    stored = await db.fetch(
        "SELECT version, (document->'quota'->>'nights')::int AS nights FROM policies"
        " WHERE code = 'cn-respite' AND version > 1"
    )
    by_version = {a.json()["version"]: a.json()["document"]["quota"]["nights"] for a in answers}
    assert {r["version"]: r["nights"] for r in stored} == by_version
