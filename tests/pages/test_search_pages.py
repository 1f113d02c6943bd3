"""The search page (issue #14): the form, its results with the reasons nearer places were not
offered and the shifted dates that would work, each matching the API's answer to the same
query; its refusals; the hold form, for a family's own elder only."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import msgspec
import pytest

from respite.clock import ManualClock
from respite.dev.city import gazetteer
from respite.holds.model import HoldRequest
from respite.i18n import Lang, formats
from respite.places.service import replace_places
from tests import builders, dates
from tests.dates import When
from tests.forms import csrf_token, register

LANGS: tuple[Lang, ...] = ("en", "zh-CN")
TIANPING = (31.2055, 121.4400)  # 徐汇区天平路街道
KM_LAT = 1 / 111.195  # degrees of latitude in a kilometre


@pytest.fixture
def when(clock: ManualClock) -> When:
    return dates.when(clock, ahead=20)


def stay(when: When, first: int = 0, nights: int = 3) -> dict[str, str]:
    check_in = when.d + timedelta(days=first)
    return {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
    }


@pytest.fixture
async def tianping(db: Any, when: When) -> dict[str, int]:
    """On 天平路: two facilities without oxygen 0.3 and 0.6 km north, one with oxygen 1.2 km
    north, and one 0.9 km north whose one oxygen bed is booked for the stay's first night."""
    await replace_places(db, gazetteer())
    lat, lon = TIANPING
    plain_1 = await builders.facility(db, lat=lat + 0.3 * KM_LAT, lon=lon, name="徐汇康乐之家")
    plain_2 = await builders.facility(db, lat=lat + 0.6 * KM_LAT, lon=lon, name="天平长者照护中心")
    busy = await builders.facility(db, lat=lat + 0.9 * KM_LAT, lon=lon, name="枫林颐养院")
    oxygen = await builders.facility(db, lat=lat + 1.2 * KM_LAT, lon=lon, name="衡山护理院")
    await builders.bed(db, plain_1, price=18000)
    await builders.bed(db, plain_2, price=19000)
    booked = await builders.bed(db, busy, capabilities=("oxygen",), price=21000)
    await builders.booking(db, booked, when.d, when.d + timedelta(days=1))
    await builders.bed(db, oxygen, capabilities=("oxygen",), price=22000)
    await builders.bed(db, oxygen, capabilities=("oxygen",), price=26000)
    return {"plain_1": plain_1, "plain_2": plain_2, "busy": busy, "oxygen": oxygen}


