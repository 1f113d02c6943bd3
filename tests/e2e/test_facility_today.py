""" "Today" is each facility's own date, around local midnight: a facility in Tokyo (the JP
preset) and one in Berlin (the DE preset), judged by the same clock, for walk-ins and holds."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken


class Place(msgspec.Struct):
    facility: int
    bed: int
    staff: dict[str, str]


@pytest.fixture
async def places(db: Any, make_token: MakeToken) -> dict[str, Place]:
    made = {}
    for city, timezone, policy in (
        ("tokyo", "Asia/Tokyo", "jp-short-stay"),
        ("berlin", "Europe/Berlin", "de-kurzzeitpflege"),
    ):
        facility = await builders.facility(db, timezone=timezone, respite_policy_code=policy)
        bed = await builders.bed(db, facility)
        _, staff = await make_token("staff", facility_id=facility)
        made[city] = Place(facility, bed, staff)
    return made


def evening(clock: ManualClock) -> date:
    """21:30 UTC on the suite's date: already tomorrow in Tokyo (06:30), still today in
    Berlin (22:30 or 23:30). The day it is in Berlin."""
    day = builders.today()
    clock.set(datetime.combine(day, time(21, 30), tzinfo=UTC))
    return day


def stay(first: date, nights: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "check_in": first.isoformat(),
        "check_out": (first + timedelta(days=nights)).isoformat(),
        **extra,
    }


async def test_a_walk_in_checks_in_on_the_facilitys_own_date(
    client: httpx.AsyncClient, db: Any, places: dict[str, Place], clock: ManualClock
) -> None:
    day = evening(clock)
    tomorrow = day + timedelta(days=1)

    async def walk_in(city: str, first: date) -> httpx.Response:
        place = places[city]
        elder = await builders.recipient(db, facility_id=place.facility)
        body = {"care_recipient_id": elder, "bed_id": place.bed, **stay(first, check_in_now=True)}
        url = f"/v1/facilities/{place.facility}/walk-ins"
        return await client.post(url, json=body, headers=place.staff)

    assert (await walk_in("tokyo", tomorrow)).json()["status"] == "checked_in"
    refused = await walk_in("berlin", tomorrow)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "check_in_now"
    assert f"{day:%B} {day.day}, {day.year}" in refused.json()["errors"][0]["message"]
    assert (await walk_in("berlin", day)).json()["status"] == "checked_in"


async def test_a_hold_for_tonight_is_past_in_tokyo_and_fine_in_berlin_until_midnight(
    client: httpx.AsyncClient,
    db: Any,
    places: dict[str, Place],
    clock: ManualClock,
    make_token: MakeToken,
) -> None:
    day = evening(clock)
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)

    async def hold(city: str) -> httpx.Response:
        body = {"care_recipient_id": elder, "bed_id": places[city].bed, **stay(day)}
        return await client.post("/v1/holds", json=body, headers=headers)

    past = await hold("tokyo")
    assert past.status_code == 422, past.text
    assert past.json()["refused"] == ["check_in_in_past"]
    placed = await hold("berlin")
    assert placed.status_code == 201, placed.text
    released = await client.delete(
        f"/v1/holds/{placed.json()['hold_id']}",
        headers={**headers, "Hold-Token": placed.json()["token"]},
    )
    assert released.status_code == 204
    clock.advance(timedelta(hours=3))  # past midnight in Berlin too
    late = await hold("berlin")
    assert late.status_code == 422, late.text
    assert late.json()["refused"] == ["check_in_in_past"]
