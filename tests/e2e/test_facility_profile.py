"""A facility's profile: staff write its words, every signed-in caller reads it, in zh-CN or en."""

from typing import Any

import httpx

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

ZH = {"Accept-Language": "zh-CN"}
WORDS = {
    "visiting_hours": "每天 9:00–11:00、14:00–17:00",
    "price_includes": "三餐、日常生活照料、洗衣\n不含药品和耗材",
    "description": "提供认知症照护和康复训练。",
}


async def test_staff_write_the_words_and_a_family_reads_them_in_chinese(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db, address="徐汇区枫林路 100 号", phone="021-6403 0000")
    await builders.bed(db, facility, price=32000, capabilities=("wheelchair",))
    _, staff = await make_token("staff", facility_id=facility)
    patched = await client.patch(f"/v1/facilities/{facility}", json=WORDS, headers=staff)
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in WORDS} == WORDS

    _, family = await make_token("family")
    profile = await client.get(f"/v1/facilities/{facility}/profile", headers={**family, **ZH})
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert {k: body[k] for k in WORDS} == WORDS
    assert (body["address"], body["phone"]) == ("徐汇区枫林路 100 号", "021-6403 0000")
    assert body["capabilities"] == [{"code": "wheelchair", "name": "无障碍设施，轮椅可通行"}]
    assert body["kinds"] == [{"kind": "respite", "name": "喘息床位（短期托养）"}]
    assert body["price"] == {
        "min_nightly_price": 32000,
        "max_nightly_price": 32000,
        "currency": "CNY",
        "words": "每晚 320.00 元",
    }
    for hidden in ("lat", "lon", "respite_policy_code", "service_radius_m", "operator"):
        assert hidden not in body


async def test_the_profile_says_what_the_bookable_beds_offer_in_english_and_chinese(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    await builders.bed(db, facility, price=28000, capabilities=("oxygen", "low_bed"))
    await builders.bed(db, facility, price=36000, capabilities=("dementia_secure", "oxygen"))
    await builders.bed(db, facility, kind="home", price=15000, pressure_care_stage=2)
    # Neither a retired nor an inactive bed is offered: not their capabilities nor prices.
    retired = await builders.bed(db, facility, price=99000, capabilities=("isolation",))
    await db.execute("UPDATE beds SET retired_at = now(), active = false WHERE id = $1", retired)
    inactive = await builders.bed(db, facility, price=100, capabilities=("bariatric",))
    await db.execute("UPDATE beds SET active = false WHERE id = $1", inactive)
    _, hospital = await make_token("hospital", hospital_id=await builders.hospital(db))
    url = f"/v1/facilities/{facility}/profile"

    english = (await client.get(url, headers=hospital)).json()
    assert [c["code"] for c in english["capabilities"]] == [
        "dementia_secure",
        "oxygen",
        "low_bed",
        "pressure_care",
    ]
    assert [c["name"] for c in english["capabilities"]] == [
        "Secure unit for people living with dementia",
        "Oxygen therapy",
        "Low beds for people at risk of falls",
        "Pressure-injury care up to stage 2",
    ]
    assert [k["kind"] for k in english["kinds"]] == ["respite", "home"]
    assert english["price"]["words"] == "¥150.00 to ¥360.00 a night"
    assert (english["price"]["min_nightly_price"], english["price"]["max_nightly_price"]) == (
        15000,
        36000,
    )

    chinese = (await client.get(url, headers={**hospital, **ZH})).json()
    assert [c["name"] for c in chinese["capabilities"]] == [
        "认知症照护专区（防走失）",
        "吸氧",
        "低位床（预防跌倒）",
        "压疮护理（最高 2 期）",
    ]
    assert [k["name"] for k in chinese["kinds"]] == [
        "喘息床位（短期托养）",
        "家庭养老床位（居家照护）",
    ]
    assert chinese["price"]["words"] == "每晚 150.00 元 至 360.00 元"


async def test_a_facility_without_bookable_beds_has_no_price(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, family = await make_token("family")
    body = (await client.get(f"/v1/facilities/{facility}/profile", headers=family)).json()
    assert (body["price"], body["capabilities"], body["kinds"]) == (None, [], [])
    assert (body["visiting_hours"], body["price_includes"], body["description"]) == ("", "", "")


async def test_unknown_facility_and_anonymous_callers_are_refused(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, family = await make_token("family")
    assert_problem(
        await client.get("/v1/facilities/999999/profile", headers=family), 404, "not-found"
    )
    assert_problem(await client.get(f"/v1/facilities/{facility}/profile"), 401, "unauthenticated")


async def test_bad_profile_words_are_named_and_change_nothing(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    for field, value in (
        ("visiting_hours", "x" * 201),
        ("visiting_hours", " 9:00–17:00"),
        ("visiting_hours", "9:00\n17:00"),
        ("price_includes", "x" * 501),
        ("description", "x" * 1001),
        ("description", "bell\x07"),
        ("description", 7),
    ):
        refused = await client.patch(
            f"/v1/facilities/{facility}", json={field: value}, headers=staff
        )
        problem = assert_problem(refused, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == [field], (field, value, problem)
    row = await db.fetchrow(
        "SELECT visiting_hours, price_includes, description FROM facilities WHERE id = $1",
        facility,
    )
    assert tuple(row) == ("", "", "")