def words(page: str) -> str:
    """The page's words, without tags, as a reader sees them."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def section(page: str, name: str) -> str:
    """The words of one part of the results (``results``, ``shifted``, ``excluded``)."""
    found = re.search(rf'<section class="{name}".*?</section>', page, re.S)
    assert found is not None, f"no {name} section"
    return words(found[0])


def hold_forms(page: str) -> list[dict[str, str]]:
    """The hidden fields of each form posting to /holds."""
    forms = re.findall(r'<form method="post" action="/holds".*?</form>', page, re.S)
    return [
        {
            name: html.unescape(value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form)
            if name != "_csrf_token"
        }
        for form in forms
    ]


def links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page)]


async def test_the_form_in_both_languages(client: httpx.AsyncClient) -> None:
    english = await client.get("/search", params={"from": "wechat"})
    chinese = await client.get("/search", headers={"Accept-Language": "zh-CN"})
    for answer in (english, chinese):
        assert answer.status_code == 200
        assert '<form method="get" action="/search"' in answer.text
        for name in ("place", "check_in", "check_out", "kind", "sex", "needs", "pressure_stage"):
            assert f'name="{name}"' in answer.text
        assert answer.text.count('type="date"') == 2
        assert "results-title" not in answer.text and "There is a problem" not in answer.text
        assert "/signin?next=" in answer.text  # anyone may look; signing in lets them hold
    assert "Find a respite bed" in english.text and "Needs oxygen" in english.text
    assert "查找喘息床位" in chinese.text and "需要吸氧" in chinese.text
    assert "Find a respite bed" not in chinese.text


@pytest.mark.parametrize("lang", LANGS)
async def test_results_say_what_the_api_answers_for_the_same_query(
    client: httpx.AsyncClient, when: When, tianping: dict[str, int], lang: Lang
) -> None:
    query = {**stay(when), "place": "天平路街道", "needs": "oxygen"}
    headers = {"Accept-Language": lang}
    api = (await client.get("/v1/availability", params=query, headers=headers)).json()
    answer = await client.get("/search", params=query, headers=headers)

    assert answer.status_code == 200, answer.text
    assert f'<html lang="{lang}">' in answer.text
    found = section(answer.text, "results")
    assert [f["facility_id"] for f in api["facilities"]] == [tianping["oxygen"]]
    for facility in api["facilities"]:
        assert facility["name"] in found
        assert f'href="/facilities/{facility["facility_id"]}"' in answer.text
        assert formats.money(facility["beds"][0]["total_price"], lang) in found  # 660.00
        assert formats.distance(facility["distance_km"] * 1000, lang) in found
    assert api["summary"] in found  # why nearer places were not offered, in one sentence
    # Each facility the elder's needs ruled out, and why, as the API says it.
    excluded = section(answer.text, "excluded")
    assert [e["facility_id"] for e in api["excluded"]] == [tianping["plain_1"], tianping["plain_2"]]
    for facility in api["excluded"]:
        assert facility["name"] in excluded
        for reason in facility["reasons"]:
            assert reason["message"] in excluded
    # The same stay shifted: each a link that runs the search for those dates.
    [shifted] = api["alternatives"]
    assert shifted["facility_id"] == tianping["busy"]
    assert shifted["name"] in section(answer.text, "shifted")
    assert formats.day(when.d + timedelta(days=1), lang) in section(answer.text, "shifted")
    [again] = [href for href in links(answer.text) if shifted["check_in"] in href]
    assert dict(parse_qsl(urlsplit(again).query)) == {
        **query,
        "check_in": shifted["check_in"],
        "check_out": shifted["check_out"],
    }
    moved = await client.get(again, headers=headers)
    assert shifted["name"] in section(moved.text, "results")
    # No hold button for a visitor: one invitation to sign in first.
    assert "Hold a bed" not in answer.text and "预留床位" not in found.replace(
        "登录后预留床位", ""
    ).replace("如需为长者预留床位", "")
    assert answer.text.count('id="sign-in-to-hold"') == 1


async def test_results_say_what_was_asked_and_link_to_the_form_filled_in(
    client: httpx.AsyncClient, when: When, tianping: dict[str, int]
) -> None:
    query = {**stay(when), "place": "天平路街道", "needs": "oxygen", "radius_km": "3"}
    answer = await client.get("/search", params=query, headers={"Accept-Language": "zh-CN"})

    assert answer.status_code == 200, answer.text
    assert '<form method="get" action="/search"' not in answer.text  # the beds come first
    assert "查找条件：需要吸氧" in section(answer.text, "results")
    [change] = re.findall(r'id="change-search" href="([^"]+)"', answer.text)
    assert dict(parse_qsl(urlsplit(html.unescape(change)).query)) == {**query, "change": "1"}
    form = await client.get(html.unescape(change))
    assert form.status_code == 200
    assert '<form method="get" action="/search"' in form.text
    assert "results-title" not in form.text  # the form alone: nothing is searched
    assert 'value="天平路街道"' in form.text
    assert 'value="oxygen" checked' in form.text and '<option value="3" selected' in form.text


async def test_chinese_results_read_in_chinese(
    client: httpx.AsyncClient, when: When, tianping: dict[str, int]
) -> None:
    query = {**stay(when), "place": "Tianping Lu", "needs": "oxygen"}
    answer = await client.get("/search", params=query, headers={"Accept-Language": "zh-CN"})
    found = section(answer.text, "results")
    assert "1 家机构有空闲床位" in found and "天平路街道附近" in found
    assert "3 晚共 660.00 元起" in found and "每晚 220.00 元" in found and "2 张" in found
    assert "推后 1 天" in section(answer.text, "shifted")
    assert "该床位不具备供氧条件" in section(answer.text, "excluded")
    assert "登录后预留床位" in found
    english = await client.get("/search", params=query)
    assert "From ¥660.00 for 3 nights" in section(english.text, "results")
    assert "1 day later" in section(english.text, "shifted")


async def test_more_places_follow_the_cursor(
    client: httpx.AsyncClient, db: Any, when: When
) -> None:
    await replace_places(db, gazetteer())
    for i in range(22):
        facility = await builders.facility(
            db, lat=TIANPING[0] + 0.04 * (i + 1) * KM_LAT, lon=TIANPING[1], name=f"照护之家{i:02d}"
        )
        await builders.bed(db, facility)
    first = await client.get("/search", params={**stay(when), "place": "天平路街道"})
    assert "20 places with a free bed" in first.text and "照护之家19" in first.text
    [more] = [href for href in links(first.text) if "cursor=" in href]
    second = await client.get(more)
    assert second.status_code == 200, second.text
    found = section(second.text, "results")
    assert "2 more places with a free bed" in found
    assert "照护之家20" in found and "照护之家21" in found and "照护之家19" not in found
    assert "Back to the first places" in found


async def test_an_empty_answer_says_what_to_try(
    client: httpx.AsyncClient, db: Any, when: When
) -> None:
    await replace_places(db, gazetteer())
    answer = await client.get("/search", params={**stay(when), "place": "杨浦区"})
    assert answer.status_code == 200
    found = section(answer.text, "results")
    assert "No free bed fits this search" in found and "You could try:" in found
    assert "a shorter stay" in found


def summary_links(page: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary is not None, "no error summary"
    return re.findall(r'href="#f-([a-z_]+)"', summary[0])


@pytest.mark.parametrize(
    ("query", "status", "fields", "says"),
    [
        ({"check_in": ("d", 3), "check_out": ("d", 1)}, 422, ["check_out"], "must be after"),
        ({"check_in": ("d", 0), "check_out": ("d", 91)}, 422, ["check_out"], "at most 90"),
        ({}, 422, ["check_in", "check_out"], "required"),
        ({"check_in": "20-12-2026", "check_out": ("d", 2)}, 422, ["check_in"], "date"),
        (
            {"check_in": ("d", 0), "check_out": ("d", 2), "place": "Nowhere Lu"},
            422,
            ["place"],
            "Nowhere Lu",
        ),
        ({"check_in": ("d", 0), "check_out": ("d", 2), "place": ""}, 422, ["place"], "say where"),
        (
            {"check_in": ("d", 0), "check_out": ("d", 2), "needs": "flying"},
            422,
            ["needs"],
            "flying",
        ),
    ],
)
async def test_each_refusal_lists_its_fields_and_keeps_what_was_typed(
    client: httpx.AsyncClient,
    db: Any,
    when: When,
    query: dict[str, Any],
    status: int,
    fields: list[str],
    says: str,
) -> None:
    await replace_places(db, gazetteer())
    params = {"place": "徐汇区", **{k: dated(v, when) for k, v in query.items()}}
    answer = await client.get("/search", params=params)
    assert answer.status_code == status, answer.text
    assert summary_links(answer.text) == fields
    assert says in words(answer.text) and "<title>Error: " in answer.text
    for field in fields:
        assert f'id="f-{field}-error"' in answer.text or f'id="f-{field}"' in answer.text
    if params["place"]:
        assert f'value="{params["place"]}"' in answer.text
    api = await client.get("/v1/availability", params=params)
    assert api.status_code == status


def dated(value: Any, when: When) -> str:
    if isinstance(value, tuple):
        return (when.d + timedelta(days=value[1])).isoformat()
    return str(value)


async def test_a_refusal_in_chinese(client: httpx.AsyncClient, when: When) -> None:
    params = {"check_in": when.d.isoformat(), "check_out": when.d.isoformat(), "place": "徐汇区"}
    answer = await client.get("/search", params=params, headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 422
    assert "有问题需要处理" in answer.text and "退房日期：必须晚于入住日期" in answer.text
    assert "check_in" not in words(answer.text)  # a form's words, never the API's names


async def test_a_name_of_two_places_offers_both(
    client: httpx.AsyncClient, db: Any, when: When
) -> None:
    entries = gazetteer()
    street = next(e for e in entries if e.name == "天平路街道")
    other = msgspec.structs.replace(street, id=310113999, parent=310113, lat=31.40, lon=121.42)
    await replace_places(db, [*entries, other])
    answer = await client.get("/search", params={**stay(when), "place": "天平路街道"})
    assert answer.status_code == 422 and summary_links(answer.text) == ["place"]
    choices = [href for href in links(answer.text) if "place=3101" in href]
    assert sorted(dict(parse_qsl(urlsplit(href).query))["place"] for href in choices) == [
        str(street.id),
        "310113999",
    ]
    assert "Tianping Lu Subdistrict, 徐汇区" in words(answer.text)
    assert "Tianping Lu Subdistrict, 宝山区" in words(answer.text)


async def family_of(client: httpx.AsyncClient, db: Any, login: str) -> tuple[int, str]:
    """A family signed up on the pages: its principal id and its session's token."""
    await register(client, login=login)
    family = await db.fetchval("SELECT id FROM principals WHERE email = $1", login)
    return int(family), client.cookies["respite_session"]


