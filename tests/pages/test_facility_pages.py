"""A facility's page (issue #14): what a family needs before holding a bed there, in both
languages, as the API's profile says it; an unknown facility is the 404 page."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests import builders


@pytest.fixture
async def hengshan(db: Any) -> int:
    facility = await builders.facility(
        db,
        name="衡山护理院",
        address="上海市徐汇区衡山路 100 号",
        phone="021 6431 0000",
        district="徐汇区",
        community="天平路街道",
        visiting_hours="每天 9:00–11:30、14:00–17:00",
        price_includes="三餐、日常护理、洗衣",
        description="紧邻衡山公园的护理院，有康复室和花园。",
    )
    await builders.bed(db, facility, capabilities=("oxygen", "wheelchair"), price=22000)
    await builders.bed(db, facility, kind="home", pressure_care_stage=2, price=15000)
    return facility


async def test_the_facility_page_in_both_languages(
    client: httpx.AsyncClient, hengshan: int
) -> None:
    english = await client.get(f"/facilities/{hengshan}")
    chinese = await client.get(f"/facilities/{hengshan}", headers={"Accept-Language": "zh-CN"})
    for answer in (english, chinese):
        assert answer.status_code == 200, answer.text
        assert "<h1>衡山护理院</h1>" in answer.text
        assert "上海市徐汇区衡山路 100 号" in answer.text
        assert 'href="tel:02164310000"' in answer.text and ">021 6431 0000</a>" in answer.text
        assert (
            "每天 9:00–11:30、14:00–17:00" in answer.text and "三餐、日常护理、洗衣" in answer.text
        )
        assert "紧邻衡山公园的护理院" in answer.text
    assert "Address" in english.text and "Visiting hours" in english.text
    assert "¥150.00 to ¥220.00 a night" in english.text
    assert "Oxygen therapy" in english.text and "Wheelchair accessible" in english.text
    assert "Pressure-injury care up to stage 2" in english.text
    assert "Respite beds (short stays)" in english.text and "Home-care beds" in english.text
    assert "地址" in chinese.text and "探视时间" in chinese.text and "价格包含" in chinese.text
    assert "每晚 150.00 元 至 220.00 元" in chinese.text
    assert "吸氧" in chinese.text and "压疮护理（最高 2 期）" in chinese.text
    assert "Address" not in chinese.text


async def test_the_page_says_the_same_as_the_api_profile(
    client: httpx.AsyncClient, hengshan: int, make_token: Any
) -> None:
    _, headers = await make_token("family")
    for lang in ("en", "zh-CN"):
        profile = (
            await client.get(
                f"/v1/facilities/{hengshan}/profile",
                headers={**headers, "Accept-Language": lang},
            )
        ).json()
        answer = await client.get(f"/facilities/{hengshan}", headers={"Accept-Language": lang})
        for said in [
            profile["price"]["words"],
            *(k["name"] for k in profile["kinds"]),
            *(c["name"] for c in profile["capabilities"]),
        ]:
            assert said in html.unescape(answer.text)


async def test_a_facility_without_details_says_they_are_not_recorded(
    client: httpx.AsyncClient, db: Any
) -> None:
    bare = await builders.facility(db, name="新开照护站", active=False)
    answer = await client.get(f"/facilities/{bare}")
    assert answer.status_code == 200
    assert answer.text.count("Not recorded") == 4  # address, phone, visiting hours, includes
    assert "No bed can be booked here at the moment." in answer.text
    assert "takes no new bookings for now" in answer.text and "tel:" not in answer.text


@pytest.mark.parametrize("facility_id", ["999999999", str(2**63), "0"])
async def test_an_unknown_facility_is_the_404_page(
    client: httpx.AsyncClient, facility_id: str
) -> None:
    answer = await client.get(f"/facilities/{facility_id}", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in answer.text and re.search(r"<h1>[^<]+</h1>", answer.text)
    assert "{" not in answer.text.split("<main")[1]
