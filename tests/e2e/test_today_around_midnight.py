""" "Today" is each facility's own date: a minute either side of local midnight in Tokyo
(UTC+9) and in Berlin (UTC+1 in January), for search (one facility, and one search spanning
both), eligibility and retiring a bed.

On 14 January 2030 (UTC) Tokyo reaches 15 January at 15:00 and Berlin at 23:00, so between
the two a stay starting on the 14th is still "today" in Berlin and already "yesterday" in Tokyo.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

THE_14TH, THE_15TH = date(2030, 1, 14), date(2030, 1, 15)
INSTANTS = {
    "before Tokyo's midnight": datetime(2030, 1, 14, 14, 59, tzinfo=UTC),
    "after Tokyo's midnight": datetime(2030, 1, 14, 15, 1, tzinfo=UTC),
    "before Berlin's midnight": datetime(2030, 1, 14, 22, 59, tzinfo=UTC),
    "after Berlin's midnight": datetime(2030, 1, 14, 23, 1, tzinfo=UTC),
}
# Each facility's today at each instant.
TODAY = {
    "before Tokyo's midnight": {"tokyo": THE_14TH, "berlin": THE_14TH},
    "after Tokyo's midnight": {"tokyo": THE_15TH, "berlin": THE_14TH},
    "before Berlin's midnight": {"tokyo": THE_15TH, "berlin": THE_14TH},
    "after Berlin's midnight": {"tokyo": THE_15TH, "berlin": THE_15TH},
}


class City(msgspec.Struct):
    facilities: dict[str, int]
    beds: dict[str, int]


@pytest.fixture
async def city(db: Any) -> City:
    """A short-stay facility in Tokyo under the JP preset, a Kurzzeitpflege in Berlin under the
    DE preset, one free bed each."""
    tokyo = await builders.facility(
        db,
        lat=35.68,
        lon=139.76,
        timezone="Asia/Tokyo",
        currency="JPY",
        respite_policy_code="jp-short-stay",
    )
    berlin = await builders.facility(
        db,
        lat=52.52,
        lon=13.40,
        timezone="Europe/Berlin",
        currency="EUR",
        respite_policy_code="de-kurzzeitpflege",
    )
    facilities = {"tokyo": tokyo, "berlin": berlin}
    return City(facilities, {name: await builders.bed(db, f) for name, f in facilities.items()})


def _stay(check_in: date) -> dict[str, str]:
    return {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
    }


async def _search(
    client: httpx.AsyncClient, city: City, names: tuple[str, ...], check_in: date
) -> httpx.Response:
    listed = [city.facilities[name] for name in names]
    return await client.get(
        "/v1/availability", params={**_stay(check_in), "facility_id": listed, "kind": "respite"}
    )


@pytest.mark.parametrize("instant", list(INSTANTS))
async def test_search_offers_a_stay_only_where_check_in_is_not_yet_past(
    client: httpx.AsyncClient, city: City, clock: ManualClock, instant: str
) -> None:
    clock.set(INSTANTS[instant])
    for names in (("tokyo",), ("berlin",), ("tokyo", "berlin")):
        for check_in in (THE_14TH, THE_15TH):
            case = f"{'+'.join(names)} from {check_in}"
            open_ = [name for name in names if check_in >= TODAY[instant][name]]

            response = await _search(client, city, names, check_in)

            if not open_:
                # Yesterday at every facility searched: the request's fault, named.
                problem = assert_problem(response, 422, "invalid-input")
                assert [e["field"] for e in problem["errors"]] == ["check_in"], case
                continue
            assert response.status_code == 200, (case, response.text)
            offered = {f["facility_id"] for f in response.json()["facilities"]}
            assert offered == {city.facilities[name] for name in open_}, case


async def test_in_a_search_spanning_both_a_stay_from_yesterday_in_tokyo_offers_tokyo_tomorrow(
    client: httpx.AsyncClient, city: City, clock: ManualClock
) -> None:
    clock.set(INSTANTS["after Tokyo's midnight"])
    body = (await _search(client, city, ("tokyo", "berlin"), THE_14TH)).json()
    assert [f["facility_id"] for f in body["facilities"]] == [city.facilities["berlin"]]
    # Tokyo has no bed for a stay that began yesterday there; the same stay a day later it has.
    assert [(a["facility_id"], a["check_in"]) for a in body["alternatives"]] == [
        (city.facilities["tokyo"], THE_15TH.isoformat())
    ]


@pytest.mark.parametrize("instant", list(INSTANTS))
@pytest.mark.parametrize("name", ["tokyo", "berlin"])
async def test_eligibility_judges_check_in_by_the_facilitys_date(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    city: City,
    clock: ManualClock,
    instant: str,
    name: str,
) -> None:
    clock.set(INSTANTS[instant])
    family, headers = await make_token("family")
    # Pflegegrad 3 / 要介護 3, assessed this winter: both presets take the elder.
    elder = await builders.recipient(
        db, family_id=family.id, level=3, assessed_on=date(2029, 12, 1)
    )
    today = TODAY[instant][name]

    answers: dict[tuple[date, str], list[str]] = {}
    for check_in in (today - timedelta(days=1), today):
        for field, ident in (("bed_id", city.beds[name]), ("facility_id", city.facilities[name])):
            body = {"care_recipient_id": elder, field: ident, **_stay(check_in)}
            answer = await client.post("/v1/eligibility", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["today"] == today.isoformat()
            (result, *_) = answer.json()["results"]
            refused = [r["code"] for r in result["decision"]["reasons"] if not r["ok"]]
            answers[(check_in, field)] = refused

    for field in ("bed_id", "facility_id"):
        assert answers[(today - timedelta(days=1), field)] == ["check_in_in_past"]
        assert answers[(today, field)] == []


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        ("tokyo", "before Tokyo's midnight", "after Tokyo's midnight"),
        ("berlin", "before Berlin's midnight", "after Berlin's midnight"),
    ],
)
async def test_a_bed_booked_tonight_retires_only_once_tonight_is_past_there(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    city: City,
    clock: ManualClock,
    name: str,
    before: str,
    after: str,
) -> None:
    bed = city.beds[name]
    booking = await builders.booking(db, bed, THE_14TH - timedelta(days=2), THE_15TH)
    _, staff = await make_token("staff", facility_id=city.facilities[name])

    clock.set(INSTANTS[before])
    refused = await client.post(f"/v1/beds/{bed}/retire", headers=staff)
    problem = assert_problem(refused, 409, "bed-still-booked")
    assert (problem["conflicting_booking"], problem["night"]) == (booking, THE_14TH.isoformat())

    clock.set(INSTANTS[after])
    retired = await client.post(f"/v1/beds/{bed}/retire", headers=staff)
    assert retired.status_code == 200, retired.text
