"""A family's elders on the pages: list, add, change, record an assessment and read the level
with each adjustment in words; refusals that change nothing; another family's elder is a 404."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
import pytest

from respite.dev.city import gazetteer
from respite.eligibility.assessment import AssessmentScores, assess
from respite.i18n import render
from respite.pages.assessments import explanation
from respite.places.service import replace_places
from respite.recipients.model import AssessmentView
from tests.forms import csrf_token, post_form, register

ELDER = {
    "name": "王秀英",
    "sex": "female",
    "birth_date": "1941-04-03",
    "home_address": "上海市徐汇区天平路 12 号",
    "home_place": "天平路街道",
    "living_situation": "alone",
    "needs": ["dementia", "fall_risk"],
    "pressure_injury_stage": "0",
    "emergency_contact_name": "李明",
    "emergency_contact_phone": "138 0013 8000",
}
SCORES = {
    "self_care": "20",
    "mobility": "10",
    "mental": "12",
    "perception_social": "8",
    "assessed_on": "2026-11-20",
    "assessor": "张医生",
    "organisation": "徐汇区老年人能力评估中心",
}
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)
_LABELS = re.compile(r'aria-label="([^"]*)"')
_WORDS = re.compile(r"[A-Za-z]{2,}")


def english_words(html: str) -> set[str]:
    """The Latin words a reader sees (or hears as a label) on a page, but for the language
    switch and the standard's code (GB/T 42195-2022)."""
    seen = " ".join([_TAGS.sub(" ", html), *_LABELS.findall(html)])
    return set(_WORDS.findall(seen)) - {"English", "GB"}


async def count(db: Any, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


async def add_elder(client: httpx.AsyncClient, **changes: Any) -> int:
    answer = await post_form(client, "/elders/new", "/elders/new", {**ELDER, **changes})
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/elders/(\d+)", answer.headers["location"])
    assert found is not None
    return int(found[1])


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


async def test_an_assessment_shows_the_level_and_why_as_the_api_answers(
    client: httpx.AsyncClient, db: Any, places: None
) -> None:
    await register(client)
    elder = await add_elder(client)
    # 50 of 90 is level 2; a dementia raises it to 3; 3 risk events would raise it again, but
    # the CN respite policy allows one raise.
    answer = await post_form(
        client,
        f"/elders/{elder}/assessment",
        f"/elders/{elder}/assessment",
        {**SCORES, "dementia_or_mental_disorder": "true", "risk_events_30d": "3"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/elders/{elder}#level"
    shown = await client.get(f"/elders/{elder}")
    signed = await client.post(
        "/v1/auth/signin", json={"login": "li@example.test", "password": "a long enough secret"}
    )
    api = await client.get(
        f"/v1/care-recipients/{elder}/assessments",
        headers={"Authorization": f"Bearer {signed.json()['token']}"},
    )
    (assessment,) = msgspec.json.decode(api.content, type=list[AssessmentView])
    assert (assessment.base_level, assessment.level) == (2, 3)
    assert [a.outcome for a in assessment.adjustments] == ["applied", "not_stacked"]
    assert "Level 3: severely impaired" in shown.text
    for reason in explanation(assessment):
        assert render(reason, "en") in shown.text
    assert (
        "A diagnosed dementia or other mental disorder raises the level by one, from 2 to 3."
        in shown.text
    )
    assert "the policy allows one raise only: it stays at 3." in shown.text
    client.headers["Accept-Language"] = "zh-CN"
    chinese = await client.get(f"/elders/{elder}")
    assert "能力等级 3 级：重度受损" in chinese.text
    assert "由 2 级升为 3 级" in chinese.text
    listing = await client.get("/elders")
    assert "3 级：重度受损" in listing.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"self_care": ""}, "self_care"),
        ({"self_care": "33"}, "self_care"),
        ({"perception_social": "-1"}, "perception_social"),
        ({"mental": "many"}, "mental"),
        ({"assessed_on": "2026-02-30"}, "assessed_on"),
        ({"assessed_on": "2999-01-01"}, "assessed_on"),
        ({"assessed_on": "1930-01-01"}, "assessed_on"),  # before the birth date
        ({"assessor": "张" * 101}, "assessor"),
        ({"valid_until": "2026-11-01"}, "valid_until"),
        ({"risk_events_30d": "1000"}, "risk_events_30d"),
    ],
)
async def test_a_refused_assessment_says_why_and_changes_nothing(
    client: httpx.AsyncClient, db: Any, changes: dict[str, str], field: str
) -> None:
    await register(client)
    elder = await add_elder(client, home_place="")
    answer = await post_form(
        client, f"/elders/{elder}/assessment", f"/elders/{elder}/assessment", {**SCORES, **changes}
    )
    assert answer.status_code == 422
    assert f'href="#f-{field}"' in answer.text
    assert f'value="{changes.get("assessor", "张医生")}"' in answer.text  # what was typed is kept
    assert await count(db, "assessments") == 0


async def test_a_refused_assessment_in_chinese(client: httpx.AsyncClient, db: Any) -> None:
    await register(client)
    client.headers["Accept-Language"] = "zh-CN"
    elder = await add_elder(client, home_place="")
    answer = await post_form(
        client,
        f"/elders/{elder}/assessment",
        f"/elders/{elder}/assessment",
        {**SCORES, "self_care": "40", "mobility": ""},
    )
    assert answer.status_code == 422
    assert "有问题需要处理" in answer.text and "自理能力：不能大于 32" in answer.text
    assert "基础运动能力：必须填写" in answer.text
    assert english_words(answer.text) == set()
    # Rules across fields are checked once each field is right on its own.
    answer = await post_form(
        client,
        f"/elders/{elder}/assessment",
        f"/elders/{elder}/assessment",
        {**SCORES, "valid_until": "2026-01-01"},
    )
    assert answer.status_code == 422 and "有效期至（选填）：不能早于评估日期" in answer.text
    assert english_words(answer.text) == set()


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


@pytest.mark.parametrize("stack", [False, True])
@pytest.mark.parametrize("total", [90, 70, 50, 35, 10])
def test_every_way_to_a_level_is_said_in_both_languages(stack: bool, total: int) -> None:
    for coma, dementia, events in itertools.product([False, True], [False, True], [0, 1, 2, 5]):
        scores = AssessmentScores(
            total=total, coma=coma, dementia_or_mental_disorder=dementia, risk_events_30d=events
        )
        result = assess(scores, stack_raises=stack)
        view = AssessmentView(
            id=1,
            care_recipient_id=1,
            scheme="GB/T 42195-2022",
            self_care=None,
            mobility=None,
            mental=None,
            perception_social=None,
            total=total,
            coma=coma,
            dementia_or_mental_disorder=dementia,
            risk_events_30d=events,
            extension_approved=False,
            base_level=result.base_level,
            level=result.level,
            adjustments=result.adjustments,
            assessor="-",
            organisation="-",
            assessed_on=date(2026, 11, 20),
            valid_until=date(2027, 11, 19),
            policy=None,
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        reasons = explanation(view)
        assert len(reasons) == 2 + max(1, len(result.adjustments))
        for lang in ("en", "zh-CN"):
            said = [render(reason, lang) for reason in reasons]
            assert str(result.level) in said[-1]


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
