"""Searching by place name, and empty answers that explain themselves (issue #13, 4 and 7).

The gazetteer is the demo's Shanghai (``respite/dev/shanghai_places.json``), imported into the
test's database as an operator would.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from respite.dev.city import GAZETTEER_FILE, gazetteer
from respite.places.model import read_gazetteer
from respite.places.service import replace_places
from tests import builders, dates
from tests.conftest import MakeToken
from tests.dates import When

URL = "/v1/availability"
ZH = {"Accept-Language": "zh-CN"}
TIANPING = (31.2055, 121.4400)  # 徐汇区天平路街道
WUJIAOCHANG = (31.3000, 121.5130)  # 杨浦区五角场街道


@pytest.fixture
def when(clock: ManualClock) -> When:
    return dates.when(clock, ahead=20)


def stay(when: When) -> dict[str, str]:
    return {"check_in": when.d.isoformat(), "check_out": (when.d + timedelta(days=3)).isoformat()}


@pytest.fixture
async def shanghai(db: Any) -> dict[str, int]:
    """The demo gazetteer, and a facility with a free bed on 天平路 and one in 五角场."""
    await replace_places(db, gazetteer())
    tianping = await builders.facility(db, lat=TIANPING[0] + 0.002, lon=TIANPING[1], name="天平")
    wujiaochang = await builders.facility(
        db, lat=WUJIAOCHANG[0], lon=WUJIAOCHANG[1] + 0.002, name="五角场"
    )
    for facility in (tianping, wujiaochang):
        await builders.bed(db, facility)
    return {"tianping": tianping, "wujiaochang": wujiaochang}


def found(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [f["name"] for f in response.json()["facilities"]]


@pytest.mark.parametrize(
    ("place", "names"),
    [
        ("徐汇区", ["天平"]),
        ("Xuhui District", ["天平"]),
        ("xuhui", ["天平"]),
        ("天平路街道", ["天平"]),
        ("Tianping Lu", ["天平"]),
        ("310104", ["天平"]),
        ("杨浦区", ["五角场"]),
        ("Wujiaochang Subdistrict", ["五角场"]),
    ],
)
async def test_a_search_by_district_or_street_name_finds_the_facilities_there(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int], place: str, names: list[str]
) -> None:
    response = await client.get(URL, params={**stay(when), "place": place})
    assert found(response) == names
    body = response.json()
    assert body["place"]["name"] in ("徐汇区", "天平路街道", "杨浦区", "五角场街道")
    assert body["coordinate_system"] == "GCJ-02"


async def test_the_answer_names_the_place_and_its_district(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int]
) -> None:
    body = (await client.get(URL, params={**stay(when), "place": "天平路"})).json()
    assert body["place"] == {
        "id": 310104001,
        "kind": "street",
        "name": "天平路街道",
        "name_en": "Tianping Lu Subdistrict",
        "district": "徐汇区",
        "lat": 31.2055,
        "lon": 121.44,
        "radius_m": 1500,
    }


async def test_two_streets_of_one_name_answer_422_listing_both(
    when: When, client: httpx.AsyncClient, db: Any
) -> None:
    document = json.loads(GAZETTEER_FILE.read_bytes())
    document["places"].append(
        {
            "id": 310113999,
            "kind": "street",
            "name": "天平路街道",
            "name_en": "Tianping Lu Subdistrict",
            "parent": 310113,
            "lat": 31.40,
            "lon": 121.42,
        }
    )
    entries, problems = read_gazetteer(json.dumps(document).encode(), "GCJ-02")
    assert problems == []
    await replace_places(db, entries)

    response = await client.get(URL, params={**stay(when), "place": "Tianping Lu"})

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"].endswith("/ambiguous-place")
    assert [e["field"] for e in body["errors"]] == ["place"]
    assert "2 places are called Tianping Lu" in body["errors"][0]["message"]
    assert {(c["id"], c["district"]) for c in body["candidates"]} == {
        (310104001, "徐汇区"),
        (310113999, "宝山区"),
    }
    by_id = await client.get(URL, params={**stay(when), "place": "310113999"})
    assert by_id.json()["place"]["district"] == "宝山区"


async def test_an_unknown_name_answers_422_with_near_matches_in_both_languages(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int]
) -> None:
    response = await client.get(URL, params={**stay(when), "place": "Tianpin"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"].endswith("/unknown-place")
    names = [m["name"] for m in body["near_matches"]]
    assert names[0] == "天平路街道" and "田林街道" in names  # "Tian..." all come to mind
    message = body["errors"][0]["message"]
    assert message.startswith("No place is called Tianpin; did you mean 天平路街道, ")
    zh = (await client.get(URL, params={**stay(when), "place": "天平"}, headers=ZH)).json()
    assert zh["errors"][0]["message"] == "没有名为天平的地点；您是否要找天平路街道？"
    nothing = await client.get(URL, params={**stay(when), "place": "Atlantis"})
    assert nothing.json()["near_matches"] == []
    assert "No place is called Atlantis" in nothing.json()["errors"][0]["message"]


async def test_a_swapped_lon_lat_is_caught_in_both_languages(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int]
) -> None:
    params = {**stay(when), "near": "121.44,31.2055"}
    en = await client.get(URL, params=params)
    zh = await client.get(URL, params=params, headers=ZH)
    assert en.status_code == zh.status_code == 422
    assert en.json()["errors"] == [
        {"field": "near", "message": "looks like lon,lat; write lat,lon: 31.2055,121.44"}
    ]
    assert zh.json()["errors"] == [
        {"field": "near", "message": "看起来是“经度,纬度”；请按“纬度,经度”填写：31.2055,121.44"}
    ]


async def test_a_point_outside_the_deployment_is_refused_naming_the_area(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int]
) -> None:
    response = await client.get(URL, params={**stay(when), "near": "35.68,139.69"})  # Tokyo
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "near"
    assert error["message"].startswith("is outside the area this service covers (latitude 30.")
    assert error["message"].endswith(", GCJ-02)")
    # Far away whichever way round: said as outside the area, not as swapped.
    swapped = await client.get(URL, params={**stay(when), "near": "60,30"})
    assert "outside the area" in swapped.json()["errors"][0]["message"]


async def test_a_search_for_nobody_says_it_is_not_checked_against_an_elder(
    when: When, client: httpx.AsyncClient, shanghai: dict[str, int], make_token: MakeToken, db: Any
) -> None:
    anonymous = await client.get(URL, params={**stay(when), "place": "徐汇区"})
    note = anonymous.json()["not_checked_against_elder"]
    assert note.startswith("These beds are not checked against an elder")
    zh = await client.get(URL, params={**stay(when), "place": "徐汇区"}, headers=ZH)
    assert zh.json()["not_checked_against_elder"].startswith("以上床位未按具体老人核对")

    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id, home=TIANPING)
    mine = await client.get(
        URL,
        params={**stay(when), "near_home": "true", "care_recipient_id": elder},
        headers=headers,
    )
    assert found(mine) == ["天平"]
    assert mine.json()["not_checked_against_elder"] is None


async def test_a_home_outside_every_service_radius_lists_the_nearest_providers(
    when: When, client: httpx.AsyncClient, db: Any
) -> None:
    await replace_places(db, gazetteer())
    near = await builders.facility(
        db, lat=TIANPING[0] + 0.05, lon=TIANPING[1], radius_m=3000, name="近", district="徐汇区"
    )
    far = await builders.facility(
        db, lat=TIANPING[0] + 0.09, lon=TIANPING[1], radius_m=5000, name="远", district="静安区"
    )
    respite_only = await builders.facility(db, lat=TIANPING[0] + 0.01, lon=TIANPING[1])
    for facility in (near, far):
        await builders.bed(db, facility, kind="home")
    await builders.bed(db, respite_only)
    home = f"{TIANPING[0]},{TIANPING[1]}"

    response = await client.get(
        URL, params={**stay(when), "kind": "home", "home": home, "near": home}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["facilities"] == []
    assert [(p["facility_id"], p["outside_service_radius"]) for p in body["nearest"]] == [
        (near, True),
        (far, True),
    ]
    first = body["nearest"][0]
    assert first["service_radius_m"] == 3000 and first["district"] == "徐汇区"
    assert first["distance_m"] == pytest.approx(5560, abs=30)
    assert body["nearest_note"].startswith("No home-care provider serves this home")
    served = await client.get(
        URL, params={**stay(when), "kind": "home", "near": f"{TIANPING[0] + 0.045},{TIANPING[1]}"}
    )
    assert [f["facility_id"] for f in served.json()["facilities"]] == [near]
    assert served.json()["nearest"] == []


async def test_the_api_reference_states_the_coordinate_system_of_every_lat_lon(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert "is GCJ-02 (RESPITE_COORDINATE_SYSTEM)" in document["info"]["description"]
    [search] = [op for path, op in document["paths"].items() if path.startswith(URL)]
    described = {p["name"]: p.get("description", "") for p in search["get"]["parameters"]}
    assert "RESPITE_COORDINATE_SYSTEM" in described["near"]
    assert "RESPITE_COORDINATE_SYSTEM" in described["home"]
    fields = {
        f"{name}.{field}": json.dumps(spec)
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if field in ("lat", "lon", "home_lat", "home_lon")
    }
    assert len(fields) > 10
    assert [f for f, spec in fields.items() if "coordinate system" not in spec] == []
