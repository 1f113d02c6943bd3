"""Every answer speaks the caller's language: Accept-Language decides, zh-CN when absent."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from litestar import Litestar

from respite.app import create_app
from respite.i18n import render, t
from respite.settings import Settings
from tests.conftest import MakeToken, serve_in_loop

ZH_TITLE = render(t("problem.unauthenticated.title"), "zh-CN")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


async def _without_language(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    request = client.build_request(method, url)
    del request.headers["accept-language"]
    return await client.send(request)


async def test_without_accept_language_the_deployment_default_zh_cn_answers(
    shared_client: httpx.AsyncClient,
) -> None:
    answer = await _without_language(shared_client, "GET", "/v1/facilities/1")
    assert answer.status_code == 401
    assert answer.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in answer.headers["vary"]
    problem = answer.json()
    assert problem["type"] == "/problems/unauthenticated"
    assert problem["title"] == ZH_TITLE and _is_chinese(ZH_TITLE)


@pytest.mark.parametrize(
    ("header", "lang", "title"),
    [
        ("en-US,en;q=0.9", "en", "Authentication required"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", ZH_TITLE),
        ("fr-FR,en;q=0.5", "en", "Authentication required"),
        ("ja-JP", "zh-CN", ZH_TITLE),
    ],
)
async def test_accept_language_chooses_the_words(
    shared_client: httpx.AsyncClient, header: str, lang: str, title: str
) -> None:
    answer = await shared_client.get("/v1/facilities/1", headers={"Accept-Language": header})
    assert answer.headers["content-language"] == lang
    assert answer.json()["title"] == title


async def test_field_errors_name_the_field_in_the_callers_language(
    shared_client: httpx.AsyncClient, shared_make_token: MakeToken
) -> None:
    _, headers = await shared_make_token("family")
    body = {"name": "王秀英", "sex": "women", "birth_date": "1941-13-02"}
    answers = {
        lang: await shared_client.post(
            "/v1/care-recipients", json=body, headers={**headers, "Accept-Language": lang}
        )
        for lang in ("en", "zh-CN")
    }
    assert {a.status_code for a in answers.values()} == {422}
    english, chinese = (answers[lang].json()["errors"][0] for lang in ("en", "zh-CN"))
    assert english["field"] == chinese["field"]
    assert english["message"] != chinese["message"]
    for message in (english["message"], chinese["message"]):
        assert "`" not in message and "Expected" not in message and "Invalid" not in message


@pytest.mark.parametrize(
    ("body", "lang", "detail"),
    [
        (b"{not json", "en", "The body is not valid JSON"),
        (b"{not json", "zh-CN", "请求正文不是有效的 JSON"),
    ],
)
async def test_a_body_that_is_not_json_says_so(
    shared_client: httpx.AsyncClient,
    shared_make_token: MakeToken,
    body: bytes,
    lang: str,
    detail: str,
) -> None:
    _, headers = await shared_make_token("family")
    answer = await shared_client.post(
        "/v1/care-recipients",
        content=body,
        headers={**headers, "Accept-Language": lang, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(detail)


async def test_an_english_deployment_answers_english_without_a_header(
    settings: Settings,
) -> None:
    app: Litestar = create_app(
        msgspec.structs.replace(settings, default_language="en"), configure_logs=False
    )
    async with serve_in_loop(app) as client:
        answer = await _without_language(client, "GET", "/v1/facilities/1")
    assert answer.headers["content-language"] == "en"
    assert answer.json()["title"] == "Authentication required"
