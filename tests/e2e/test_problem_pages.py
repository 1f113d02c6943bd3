"""Every problem ``type`` an answer carries resolves to a page that documents it."""

from __future__ import annotations

from html import escape

import httpx
import pytest

from respite.i18n import LANGUAGES, Lang, render
from respite.problems import documented_kinds


@pytest.mark.parametrize("slug", sorted(documented_kinds()))
@pytest.mark.parametrize("lang", LANGUAGES)
async def test_each_problem_type_has_its_page(
    shared_client: httpx.AsyncClient, slug: str, lang: Lang
) -> None:
    kind = documented_kinds()[slug]
    page = await shared_client.get(f"/problems/{slug}", headers={"Accept-Language": lang})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == lang and f'<html lang="{lang}">' in page.text
    assert escape(render(kind.title, lang)) in page.text
    assert escape(render(kind.about, lang)) in page.text
    for member in kind.members:
        assert f"<code>{escape(member)}</code>" in page.text
        assert escape(render(kind.member(member), lang)) in page.text


async def test_the_type_of_a_real_answer_resolves(shared_client: httpx.AsyncClient) -> None:
    answer = await shared_client.get("/v1/facilities/1")  # no token: 401 unauthenticated
    problem_type = answer.json()["type"]
    page = await shared_client.get(problem_type)
    assert page.status_code == 200 and "Authentication required" in page.text


async def test_the_index_lists_every_type_and_an_unknown_one_is_404(
    shared_client: httpx.AsyncClient,
) -> None:
    index = await shared_client.get("/problems/")
    assert index.status_code == 200
    assert all(f'href="/problems/{slug}"' in index.text for slug in documented_kinds())
    missing = await shared_client.get("/problems/no-such-problem")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
