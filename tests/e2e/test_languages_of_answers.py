"""Answers of eligibility, recipients, inventory and referrals in the caller's language.

The same request in zh-CN and in English: codes, figures and fields are the same, the words
are each language's own (the suite's client asks for English unless told otherwise).
"""

from datetime import date, timedelta
from typing import Any

import httpx

from respite.clock import ManualClock, local_today
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem
from tests.e2e.test_webhook_receiver import hospital, refer

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def in_both(headers: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"zh-CN": {**headers, **ZH}, "en": {**headers, **EN}}


async def test_a_policy_check_says_its_reasons_in_the_callers_language(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    today = local_today("Asia/Shanghai", clock.now())
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id, level=0)
    check_in = today + timedelta(days=5)
    query = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=7)).isoformat(),
    }

    answers = {
        lang: await client.post("/v1/eligibility", json=query, headers=h)
        for lang, h in in_both(headers).items()
    }

    reasons = {}
    for lang, answer in answers.items():
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-language"] == lang
        (result,) = answer.json()["results"]
        reasons[lang] = {r["code"]: r for r in result["decision"]["reasons"]}
    level = {lang: found["level_not_eligible"] for lang, found in reasons.items()}
    assert level["en"]["message"] == "Level 0 is not eligible (eligible levels: 1, 2, 3, and 4)."
    assert level["zh-CN"]["message"] == "能力等级 0 级不符合条件（符合条件的等级：1、2、3和4）。"
    assert (
        level["en"]["figures"]
        == level["zh-CN"]["figures"]
        == {
            "level": 0,
            "eligible_levels": "1, 2, 3, 4",
        }
    )
    quota = reasons["zh-CN"]["within_quota"]
    start = date(check_in.year, 1, 1)
    assert quota["figures"]["period_start"] == start.isoformat()
    assert f"{start.year}年1月1日至{start.year}年12月31日期间" in quota["message"]
    assert (
        f"from January 1, {start.year} to December 31, {start.year}"
        in (reasons["en"]["within_quota"]["message"])
    )


async def test_a_bad_row_of_a_bed_file_is_said_in_both_languages(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    url = f"/v1/facilities/{facility}/beds/import"
    content = b"label,kind,sex_rule,nightly_price\nA1,respite,any,-5\n"

    said = {}
    for lang, headers in in_both({**staff, "content-type": "text/csv"}).items():
        problem = assert_problem(
            await client.post(url, content=content, headers=headers), 422, "invalid-file"
        )
        (error,) = problem["errors"]
        assert (error["line"], error["column"]) == (2, "nightly_price")
        said[lang] = (problem["detail"], error["message"])

    assert said["en"][1] == (
        "'-5' is out of range; the nightly price in fen, for example 28000 for ¥280.00"
    )
    assert said["zh-CN"][1] == "'-5' 超出范围；应填每晚价格，以分为单位，例如 28000 表示 280.00 元"
    assert said["en"][0].startswith("Nothing was imported: 1 problem(s), the first on line 2, ")
    assert said["zh-CN"][0].startswith(
        "未导入任何内容：共 1 处问题，第一处在第 2 行 nightly_price 列："
    )
    assert await db.fetchval("SELECT count(*) FROM beds WHERE facility_id = $1", facility) == 0


async def test_a_recipients_field_error_and_problem_are_said_in_both_languages(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, family = await make_token("family")
    elder = {
        "name": "王秀英",
        "sex": "female",
        "birth_date": "1941-03-08",
        "national_id": "310101194103080028",
    }
    bad_id = {**elder, "national_id": "-31010119410308"}
    half_home = {**elder, "home_lat": 31.2}

    for lang, headers in in_both(family).items():
        refused = assert_problem(
            await client.post("/v1/care-recipients", json=bad_id, headers=headers),
            422,
            "invalid-input",
        )
        (error,) = refused["errors"]
        assert error["field"] == "national_id"
        assert (
            error["message"] == {"en": "is not in the expected form", "zh-CN": "格式不正确"}[lang]
        )
        half = assert_problem(
            await client.post("/v1/care-recipients", json=half_home, headers=headers),
            422,
            "invalid-input",
        )
        assert half["errors"] == [
            {
                "field": "home_lon",
                "message": {
                    "en": "give home_lat and home_lon together",
                    "zh-CN": "home_lat 和 home_lon 须同时填写",
                }[lang],
            }
        ]

    created = await client.post("/v1/care-recipients", json=elder, headers=family)
    assert created.status_code == 201, created.text
    first = created.json()["id"]
    for lang, headers in in_both(family).items():
        duplicate = assert_problem(
            await client.post("/v1/care-recipients", json=elder, headers=headers),
            409,
            "duplicate-national-id",
        )
        assert duplicate["care_recipient_id"] == first
        assert (
            duplicate["detail"]
            == {
                "en": f"Care recipient {first} already has this national ID.",
                "zh-CN": f"照护对象 {first} 已使用此身份证号。",
            }[lang]
        )


async def test_a_referral_problem_and_a_callback_url_are_said_in_both_languages(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    _, admin = await make_token("admin")
    ward = await hospital(client, admin)
    referral = (await refer(client, ward)).json()["referral"]
    path = f"/v1/referrals/{referral['id']}/cancel"
    cancelled = await client.post(
        path, json={"reason": "went home"}, headers={**ward.headers, "Idempotency-Key": "c-1"}
    )
    assert cancelled.status_code == 200, cancelled.text

    for n, (lang, headers) in enumerate(in_both(ward.headers).items()):
        again = await client.post(
            path, json={"reason": "again"}, headers={**headers, "Idempotency-Key": f"c-{n + 2}"}
        )
        problem = assert_problem(again, 409, "referral-step-not-allowed")
        assert (problem["current_status"], problem["step"]) == ("cancelled", "cancel")
        assert (
            problem["detail"]
            == {
                "en": "A referral that is cancelled cannot cancel; it is final.",
                "zh-CN": "已取消的转介不能取消转介，该转介已结束。",
            }[lang]
        )
        url = await client.post(
            "/v1/webhooks/endpoints", json={"url": "ftp://example.com/h"}, headers=headers
        )
        (error,) = assert_problem(url, 422, "invalid-input")["errors"]
        assert error == {
            "field": "url",
            "message": {"en": "must be an https:// URL", "zh-CN": "须为 https:// 地址"}[lang],
        }