async def test_a_family_holds_a_bed_for_its_own_elder_only(
    client: httpx.AsyncClient, db: Any, when: When, tianping: dict[str, int]
) -> None:
    family, token = await family_of(client, db, "wang@example.test")
    elder = await builders.recipient(db, family_id=family, needs=("oxygen",), home=TIANPING)
    theirs = await builders.recipient(db, needs=("oxygen",), home=TIANPING)
    query = {**stay(when), "care_recipient_id": str(elder), "near_home": "true"}

    answer = await client.get("/search", params={**query, "place": "typed, then home chosen"})

    assert answer.status_code == 200, answer.text
    assert "王秀英" in answer.text
    changed = await client.get("/search", params={**query, "change": "1"})
    assert f'value="{elder}" checked' in changed.text and "results-title" not in changed.text
    api = await client.get(
        "/v1/availability", params=query, headers={"Authorization": f"Bearer {token}"}
    )
    assert [f["name"] for f in api.json()["facilities"]] == ["衡山护理院"]
    assert "Places nearby that cannot take 王秀英" in answer.text
    assert "Near 王秀英's home" in html.unescape(answer.text)
    # One form per facility and per shifted stay, each a HoldRequest the holds page decodes.
    forms = hold_forms(answer.text)
    for form in forms:
        assert dict(parse_qsl(urlsplit(form.pop("back")).query))["care_recipient_id"] == str(elder)
        assert form.pop("idempotency_key")
    assert forms == [
        {
            "facility_id": str(tianping["oxygen"]),
            "kind": "respite",
            **stay(when),
            "care_recipient_id": str(elder),
        },
        {
            "facility_id": str(tianping["busy"]),
            "kind": "respite",
            **stay(when, 1),
            "care_recipient_id": str(elder),
        },
    ]
    for form in forms:
        msgspec.convert(form, HoldRequest, strict=False)
    # The holds page takes the form as it is: a hold, and its page.
    held = await client.post(
        "/holds", data={"_csrf_token": csrf_token(answer.text), **forms[0], "back": "/search"}
    )
    assert held.status_code == 303 and held.headers["location"].startswith("/holds/"), held.text

    someone_else = await client.get("/search", params={**stay(when), "place": "天平路街道"})
    assert hold_forms(someone_else.text) == []
    # The bed held is said on its facility's card, as the API counts it.
    api_held = await client.get("/v1/availability", params={**stay(when), "place": "天平路街道"})
    [card] = [f for f in api_held.json()["facilities"] if f["facility_id"] == tianping["oxygen"]]
    assert card["held_beds"] == 1
    assert "1 more held by others right now" in section(someone_else.text, "results")
    assert "choose the elder it is for" in someone_else.text
    other = await client.get("/search", params={**query, "care_recipient_id": str(theirs)})
    assert other.status_code == 404 and summary_links(other.text) == ["care_recipient_id"]
    assert hold_forms(other.text) == []
    api_other = await client.get(
        "/v1/availability",
        params={**query, "care_recipient_id": str(theirs)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api_other.status_code == 404


async def test_a_stranger_signs_in_to_hold_and_comes_back(
    client: httpx.AsyncClient, when: When, tianping: dict[str, int]
) -> None:
    query = {**stay(when), "place": "天平路街道"}
    answer = await client.get("/search", params=query)
    assert hold_forms(answer.text) == []
    [sign_in, *_] = [href for href in links(answer.text) if href.startswith("/signin?next=/search")]
    back = dict(parse_qsl(urlsplit(sign_in).query))["next"]
    assert dict(parse_qsl(urlsplit(back).query)) == query
    for_elder = await client.get("/search", params={**query, "care_recipient_id": "1"})
    assert for_elder.status_code == 303 and for_elder.headers["location"].startswith("/signin")
