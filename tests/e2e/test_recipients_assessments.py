"""Assessments over HTTP: the level computed under GB/T 42195-2022, every adjustment explained."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from respite.eligibility import PRESETS
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_recipients_api import ELDER

DOMAINS = {"self_care": 20, "mobility": 10, "mental": 20, "perception_social": 10}
ASSESSED = {"assessor": "张医生", "organisation": "徐汇区评估中心", "assessed_on": "2025-03-01"}


async def _elder(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    created = await client.post("/v1/care-recipients", json=ELDER, headers=headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture(scope="module")
async def shared_elder(
    shared_client: httpx.AsyncClient, shared_make_token: MakeToken
) -> tuple[int, dict[str, str]]:
    """A family's elder, for the tests that only refuse: they share one database (see
    conftest)."""
    _, headers = await shared_make_token("family")
    return await _elder(shared_client, headers), headers


async def stored(db: Any) -> tuple[int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM assessments"),
        await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'assessment'"),
    )


async def test_domain_scores_give_a_level_and_every_adjustment(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    elder = await _elder(client, headers)
    body = {**DOMAINS, **ASSESSED, "dementia_or_mental_disorder": True, "risk_events_30d": 2}

    answer = await client.post(
        f"/v1/care-recipients/{elder}/assessments", json=body, headers=headers
    )

    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["total"], result["base_level"], result["level"]) == (60, 2, 3)
    assert [(a["code"], a["outcome"]) for a in result["adjustments"]] == [
        ("dementia_or_mental_disorder", "applied"),
        ("risk_events", "not_stacked"),
    ]
    assert result["policy"] == {"code": "cn-respite", "version": 1}
    # The CN preset accepts an assessment for 365 days, the assessment day included.
    assert result["valid_until"] == "2026-02-28"
    assert (result["assessor"], result["organisation"]) == ("张医生", "徐汇区评估中心")
    assert result["scheme"] == "GB/T 42195-2022"

    listed = await client.get(f"/v1/care-recipients/{elder}/assessments", headers=headers)
    assert listed.json() == [result]
    recipient = (await client.get(f"/v1/care-recipients/{elder}", headers=headers)).json()
    assert recipient["latest_assessment"] == {
        "id": result["id"],
        "level": 3,
        "assessed_on": "2025-03-01",
        "valid_until": "2026-02-28",
    }
    row = await db.fetchrow("SELECT level, adjustments::text FROM assessments")
    assert row["level"] == 3 and "not_stacked" in row["adjustments"]
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'assessment'") == 1


@pytest.mark.parametrize(
    ("scores", "level", "adjustments"),
    [
        ({"total": 90}, 0, []),
        ({"total": 66}, 1, []),
        ({"total": 65}, 2, []),
        ({"total": 45}, 3, []),
        ({"total": 29}, 4, []),
        ({"total": 80, "coma": True}, 4, [("coma", "applied")]),
        (
            {"total": 10, "dementia_or_mental_disorder": True},
            4,
            [
                ("dementia_or_mental_disorder", "capped"),
            ],
        ),
    ],
)
async def test_a_total_alone_gives_the_level(
    client: httpx.AsyncClient,
    make_token: MakeToken,
    scores: dict[str, Any],
    level: int,
    adjustments: list[tuple[str, str]],
) -> None:
    _, headers = await make_token("family")
    elder = await _elder(client, headers)
    answer = await client.post(
        f"/v1/care-recipients/{elder}/assessments", json={**scores, **ASSESSED}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["level"] == level
    assert [(a["code"], a["outcome"]) for a in result["adjustments"]] == adjustments
    assert result["self_care"] is None


async def test_the_policy_decides_whether_raises_stack(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    today = builders.today()
    stacking = {
        **{k: v for k, v in _document("cn-respite").items() if k != "code"},
        "code": "test-stacking",
        "stack_raises": True,
        "effective_from": today.isoformat(),
    }
    published = await client.post(
        "/v1/policies/test-stacking/versions", json=stacking, headers=admin
    )
    assert published.status_code == 201, published.text
    _, headers = await make_token("family")
    elder = await _elder(client, headers)
    body = {
        "total": 60,
        "dementia_or_mental_disorder": True,
        "risk_events_30d": 3,
        "assessor": "A",
        "organisation": "O",
        "assessed_on": today.isoformat(),
        "policy_code": "test-stacking",
    }

    answer = await client.post(
        f"/v1/care-recipients/{elder}/assessments", json=body, headers=headers
    )

    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["base_level"], result["level"]) == (2, 4)
    assert result["policy"] == {"code": "test-stacking", "version": 1}
    # Before the policy existed there is no version to compute under.
    early = {**body, "assessed_on": (today - timedelta(days=1)).isoformat()}
    refused = await client.post(
        f"/v1/care-recipients/{elder}/assessments", json=early, headers=headers
    )
    assert assert_problem(refused, 422, "invalid-input")["errors"][0]["field"] == "policy_code"


def _document(code: str) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(PRESETS[code])
    return document


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DOMAINS, "self_care": 33}, "self_care"),
        ({**DOMAINS, "mobility": -1}, "mobility"),
        ({**DOMAINS, "mental": 29}, "mental"),
        ({**DOMAINS, "perception_social": 16}, "perception_social"),
        ({"total": 91}, "total"),
        ({"total": "60"}, "total"),
        ({"self_care": 20, "mobility": 10, "total": 60}, "mental"),
        ({"perception_social": 10}, "self_care"),
        ({**DOMAINS, "total": 61}, "total"),
        ({}, "total"),
        ({"total": 60, "risk_events_30d": -1}, "risk_events_30d"),
        ({"total": 60, "risk_events_30d": 100000}, "risk_events_30d"),
        ({"total": 60, "coma": "yes"}, "coma"),
        ({"total": 60, "falls": 2}, "falls"),
        ({"total": 60, "assessed_on": "1930-01-01"}, "assessed_on"),
        ({"total": 60, "valid_until": "2025-02-28"}, "valid_until"),
        ({"total": 60, "valid_until": "9999-12-31"}, "valid_until"),
        ({"total": 60, "assessor": ""}, "assessor"),
        ({"total": 60, "organisation": None}, "organisation"),
        ({"total": 60, "policy_code": "no-such-policy"}, "policy_code"),
        ({"total": 60, "policy_code": "CN respite"}, "policy_code"),
    ],
)
async def test_invalid_scores_are_named_and_store_nothing(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_elder: tuple[int, dict[str, str]],
    body: dict[str, Any],
    field: str,
) -> None:
    elder, headers = shared_elder
    before = await stored(shared_db)

    answer = await shared_client.post(
        f"/v1/care-recipients/{elder}/assessments", json={**ASSESSED, **body}, headers=headers
    )

    problem = assert_problem(answer, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert await stored(shared_db) == before


async def test_the_latest_assessment_is_the_one_that_counts(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, headers = await make_token("family")
    elder = await _elder(client, headers)
    url = f"/v1/care-recipients/{elder}/assessments"
    for on, total in (("2025-03-01", 60), ("2025-06-01", 20), ("2025-01-01", 90)):
        answer = await client.post(
            url, json={**ASSESSED, "assessed_on": on, "total": total}, headers=headers
        )
        assert answer.status_code == 201

    listed = (await client.get(url, headers=headers)).json()
    assert [a["assessed_on"] for a in listed] == ["2025-06-01", "2025-03-01", "2025-01-01"]
    recipient = (await client.get(f"/v1/care-recipients/{elder}", headers=headers)).json()
    assert recipient["latest_assessment"]["level"] == 4


@pytest.mark.parametrize(("hour", "refused"), [(9, True), (10, False)])
async def test_an_assessment_date_is_in_the_future_until_it_is_today_somewhere(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    clock: ManualClock,
    hour: int,
    refused: bool,
) -> None:
    # 2 March is today somewhere once UTC+14 reaches it: at 10:00 UTC on 1 March.
    clock.set(datetime(2030, 3, 1, hour, 0, tzinfo=UTC))
    _, headers = await make_token("family")
    elder = await _elder(client, headers)
    body = {**ASSESSED, "total": 60, "assessed_on": "2030-03-02"}

    answer = await client.post(
        f"/v1/care-recipients/{elder}/assessments", json=body, headers=headers
    )

    if refused:
        problem = assert_problem(answer, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["assessed_on"]
        assert await db.fetchval("SELECT count(*) FROM assessments") == 0
    else:
        assert answer.status_code == 201, answer.text
