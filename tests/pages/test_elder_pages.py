"""A family's elders on the pages: list, add, change; refusals that change nothing; another
family's elder is a 404, for a look and for a form."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from respite.dev.city import gazetteer
from respite.places.service import replace_places
from tests.forms import csrf_token, post_form, register
from tests.pages.elder_forms import ELDER, SCORES, add_elder, count, english_words


@pytest.fixture
async def places(db: Any) -> None:
    await replace_places(db, gazetteer())


async def test_a_stranger_is_asked_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/elders/new")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=/elders/new"


@pytest.mark.parametrize(
    ("lang", "empty"), [("en", "You have not added an elder yet."), ("zh-CN", "您还没有添加长者。")]
)
async def test_no_elder_yet_says_what_to_do(
    client: httpx.AsyncClient, lang: str, empty: str
) -> None:
    await register(client)
    client.headers["Accept-Language"] = lang
    answer = await client.get("/elders")
    assert answer.status_code == 200 and empty in answer.text
    assert 'href="/elders/new"' in answer.text


async def test_adding_an_elder_finds_the_home_by_name(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    await register(client)
    elder = await add_elder(client)
    row = await db.fetchrow(
        "SELECT home_lat, home_lon, needs, emergency_contact_phone_last4, family_id"
        " FROM care_recipients WHERE id = $1",
        elder,
    )
    street = next(p for p in gazetteer() if p.name == "天平路街道")
    assert (row["home_lat"], row["home_lon"]) == (street.lat, street.lon)
    assert sorted(row["needs"]) == ["dementia", "fall_risk"]
    assert row["emergency_contact_phone_last4"] == "8000"
    detail = await client.get(f"/elders/{elder}")
    assert detail.status_code == 200
    for said in ("王秀英", "Tianping Lu Subdistrict", "Lives alone", "ending in 8000"):
        assert said in detail.text
    assert "<li>Dementia</li><li>At risk of falling</li>" in detail.text
    listing = await client.get("/elders")
    assert "王秀英" in listing.text and "Not assessed yet" in listing.text


async def test_every_page_in_chinese_has_no_english(
    client: httpx.AsyncClient, places: None
) -> None:
    await register(client)
    client.headers["Accept-Language"] = "zh-CN"
    elder = await add_elder(client)
    recorded = await post_form(
        client,
        f"/elders/{elder}/assessment",
        f"/elders/{elder}/assessment",
        {**SCORES, "dementia_or_mental_disorder": "true", "risk_events_30d": "3"},
    )
    assert recorded.status_code == 303
    refused = await post_form(client, "/elders/new", "/elders/new", {"name": "x" * 101})
    for path in ("/elders", "/elders/new", f"/elders/{elder}", f"/elders/{elder}/edit"):
        answer = await client.get(path)
        assert answer.status_code == 200 and '<html lang="zh-CN">' in answer.text
        assert english_words(answer.text) == set(), path
    assessment = await client.get(f"/elders/{elder}/assessment")
    assert english_words(assessment.text) == set()
    assert english_words(refused.text) == set()
    assert "自理能力" in assessment.text and "0 至 32 分" in assessment.text


async def test_every_page_in_english_speaks_english(
    client: httpx.AsyncClient, places: None
) -> None:
    await register(client)
    elder = await add_elder(client)
    for path, words in (
        ("/elders", "Add an elder"),
        ("/elders/new", "Date of birth"),
        (f"/elders/{elder}", "No assessment yet"),
        (f"/elders/{elder}/edit", "Save the changes"),
        (f"/elders/{elder}/assessment", "Perception and social participation"),
    ):
        answer = await client.get(path)
        assert answer.status_code == 200 and words in answer.text, path
        assert '<html lang="en">' in answer.text


async def test_a_refused_elder_lists_every_problem_and_changes_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    await register(client)
    before = await count(db, "care_recipients")
    answer = await post_form(
        client,
        "/elders/new",
        "/elders/new",
        {
            "name": "x" * 101,
            "birth_date": "1941-13-45",
            "home_address": "天平路 12 号",
            "home_place": "天" * 101,
        },
    )
    assert answer.status_code == 422
    assert "There is a problem" in answer.text and "<title>Error: " in answer.text
    summary = answer.text.split('class="error-summary"')[1].split("</div>")[0]
    links = re.findall(r'href="#f-(\w+)"', summary)
    assert links == ["name", "sex", "birth_date", "home_place"]  # in the form's order
    assert "must be at most 100 characters long" in summary
    assert 'value="天平路 12 号"' in answer.text and 'value="1941-13-45"' in answer.text
    future = await post_form(
        client,
        "/elders/new",
        "/elders/new",
        {**ELDER, "home_place": "", "birth_date": "2999-01-01"},
    )
    assert future.status_code == 422 and 'href="#f-birth_date"' in future.text
    assert 'value="王秀英"' in future.text and 'value="dementia" checked' in future.text
    assert await count(db, "care_recipients") == before


async def test_a_home_that_is_not_one_place_offers_the_places_it_may_be(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    await register(client)
    before = await count(db, "care_recipients")
    answer = await post_form(client, "/elders/new", "/elders/new", {**ELDER, "home_place": "天平"})
    assert answer.status_code == 422 and 'href="#f-home_place"' in answer.text
    choices = re.findall(r'name="home_place_choice" value="(\d+)"', answer.text)
    assert choices, answer.text
    assert await count(db, "care_recipients") == before
    street = next(p for p in gazetteer() if p.name == "天平路街道")
    assert str(street.id) in choices
    chosen = await client.post(
        "/elders/new",
        data={
            "_csrf_token": csrf_token(answer.text),
            **ELDER,
            "home_place": "天平",
            "home_place_choice": str(street.id),
        },
    )
    assert chosen.status_code == 303
    assert await count(db, "care_recipients") == before + 1


async def test_changing_an_elder_keeps_what_is_not_shown(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    await register(client)
    elder = await add_elder(client, national_id="310104194104031234")
    edit = await client.get(f"/elders/{elder}/edit")
    assert 'value="天平路街道"' not in edit.text  # English page: the place's English name
    assert 'value="Tianping Lu Subdistrict"' in edit.text and "ending in 1234" in edit.text
    form = {
        **ELDER,
        "name": "王秀英 (Wang Xiuying)",
        "home_address": "",
        "home_place": "Tianping Lu Subdistrict",
        "home_place_was": "Tianping Lu Subdistrict",
        "needs": ["wheelchair"],
        "emergency_contact_phone": "",
    }
    changed = await post_form(client, f"/elders/{elder}/edit", f"/elders/{elder}/edit", form)
    assert changed.status_code == 303 and changed.headers["location"] == f"/elders/{elder}"
    row = await db.fetchrow(
        "SELECT name, home_address, needs, emergency_contact_phone_last4, national_id_last4,"
        " home_lat FROM care_recipients WHERE id = $1",
        elder,
    )
    assert row["name"] == "王秀英 (Wang Xiuying)" and row["home_address"] == ""
    assert row["needs"] == ["wheelchair"] and row["emergency_contact_phone_last4"] == "8000"
    assert row["national_id_last4"] == "1234" and row["home_lat"] is not None
    cleared = await post_form(
        client, f"/elders/{elder}/edit", f"/elders/{elder}/edit", {**form, "home_place": ""}
    )
    assert cleared.status_code == 303
    assert await db.fetchval("SELECT home_lat FROM care_recipients WHERE id = $1", elder) is None
    forgotten = await post_form(
        client,
        f"/elders/{elder}/edit",
        f"/elders/{elder}/edit",
        {**form, "home_place": "", "forget_emergency_contact_phone": "true"},
    )
    assert forgotten.status_code == 303
    row = await db.fetchrow(
        "SELECT emergency_contact_phone_last4, emergency_contact_phone_enc, national_id_last4"
        " FROM care_recipients WHERE id = $1",
        elder,
    )
    assert row["emergency_contact_phone_last4"] is None
    assert row["emergency_contact_phone_enc"] is None and row["national_id_last4"] == "1234"


async def test_a_refused_change_changes_nothing(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    await register(client)
    elder = await add_elder(client)
    before = await db.fetchrow("SELECT * FROM care_recipients WHERE id = $1", elder)
    answer = await post_form(
        client,
        f"/elders/{elder}/edit",
        f"/elders/{elder}/edit",
        {**ELDER, "name": "", "birth_date": "04/03/1941", "emergency_contact_name": "李" * 101},
    )
    assert answer.status_code == 422
    for name in ("name", "birth_date", "emergency_contact_name"):
        assert f'href="#f-{name}"' in answer.text
    assert await db.fetchrow("SELECT * FROM care_recipients WHERE id = $1", elder) == before


async def test_another_familys_elder_is_not_found_and_stays_as_it_is(
    client: httpx.AsyncClient, db: Any, app: Any
) -> None:
    await register(client)
    elder = await add_elder(client, home_place="")
    before = await db.fetchrow("SELECT * FROM care_recipients WHERE id = $1", elder)
    other = httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    )
    async with other:
        await register(other, name="Eve", login="eve@example.test")
        for missing in (elder, elder + 1000):
            for path in (f"/elders/{missing}", f"/elders/{missing}/edit"):
                answer = await other.get(path)
                assert answer.status_code == 404 and "Not found" in answer.text, path
                assert "王秀英" not in answer.text
            answer = await other.get(f"/elders/{missing}/assessment")
            assert answer.status_code == 404
            token = csrf_token((await other.get("/elders/new")).text)
            edit = await other.post(
                f"/elders/{missing}/edit", data={"_csrf_token": token, **ELDER, "name": "Eve's"}
            )
            assert edit.status_code == 404
            assess = await other.post(
                f"/elders/{missing}/assessment", data={"_csrf_token": token, **SCORES}
            )
            assert assess.status_code == 404
        assert "王秀英" not in (await other.get("/elders")).text
    assert await db.fetchrow("SELECT * FROM care_recipients WHERE id = $1", elder) == before
    assert await count(db, "assessments") == 0


async def test_a_form_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    await register(client)
    before = await count(db, "care_recipients")
    forged = await client.post("/elders/new", data={**ELDER, "home_place": ""})
    assert forged.status_code == 403 and "The form could not be sent" in forged.text
    assert await count(db, "care_recipients") == before


async def test_an_elder_the_api_registered_reads_well_on_the_pages(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    """An elder whose home is outside every place, with an assessment of a total only."""
    await register(client)
    signed = await client.post(
        "/v1/auth/signin", json={"login": "li@example.test", "password": "a long enough secret"}
    )
    bearer = {"Authorization": f"Bearer {signed.json()['token']}"}
    made = await client.post(
        "/v1/care-recipients",
        headers=bearer,
        json={
            "name": "Zhao Lan",
            "sex": "male",
            "birth_date": "1936-02-01",
            "home_lat": 40.0,
            "home_lon": 116.4,
        },
    )
    elder = made.json()["id"]
    assessed = await client.post(
        f"/v1/care-recipients/{elder}/assessments",
        headers=bearer,
        json={
            "total": 20,
            "assessor": "Dr Wu",
            "organisation": "Clinic",
            "assessed_on": "2026-11-01",
        },
    )
    assert assessed.status_code == 201, assessed.text
    page = await client.get(f"/elders/{elder}")
    assert page.status_code == 200 and "a location is on file" in page.text
    assert "Level 4: ability completely lost" in page.text and "Scores" not in page.text
    edit = await client.get(f"/elders/{elder}/edit")
    kept = await client.post(
        f"/elders/{elder}/edit",
        data={
            "_csrf_token": csrf_token(edit.text),
            "name": "Zhao Lan",
            "sex": "male",
            "birth_date": "1936-02-01",
            "living_situation": "with_family",
            "pressure_injury_stage": "0",
        },
    )
    assert kept.status_code == 303  # the location on file, unnamed, stays as it was
    row = await db.fetchrow("SELECT home_lat, home_lon FROM care_recipients WHERE id = $1", elder)
    assert (row["home_lat"], row["home_lon"]) == (40.0, 116.4)


async def test_one_id_card_number_is_one_elder(client: httpx.AsyncClient, db: Any) -> None:
    await register(client)
    await add_elder(client, home_place="", national_id="310104194104031234")
    again = await post_form(
        client,
        "/elders/new",
        "/elders/new",
        {**ELDER, "home_place": "", "national_id": "310104 19410403 1234"},
    )
    assert again.status_code == 409 and 'href="#f-national_id"' in again.text
    assert "you have already added an elder with this ID card number" in again.text
    assert await count(db, "care_recipients") == 1


async def test_a_page_of_elders_that_does_not_exist_is_not_an_error_of_ours(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    answer = await client.get("/elders?cursor=not-a-cursor")
    assert 400 <= answer.status_code < 500


async def test_coordinates_posted_with_the_form_are_not_taken(
    client: httpx.AsyncClient, db: Any
) -> None:
    """The home's location comes from a place of the gazetteer, never from the form itself."""
    await register(client)
    elder = await add_elder(client, home_place="", home_lat="31.2", home_lon="121.4")
    row = await db.fetchrow("SELECT home_lat, home_lon FROM care_recipients WHERE id = $1", elder)
    assert (row["home_lat"], row["home_lon"]) == (None, None)
