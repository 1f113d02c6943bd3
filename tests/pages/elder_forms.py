"""What the tests of the elder pages share: an elder's form, an assessment's, and the checks of
a page's language."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.forms import post_form

__all__ = ["ELDER", "SCORES", "add_elder", "count", "english_words"]

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
