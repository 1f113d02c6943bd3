"""The gazetteer's file rules and name keys, and how a swapped lon,lat is told apart (pure)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from respite.availability.model import SearchParams, validate_query
from respite.availability.where import swapped
from respite.dev.city import GAZETTEER_FILE
from respite.errors import InvalidInputError
from respite.i18n import render
from respite.places.model import Bounds, name_key, read_gazetteer
from tests.builders import SUITE_START

XUHUI = {
    "id": 310104,
    "kind": "district",
    "name": "徐汇区",
    "name_en": "Xuhui District",
    "lat": 31.172,
    "lon": 121.438,
    "radius_m": 8000,
}
TIANPING = {
    "id": 310104001,
    "kind": "street",
    "name": "天平路街道",
    "name_en": "Tianping Lu Subdistrict",
    "parent": 310104,
    "lat": 31.2055,
    "lon": 121.44,
}


def gazetteer(*places: dict[str, Any], system: str = "GCJ-02") -> bytes:
    return json.dumps({"coordinate_system": system, "places": list(places)}).encode()


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (("徐汇区", "徐汇", " 徐汇 区 "), "徐汇"),
        (("Xuhui District", "xuhui", "XUHUI", "Xuhui  district"), "xuhui"),
        (("天平路街道", "天平路"), "天平路"),
        (("Tianping Lu Subdistrict", "Tianping Lu", "tianping-lu", "Tianping Road"), "tianpinglu"),
        (("浦东新区", "浦东"), "浦东"),
        (("Pudong New Area", "pudong"), "pudong"),
        (("Jing'an District", "jingan", "Jing’an"), "jingan"),
        (("华泾镇", "华泾"), "华泾"),
    ],
)
def test_names_meet_at_one_key_whatever_suffix_case_or_spaces(
    names: tuple[str, ...], key: str
) -> None:
    assert {name_key(name) for name in names} == {key}


def test_a_suffix_alone_stays_a_name() -> None:
    assert name_key("区") == "区" and name_key("Town") == "town"


def test_the_shipped_shanghai_gazetteer_is_valid_with_sixteen_districts() -> None:
    entries, problems = read_gazetteer(GAZETTEER_FILE.read_bytes(), "GCJ-02")
    assert problems == []
    districts = {e.name for e in entries if e.kind == "district"}
    assert districts == {
        "黄浦区",
        "徐汇区",
        "长宁区",
        "静安区",
        "普陀区",
        "虹口区",
        "杨浦区",
        "闵行区",
        "宝山区",
        "嘉定区",
        "浦东新区",
        "金山区",
        "松江区",
        "青浦区",
        "奉贤区",
        "崇明区",
    }
    assert sum(e.kind == "street" for e in entries) >= 80


def test_a_good_file_reads_whole() -> None:
    entries, problems = read_gazetteer(gazetteer(XUHUI, TIANPING), "GCJ-02")
    assert problems == []
    assert [(e.id, e.reach_m) for e in entries] == [(310104, 8000), (310104001, 1500)]


def _said(data: bytes, system: str = "GCJ-02") -> list[tuple[int | None, int | None, str]]:
    entries, problems = read_gazetteer(data, system)  # type: ignore[arg-type]
    assert entries == [] and problems
    return [(p.entry, p.id, render(p.message, "en")) for p in problems]


def test_a_street_outside_its_district_is_refused_naming_it() -> None:
    far = {**TIANPING, "lat": 31.40, "lon": 121.44}  # 25 km north, in Baoshan
    [(entry, ident, message)] = _said(gazetteer(XUHUI, far))
    assert (entry, ident) == (2, 310104001)
    assert "from the centre of 徐汇区" in message and "8.0 km" in message


@pytest.mark.parametrize(
    ("places", "wanted"),
    [
        ((XUHUI, {**TIANPING, "parent": 999}), "needs the id of a place"),
        ((XUHUI, {**TIANPING, "parent": None}), "needs the id of a place"),
        ((XUHUI, XUHUI), "Another place of the file has this id"),
        ((XUHUI, {**XUHUI, "id": 7, "name_en": "Xuhui"}), "is called 徐汇区"),
        (({**XUHUI, "parent": 1},), "A district has no parent"),
        ((XUHUI, {**TIANPING, "kind": "community", "id": 9}), "must be a street"),
        ((XUHUI, {**TIANPING, "lat": 95}), "This place is not valid"),
        ((XUHUI, {**TIANPING, "kind": "city"}), "This place is not valid"),
        ((XUHUI, {**TIANPING, "colour": "red"}), "This place is not valid"),
    ],
)
def test_each_bad_place_is_named_and_nothing_is_read(
    places: tuple[dict[str, Any], ...], wanted: str
) -> None:
    assert any(wanted in message for _, _, message in _said(gazetteer(*places)))


def test_a_file_in_another_coordinate_system_is_refused() -> None:
    [(_, _, message)] = _said(gazetteer(XUHUI, system="WGS-84"))
    assert "in WGS-84, but this service uses GCJ-02" in message


def test_a_file_that_is_not_json_is_refused() -> None:
    [(entry, _, message)] = _said(b"id,kind,name\n1,district,x\n")
    assert entry is None and "not a gazetteer in JSON" in message


SHANGHAI = Bounds(30.6, 31.9, 120.8, 122.0)


@pytest.mark.parametrize(
    ("text", "bounds", "is_swapped"),
    [
        ("121.47,31.23", None, True),  # a latitude past 90
        ("121.47,31.23", SHANGHAI, True),
        ("31.23,121.47", SHANGHAI, False),
        ("31.23,121.47", None, False),
        ("35.68,139.69", SHANGHAI, False),  # Tokyo: outside, but not swapped
        ("200,31", None, False),  # not a point either way
        ("abc", None, False),
    ],
)
def test_a_swapped_lon_lat_is_told_apart(
    text: str, bounds: Bounds | None, is_swapped: bool
) -> None:
    message = swapped(text, bounds)
    assert (message is not None) == is_swapped
    if message is not None:
        assert render(message, "en") == "looks like lon,lat; write lat,lon: 31.23,121.47"
        assert "纬度,经度" in render(message, "zh-CN")


def _search(**given: Any) -> SearchParams:
    check_in = SUITE_START.date() + timedelta(days=30)
    return SearchParams(check_in=check_in, check_out=check_in + timedelta(days=3), **given)


@pytest.mark.parametrize("field", ["near", "home"])
def test_a_search_given_lon_lat_says_so(field: str) -> None:
    given: dict[str, Any] = {field: "121.47,31.23"}
    if field == "home":
        given |= {"kind": "home", "near": "31.23,121.47"}
    with pytest.raises(InvalidInputError) as raised:
        validate_query(_search(**given), SUITE_START)
    [error] = [e for e in raised.value.errors if e.field == field]
    assert not isinstance(error.message, str)
    assert render(error.message, "en") == "looks like lon,lat; write lat,lon: 31.23,121.47"


@pytest.mark.parametrize(
    ("given", "fields"),
    [
        ({"place": "徐汇区", "near": "31.2,121.4"}, ["place"]),
        ({"place": "徐汇区", "facility_ids": (1,)}, ["place"]),
        ({"near_home": True}, ["near_home"]),
        ({"near_home": True, "care_recipient_id": 3, "near": "31.2,121.4"}, ["near_home"]),
        ({"near_home": True, "care_recipient_id": 3, "place": "徐汇"}, ["place", "near_home"]),
        ({"place": "  "}, ["place"]),
        ({"place": "徐汇\x00区"}, ["place"]),
    ],
)
def test_place_and_near_home_each_replace_near(given: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_query(_search(**given), SUITE_START)
    assert [e.field for e in raised.value.errors if e.field in ("place", "near_home")] == fields


def test_a_search_by_place_alone_is_valid_and_takes_the_places_reach() -> None:
    query = validate_query(_search(place="天平路街道"), SUITE_START)
    assert (query.place, query.near, query.radius_from_place) == ("天平路街道", None, True)
    given = validate_query(_search(place="天平路街道", radius_km=3), SUITE_START)
    assert (given.radius_m, given.radius_from_place) == (3000, False)
