"""Recording an elder's assessment on the pages: the level and each adjustment in words, as the
API answers them; refusals that say why and change nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
import pytest

from respite.eligibility.assessment import AssessmentScores, assess
from respite.i18n import render
from respite.pages.assessments import explanation
from respite.recipients.model import AssessmentView
from tests.forms import post_form, register
from tests.pages.elder_forms import SCORES, add_elder, count, english_words


async def test_an_assessment_shows_the_level_and_why_as_the_api_answers(
    client: httpx.AsyncClient, db: Any
) -> None:
    await register(client)
    elder = await add_elder(client, home_place="")
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
