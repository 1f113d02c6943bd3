"""POST /v1/eligibility: a bed's decision, or each programme's, explained reason by reason."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock, local_today
from respite.eligibility import REASON_CODES
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

URL = "/v1/eligibility"


# A question asked here writes nothing: most tests share one app and database (see conftest),
# each building in it the elders and beds it asks about. The one that rewrites every
# assessment keeps a fresh database.


@pytest.fixture(scope="module")
def shared_today(shared_clock: ManualClock) -> date:
    """Today at the builders' facilities (Shanghai) by the shared app's clock."""
    return local_today("Asia/Shanghai", shared_clock.now())


@pytest.fixture(scope="module")
async def shared_family(shared_make_token: MakeToken) -> dict[str, str]:
    _, headers = await shared_make_token("family")
    return headers


def stay(today: date, offset: int, nights: int) -> dict[str, str]:
    start = today + timedelta(days=offset)
    return {
        "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=nights)).isoformat(),
    }


async def family_with_elder(
    db: Any, make_token: MakeToken, **elder: Any
) -> tuple[int, dict[str, str]]:
    principal, headers = await make_token("family")
    return await builders.recipient(db, family_id=principal.id, **elder), headers


async def test_a_bed_decision_names_its_policy_and_explains_itself(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db)
    bed = await builders.bed(shared_db, facility, label="2F-07", price=15000)
    elder, headers = await family_with_elder(shared_db, shared_make_token, level=3)

    answer = await shared_client.post(
        URL,
        json={"care_recipient_id": elder, "bed_id": bed, **stay(shared_today, 5, 7)},
        headers=headers,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["bed"] == {
        "bed_id": bed,
        "facility_id": facility,
        "kind": "respite",
        "nightly_price": 15000,
        "label": "2F-07",
        "timezone": "Asia/Shanghai",
    }
    (result,) = body["results"]
    assert result["programme"] == "respite"
    assert (result["policy"]["code"], result["policy"]["version"]) == ("cn-respite", 1)
    decision = result["decision"]
    assert decision["eligible"] is True
    assert decision["level"] == 3
    codes = [r["code"] for r in decision["reasons"]]
    assert codes == ["level_eligible", "within_quota"]
    for reason in decision["reasons"]:
        assert reason["code"] in REASON_CODES
        assert reason["ok"] is True
        assert reason["message"] and reason["figures"]
    (period,) = decision["periods"]
    assert (period["period"], period["limit"], period["requested"]) == ("calendar_year", 60, 7)


async def test_a_refusal_lists_every_ground(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db)
    bed = await builders.bed(shared_db, facility, sex_rule="male", capabilities=("wheelchair",))
    elder, headers = await family_with_elder(
        shared_db,
        shared_make_token,
        level=0,
        birth_date=date(1990, 1, 1),
        needs=("oxygen", "wheelchair"),
    )

    answer = await shared_client.post(
        URL,
        json={"care_recipient_id": elder, "bed_id": bed, **stay(shared_today, 1, 40)},
        headers=headers,
    )

    decision = answer.json()["results"][0]["decision"]
    assert decision["eligible"] is False
    refused = {r["code"] for r in decision["reasons"] if not r["ok"]}
    assert refused == {
        "level_not_eligible",
        "age_below_minimum",
        "stay_exceeds_consecutive_limit",
        "sex_rule",
        "needs_capability_missing:oxygen",
    }


async def test_without_a_bed_each_programme_answers_under_the_default_policies(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    elder, headers = await family_with_elder(shared_db, shared_make_token, level=1)

    answer = await shared_client.post(
        URL, json={"care_recipient_id": elder, **stay(shared_today, 3, 10)}, headers=headers
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["bed"] is None
    assert body["today"] == shared_today.isoformat()
    by_programme = {r["programme"]: r for r in body["results"]}
    assert list(by_programme) == ["respite", "home"]
    assert by_programme["respite"]["policy"]["code"] == "cn-respite"
    assert by_programme["respite"]["decision"]["eligible"] is True
    assert by_programme["home"]["policy"]["code"] == "cn-home-bed"
    assert by_programme["home"]["decision"]["eligible"] is False
    assert [r["code"] for r in by_programme["home"]["decision"]["reasons"] if not r["ok"]] == [
        "level_not_eligible"
    ]


async def test_with_a_facility_its_linked_policies_answer(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db, respite_policy_code="de-kurzzeitpflege")
    elder, headers = await family_with_elder(shared_db, shared_make_token, level=1)

    answer = await shared_client.post(
        URL,
        json={"care_recipient_id": elder, "facility_id": facility, **stay(shared_today, 3, 10)},
        headers=headers,
    )

    assert answer.status_code == 200, answer.text
    respite, home = answer.json()["results"]
    assert (respite["policy"]["code"], home["policy"]["code"]) == (
        "de-kurzzeitpflege",
        "cn-home-bed",
    )
    # Pflegegrad 1 (level 1) is not eligible for Kurzzeitpflege.
    assert respite["decision"]["eligible"] is False


async def test_nights_used_by_cancelled_bookings_do_not_count(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db)
    bed = await builders.bed(shared_db, facility)
    elder, headers = await family_with_elder(shared_db, shared_make_token)
    year_start = date(shared_today.year + 1, 1, 1)
    for offset, status in ((0, "confirmed"), (30, "cancelled"), (60, "no_show")):
        start = year_start + timedelta(days=offset)
        await builders.booking(
            shared_db, bed, start, start + timedelta(days=25), recipient_id=elder, status=status
        )
    wanted = year_start + timedelta(days=100)
    body = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": wanted.isoformat(),
        "check_out": (wanted + timedelta(days=30)).isoformat(),
    }

    answer = await shared_client.post(URL, json=body, headers=headers)
    decision = answer.json()["results"][0]["decision"]

    (period,) = decision["periods"]
    assert (period["used"], period["requested"], period["left"]) == (25, 30, 35)
    assert decision["eligible"] is True


async def test_today_is_the_facilitys_date(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_clock: ManualClock,
    shared_today: date,
) -> None:
    """UTC+14 and UTC-11 are 25 hours apart: their dates always differ."""
    elder, headers = await family_with_elder(shared_db, shared_make_token)
    answers: dict[str, date] = {}
    for timezone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        bed = await builders.bed(shared_db, await builders.facility(shared_db, timezone=timezone))
        answer = await shared_client.post(
            URL,
            json={"care_recipient_id": elder, "bed_id": bed, **stay(shared_today, 3, 2)},
            headers=headers,
        )
        answers[timezone] = date.fromisoformat(answer.json()["today"])
        assert answers[timezone] == local_today(timezone, shared_clock.now())
    assert answers["Pacific/Kiritimati"] > answers["Pacific/Pago_Pago"]


async def test_unknown_or_invisible_things_are_404(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db)
    bed = await builders.bed(shared_db, facility)
    elder = await builders.recipient(shared_db)
    _, stranger = await shared_make_token("family")
    mine, headers = await family_with_elder(shared_db, shared_make_token)

    cases = [
        ({"care_recipient_id": elder, "bed_id": bed}, stranger, "care recipient"),
        ({"care_recipient_id": elder}, stranger, "care recipient"),
        ({"care_recipient_id": mine, "bed_id": bed + 999}, headers, "bed"),
        ({"care_recipient_id": mine, "facility_id": facility + 999}, headers, "facility"),
    ]
    for body, who, entity in cases:
        answer = await shared_client.post(
            URL, json={**body, **stay(shared_today, 1, 2)}, headers=who
        )
        assert assert_problem(answer, 404, "not-found")["entity"] == entity


# Before 2020 no version of the presets is in force: a clear 409, not an error. A fresh
# database: the test moves every assessment's end.
@pytest.mark.parametrize(
    ("check_in", "status"), [(date(2000, 1, 1), 409), (date(2099, 12, 31), 200)]
)
async def test_stays_at_the_edges_of_the_calendar_are_answered(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, check_in: date, status: int
) -> None:
    facility = await builders.facility(db, respite_policy_code="jp-short-stay")
    bed = await builders.bed(db, facility)
    elder, headers = await family_with_elder(db, make_token)
    await db.execute("UPDATE assessments SET valid_until = '2109-01-01'")
    body = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=366)).isoformat(),
    }
    for extra in ({}, {"bed_id": None, "facility_id": facility}, {"bed_id": None}):
        answer = await client.post(URL, json={**body, **extra}, headers=headers)
        assert answer.status_code == status, answer.text


async def test_the_route_needs_a_token(
    shared_today: date, shared_client: httpx.AsyncClient
) -> None:
    answer = await shared_client.post(
        URL, json={"care_recipient_id": 1, **stay(shared_today, 1, 2)}
    )
    assert_problem(answer, 401, "unauthenticated")


# Refused whatever today is: any date inside the engine's range does.
SOME_DAY = date(2030, 5, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**stay(SOME_DAY, 3, 0)}, "check_out"),
        ({**stay(SOME_DAY, 3, -2)}, "check_out"),
        ({**stay(SOME_DAY, 3, 367)}, "check_out"),
        ({"check_in": "2026-13-01", "check_out": "2027-01-01"}, "check_in"),
        ({"check_in": "9999-12-01", "check_out": "9999-12-05"}, "check_in"),
        ({"check_in": "2100-01-01", "check_out": "2100-01-05"}, "check_in"),
        ({"check_in": "1999-12-31", "check_out": "2000-01-05"}, "check_in"),
        ({"check_in": "0001-01-01", "check_out": "0001-01-05"}, "check_in"),
        ({**stay(SOME_DAY, 3, 2), "bed_id": 1, "facility_id": 1}, "facility_id"),
        ({**stay(SOME_DAY, 3, 2), "bed_id": "1"}, "bed_id"),
        ({**stay(SOME_DAY, 3, 2), "bed_id": 2**63}, "bed_id"),
        ({**stay(SOME_DAY, 3, 2), "bed_id": 0}, "bed_id"),
        ({**stay(SOME_DAY, 3, 2), "care_recipient_id": None}, "care_recipient_id"),
        ({**stay(SOME_DAY, 3, 2), "nights": 2}, "nights"),
        ({"check_in": stay(SOME_DAY, 3, 2)["check_in"]}, "check_out"),
    ],
)
async def test_bad_queries_are_named(
    shared_client: httpx.AsyncClient,
    shared_family: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    answer = await shared_client.post(
        URL, json={"care_recipient_id": 1, **body}, headers=shared_family
    )
    problem = assert_problem(answer, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem


async def test_a_facility_whose_policy_has_no_version_in_force_is_a_named_conflict(
    shared_today: date,
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
) -> None:
    facility = await builders.facility(shared_db, respite_policy_code="xx-unpublished")
    bed = await builders.bed(shared_db, facility)
    elder, headers = await family_with_elder(shared_db, shared_make_token)
    body = {"care_recipient_id": elder, "bed_id": bed, **stay(shared_today, 2, 3)}

    answer = await shared_client.post(URL, json=body, headers=headers)

    problem = assert_problem(answer, 409, "no-policy-in-force")
    check_in = (shared_today + timedelta(days=2)).isoformat()
    assert (problem["policy_code"], problem["on"]) == ("xx-unpublished", check_in)
