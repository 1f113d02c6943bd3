"""Problems of sign-in, holds, bookings and search, word for word in Chinese and English.

Each answer is asked for in both languages; the Chinese and the English are asserted whole,
so a message that exists in one language only, or framework wording that slips through,
fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop

LANGS = ("en", "zh-CN")
CENTRE = "31.23,121.47"
FRAMEWORK_WORDING = ("`", "Expected ", "Invalid enum", "RFC3339", "Object missing", "msgspec")


async def both(
    client: httpx.AsyncClient, method: str, url: str, **kw: Any
) -> dict[str, httpx.Response]:
    """The same request asked in English and in Chinese."""
    headers = kw.pop("headers", {})
    return {
        lang: await client.request(method, url, headers={**headers, "Accept-Language": lang}, **kw)
        for lang in LANGS
    }


def said(answers: dict[str, httpx.Response], status: int, member: str = "detail") -> list[str]:
    """``member`` of the problem in English and in Chinese (``errors`` gives the first
    field error as "field: message")."""
    out = []
    for lang, answer in answers.items():
        assert answer.status_code == status, answer.text
        assert answer.headers["content-language"] == lang
        problem = answer.json()
        if member == "errors":
            out.append("; ".join(f"{e['field']}: {e['message']}" for e in problem["errors"]))
        else:
            out.append(problem[member])
    return out


@pytest.fixture
def ahead() -> dict[str, str]:
    start = builders.today() + timedelta(days=10)
    return {"check_in": start.isoformat(), "check_out": (start + timedelta(days=3)).isoformat()}


@pytest.fixture
async def scene(db: Any, make_token: MakeToken, ahead: dict[str, str]) -> dict[str, Any]:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, label="3F-12")
    family, headers = await make_token("family")
    recipient = await builders.recipient(db, family_id=family.id)
    body = {"care_recipient_id": recipient, "bed_id": bed, **ahead}
    return {"facility": facility, "bed": bed, "headers": headers, "body": body}


async def another_family(db: Any, make_token: MakeToken, scene: dict[str, Any]) -> dict[str, Any]:
    other, headers = await make_token("family")
    recipient = await builders.recipient(db, family_id=other.id)
    return {"headers": headers, "body": {**scene["body"], "care_recipient_id": recipient}}


async def test_a_bed_held_by_someone_else(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, scene: dict[str, Any]
) -> None:
    first = await client.post("/v1/holds", json=scene["body"], headers=scene["headers"])
    assert first.status_code == 201, first.text
    other = await another_family(db, make_token, scene)
    answers = await both(client, "POST", "/v1/holds", json=other["body"], headers=other["headers"])
    assert said(answers, 409, "title") == ["The bed is held by someone else", "该床位已被他人预留"]
    assert said(answers, 409) == [
        "Bed 3F-12 is held by someone else for part of this stay; try another bed or other nights.",
        "床位 3F-12 在此次入住的部分夜晚已被他人预留，请选择其他床位或其他日期。",
    ]


async def test_an_expired_hold_now_held_by_another(
    client: httpx.AsyncClient,
    db: Any,
    make_token: MakeToken,
    scene: dict[str, Any],
    clock: ManualClock,
) -> None:
    hold = (await client.post("/v1/holds", json=scene["body"], headers=scene["headers"])).json()
    clock.advance(timedelta(seconds=601))
    other = await another_family(db, make_token, scene)
    taken = await client.post("/v1/holds", json=other["body"], headers=other["headers"])
    assert taken.status_code == 201, taken.text
    answers = {
        lang: await client.post(
            f"/v1/holds/{hold['hold_id']}/confirm",
            json={"token": hold["token"]},
            headers={**scene["headers"], "Idempotency-Key": f"k-{lang}", "Accept-Language": lang},
        )
        for lang in LANGS
    }
    assert said(answers, 409) == [
        "This hold expired and the bed is now held by someone else; "
        "search again or place a new hold.",
        "此预留已过期，该床位现已被他人预留。请重新搜索或重新预留。",
    ]
    assert said(answers, 409, "title")[1] == "预留已过期，床位已被他人预留"


async def test_too_many_live_holds_says_when_to_retry(
    client: httpx.AsyncClient, db: Any, scene: dict[str, Any]
) -> None:
    beds = [await builders.bed(db, scene["facility"]) for _ in range(3)]
    for bed in beds:
        body = {**scene["body"], "bed_id": bed}
        placed = await client.post("/v1/holds", json=body, headers=scene["headers"])
        assert placed.status_code == 201, placed.text
    answers = await both(client, "POST", "/v1/holds", json=scene["body"], headers=scene["headers"])
    assert said(answers, 429) == [
        "You keep 3 live holds, the most at once: confirm or release one first, "
        "or try again in 600 seconds.",
        "您已有 3 个有效预留，已达上限：请先确认或释放其中一个，或在 600 秒后重试。",
    ]
    assert said(answers, 429, "title") == ["Too many live holds", "有效预留过多"]
    assert {a.headers["retry-after"] for a in answers.values()} == {"600"}


async def test_too_many_sign_ins(client: httpx.AsyncClient) -> None:
    body = {"login": "nobody@example.test", "password": "wrong password"}
    for _ in range(10):
        wrong = await client.post(
            "/v1/auth/signin", json=body, headers={"Accept-Language": "zh-CN"}
        )
        assert wrong.status_code == 401
    assert wrong.json()["detail"] == "登录名或密码错误。"
    answers = await both(client, "POST", "/v1/auth/signin", json=body)
    english, chinese = said(answers, 429)
    seconds = answers["en"].headers["retry-after"]
    assert english == f"Too many attempts; try again in {seconds} seconds."
    assert chinese.startswith("尝试次数过多，请在 ") and chinese.endswith(" 秒后重试。")
    assert said(answers, 429, "title") == ["Too many requests", "请求过于频繁"]


async def test_not_found_and_no_token(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    _, headers = await make_token("family")
    answers = await both(client, "GET", "/v1/bookings/987654321", headers=headers)
    assert said(answers, 404) == [
        "There is no booking with id 987654321, or it is not yours to see.",
        "没有编号为 987654321 的预订，或您无权查看。",
    ]
    anonymous = await both(client, "GET", "/v1/bookings/1")
    assert said(anonymous, 401) == [
        "This needs you to sign in: send a bearer token.",
        "此操作需要登录：请提供 Bearer 令牌。",
    ]
    no_route = await both(client, "GET", "/v1/no-such-thing", headers=headers)
    assert said(no_route, 404) == ["There is nothing at this address.", "此地址不存在。"]


async def test_a_role_that_may_not(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    _, headers = await make_token("family")
    answers = await both(client, "POST", "/v1/bookings/1/check-in", headers=headers)
    english, chinese = said(answers, 403)
    assert english.startswith("A family account may not do this; it is for ")
    assert chinese.startswith("家庭账户无权执行此操作，仅限")


@asynccontextmanager
async def locked(database_url: str, booking: int) -> AsyncIterator[None]:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE", booking)
            yield
    finally:
        await conn.close()


async def test_busy(
    settings: Settings, clock: ManualClock, db: Any, database_url: str, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    today = builders.today()
    booking = await builders.booking(db, bed, today, today + timedelta(days=2))
    app = create_app(
        msgspec.structs.replace(settings, db_statement_timeout_ms=300),
        clock=clock,
        configure_logs=False,
    )
    async with serve_in_loop(app) as client, locked(database_url, booking):
        answers = await both(client, "POST", f"/v1/bookings/{booking}/check-in", headers=staff)
    assert said(answers, 503) == [
        "Another request is changing the same data; nothing was changed. Retry shortly.",
        "另一个请求正在修改相同的数据，未做任何更改。请稍后重试。",
    ]
    assert said(answers, 503, "title") == ["Busy: retry shortly", "系统繁忙，请稍后重试"]


async def test_a_step_not_allowed_says_why(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    check_in = builders.today() + timedelta(days=3)
    booking = await builders.booking(db, bed, check_in, check_in + timedelta(days=2))
    answers = await both(client, "POST", f"/v1/bookings/{booking}/check-in", headers=staff)
    on = (check_in, builders.today())
    assert said(answers, 409) == [
        f"The stay starts on {on[0]:%B} {on[0].day}, {on[0].year}; "
        f"today is {on[1]:%B} {on[1].day}, {on[1].year}.",
        f"入住从 {on[0].year}年{on[0].month}月{on[0].day}日 开始，"
        f"今天是 {on[1].year}年{on[1].month}月{on[1].day}日。",
    ]


async def test_a_date_says_its_form_and_an_enum_its_values(
    client: httpx.AsyncClient, ahead: dict[str, str]
) -> None:
    bad_date = await both(
        client, "GET", "/v1/availability", params={**ahead, "check_in": "2027-13-01"}
    )
    assert said(bad_date, 422, "errors") == [
        "check_in: expected a date written YYYY-MM-DD, for example 2027-03-01",
        "check_in: 应为 YYYY-MM-DD 格式的日期，例如 2027-03-01",
    ]
    bad_kind = await both(
        client, "GET", "/v1/availability", params={**ahead, "near": CENTRE, "kind": "hotel"}
    )
    assert said(bad_kind, 422, "errors") == [
        "kind: 'hotel' is not one of the allowed values: home or respite",
        "kind: 'hotel' 不是允许的值，允许的值为：home或respite",
    ]
    bad_need = await both(
        client, "GET", "/v1/availability", params={**ahead, "near": CENTRE, "needs": "dance"}
    )
    english, chinese = said(bad_need, 422, "errors")
    assert english.startswith("needs: 'dance' is not one of the allowed values: dementia, ")
    assert chinese.startswith("needs: 'dance' 不是允许的值，允许的值为：dementia、")


async def test_a_missing_body_and_an_unknown_field(
    client: httpx.AsyncClient, scene: dict[str, Any]
) -> None:
    missing = await both(client, "POST", "/v1/holds", headers=scene["headers"])
    assert said(missing, 400) == [
        "The request has no body; send the fields as JSON.",
        "请求没有正文，请以 JSON 格式发送各字段。",
    ]
    extra = await both(
        client, "POST", "/v1/holds", json={**scene["body"], "colour": 1}, headers=scene["headers"]
    )
    assert said(extra, 422, "errors") == [
        "colour: is not a field of this request; remove it",
        "colour: 不是此请求的字段，请删除",
    ]
    both_ways = await both(
        client,
        "POST",
        "/v1/holds",
        json={**scene["body"], "facility_id": scene["facility"], "kind": "respite"},
        headers=scene["headers"],
    )
    assert said(both_ways, 422, "errors") == [
        "bed_id: give either bed_id, or facility_id and kind, not both",
        "bed_id: 请只提供 bed_id，或只提供 facility_id 和 kind，不要同时提供",
    ]


async def test_an_unknown_or_repeated_query_parameter_is_named(
    client: httpx.AsyncClient, make_token: MakeToken, ahead: dict[str, str]
) -> None:
    unknown = await both(
        client, "GET", "/v1/availability", params={**ahead, "near": CENTRE, "care_recipient": 5}
    )
    assert said(unknown, 422, "errors") == [
        "care_recipient: is not a parameter of this request; remove it or check its spelling",
        "care_recipient: 不是此请求的参数，请删除或检查拼写",
    ]
    _, headers = await make_token("family")
    listing = await both(client, "GET", "/v1/bookings?stauts=confirmed", headers=headers)
    assert said(listing, 422, "errors")[0] == (
        "stauts: is not a parameter of this request; remove it or check its spelling"
    )
    twice = await both(
        client,
        "GET",
        f"/v1/availability?check_in={ahead['check_in']}&check_out={ahead['check_out']}"
        f"&near={CENTRE}&sort=price&sort=distance&facility_id=1&facility_id=2&extra=1",
    )
    assert said(twice, 422, "errors") == [
        "sort: is given more than once; give it once; "
        "extra: is not a parameter of this request; remove it or check its spelling",
        "sort: 重复出现，请只提供一次; extra: 不是此请求的参数，请删除或检查拼写",
    ]


async def test_the_search_for_a_woman_shows_no_mens_rooms(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, ahead: dict[str, str]
) -> None:
    facility = await builders.facility(db)
    mens = await builders.bed(db, facility, sex_rule="male")
    any_sex = await builders.bed(db, facility, sex_rule="any")
    family, headers = await make_token("family")
    woman = await builders.recipient(db, family_id=family.id, sex="female")
    params = {**ahead, "near": CENTRE}

    anonymous = await client.get("/v1/availability", params=params)
    shown = {b["bed_id"] for f in anonymous.json()["facilities"] for b in f["beds"]}
    assert {mens, any_sex} <= shown
    hers = await client.get(
        "/v1/availability", params={**params, "care_recipient_id": woman}, headers=headers
    )
    assert hers.status_code == 200, hers.text
    assert {b["bed_id"] for f in hers.json()["facilities"] for b in f["beds"]} == {any_sex}
    old_name = await client.get(
        "/v1/availability", params={**params, "care_recipient": woman}, headers=headers
    )
    assert old_name.status_code == 422
    assert [e["field"] for e in old_name.json()["errors"]] == ["care_recipient"]


async def test_the_search_summary_in_both_languages(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, ahead: dict[str, str]
) -> None:
    near = await builders.facility(db, lat=31.24, lon=121.47)
    await builders.bed(db, near, sex_rule="male")
    far = await builders.facility(db, lat=31.23 + 3.0 / 111.195, lon=121.47)
    await builders.bed(db, far)
    family, headers = await make_token("family")
    woman = await builders.recipient(db, family_id=family.id, sex="female")
    answers = await both(
        client,
        "GET",
        "/v1/availability",
        params={**ahead, "near": CENTRE, "care_recipient_id": woman},
        headers=headers,
    )
    assert [a.json()["summary"] for a in answers.values()] == [
        "The nearest facility with a matching free bed is 3.0 km away; "
        "the closer one has free beds only for residents of the other sex.",
        "有合适空闲床位的最近机构距离 3.0 公里；更近的 1 家机构只有供异性入住的空闲床位。",
    ]


async def test_a_price_change_reads_as_yuan(
    client: httpx.AsyncClient, db: Any, scene: dict[str, Any]
) -> None:
    hold = (await client.post("/v1/holds", json=scene["body"], headers=scene["headers"])).json()
    await db.execute("UPDATE beds SET nightly_price = 32050 WHERE id = $1", scene["bed"])
    answers = {
        lang: await client.post(
            f"/v1/holds/{hold['hold_id']}/confirm",
            json={"token": hold["token"]},
            headers={**scene["headers"], "Idempotency-Key": f"p-{lang}", "Accept-Language": lang},
        )
        for lang in LANGS
    }
    assert said(answers, 409) == [
        "The bed's nightly price changed from ¥200.00 to ¥320.50 since the hold; "
        "hold it again to see the new price.",
        "预留之后，该床位的每晚价格已从 200.00 元 调整为 320.50 元，请重新预留以查看新价格。",
    ]
    assert answers["en"].json()["current_nightly_price"] == 32050


BAD_INPUTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/availability", {"params": {"check_in": "2027-13-01", "check_out": "x"}}),
    ("GET", "/v1/availability", {"params": {"check_in": "2030-01-01"}}),
    ("GET", "/v1/availability", {"params": {"check_in": "1", "check_out": "2", "kind": "x"}}),
    (
        "GET",
        "/v1/availability",
        {
            "params": {
                "check_in": "2030-01-01",
                "check_out": "2030-01-03",
                "near": CENTRE,
                "limit": "many",
                "radius_km": "-1",
                "sex": "women",
                "pressure_stage": "9",
            }
        },
    ),
    (
        "GET",
        "/v1/availability",
        {
            "params": {
                "check_in": "2030-01-01",
                "check_out": "2030-01-03",
                "care_recipient_id": "abc",
                "cursor": "nope",
            }
        },
    ),
    ("POST", "/v1/holds", {}),
    (
        "POST",
        "/v1/holds",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    ("POST", "/v1/holds", {"json": []}),
    ("POST", "/v1/holds", {"json": {"bed_id": "2", "check_in": "2027-13-01"}}),
    (
        "POST",
        "/v1/holds",
        {
            "json": {
                "care_recipient_id": 1,
                "bed_id": 1,
                "check_in": "2030-01-02",
                "check_out": "2030-01-01",
            }
        },
    ),
    ("POST", "/v1/holds/x-1/confirm", {"json": {"token": 5}}),
    ("DELETE", "/v1/holds/x-1", {}),
    ("PUT", "/v1/holds", {"json": {}}),
    ("GET", "/v1/bookings", {"params": {"status": "open", "from": "yesterday", "limit": "0"}}),
    ("GET", "/v1/bookings/not-a-number", {}),
    ("POST", "/v1/bookings/1/cancel", {"json": {"reason": " "}}),
    ("POST", "/v1/auth/register", {"json": {"name": "", "password": "x", "phone": "12"}}),
    ("POST", "/v1/auth/register", {"json": {"name": "王", "password": "long enough pass"}}),
    ("POST", "/v1/auth/signin", {"json": {"login": 5}}),
    ("POST", "/v1/auth/signin", {"content": b"login=a", "headers": {"Content-Type": "text/plain"}}),
]


@pytest.mark.parametrize(("method", "url", "kw"), BAD_INPUTS)
async def test_no_answer_carries_framework_wording(
    client: httpx.AsyncClient, make_token: MakeToken, method: str, url: str, kw: dict[str, Any]
) -> None:
    _, headers = await make_token("family")
    sent_headers = {**headers, **kw.pop("headers", {})}
    answers = await both(client, method, url, headers=sent_headers, **kw)
    for lang, answer in answers.items():
        assert 400 <= answer.status_code < 500, answer.text
        text = answer.text
        for words in FRAMEWORK_WORDING:
            assert words not in text, (lang, words, text)
        if lang == "zh-CN":
            problem = answer.json()
            assert any("\u4e00" <= c <= "\u9fff" for c in problem["title"] + problem["detail"])
