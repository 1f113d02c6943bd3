"""A family's account on the pages: sign up, sign in, sign out here and everywhere; the frame
(language switch, large print) and what a refused form changes (nothing)."""

from __future__ import annotations

import httpx
import pytest

from tests.forms import csrf_token, post_form, register


async def test_the_first_page_speaks_the_browsers_language(client: httpx.AsyncClient) -> None:
    chinese = await client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text and "家门口的喘息床位" in chinese.text
    assert "Respite beds near home" not in chinese.text
    english = await client.get("/")
    assert '<html lang="en">' in english.text and "Respite beds near home" in english.text
    assert english.headers["cache-control"] == "no-store"


async def test_signing_up_keeps_a_session_in_a_safe_cookie(
    client: httpx.AsyncClient, db: object
) -> None:
    answer = await register(client, name="Wang Fang", login="wang@example.test")
    assert answer.headers["location"] == "/elders"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "respite_session=" in c)
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    account = await client.get("/account")
    assert account.status_code == 200 and "Wang Fang" in account.text


async def test_a_refused_sign_up_says_why_and_keeps_what_was_typed(
    client: httpx.AsyncClient, db: object
) -> None:
    answer = await post_form(
        client, "/register", "/register", {"name": "Wang Fang", "login": "12", "password": "pw-x1"}
    )
    assert answer.status_code == 422
    assert "There is a problem" in answer.text and 'href="#f-login"' in answer.text
    assert 'href="#f-password"' in answer.text  # every wrong field at once
    assert 'value="Wang Fang"' in answer.text and "pw-x1" not in answer.text
    assert answer.text.startswith("<!doctype html>") and "<title>Error: " in answer.text


async def test_sign_in_with_a_wrong_password_is_refused_in_chinese(
    client: httpx.AsyncClient,
) -> None:
    await register(client, login="13800138000")
    client.cookies.delete("respite_session")
    client.headers["Accept-Language"] = "zh-CN"
    answer = await post_form(
        client, "/signin", "/signin", {"login": "138 0013 8000", "password": "not the password"}
    )
    assert answer.status_code == 401
    assert "登录名或密码错误。" in answer.text and 'value="138 0013 8000"' in answer.text
    good = await post_form(
        client,
        "/signin",
        "/signin",
        {"login": "+86 138 0013 8000", "password": "a long enough secret", "next": "/account"},
    )
    assert good.status_code == 303 and good.headers["location"] == "/account"


@pytest.mark.parametrize("elsewhere", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_after_sign_in_a_family_stays_on_this_site(
    client: httpx.AsyncClient, elsewhere: str
) -> None:
    await register(client)
    client.cookies.delete("respite_session")
    answer = await post_form(
        client,
        "/signin",
        "/signin",
        {"login": "li@example.test", "password": "a long enough secret", "next": elsewhere},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


async def test_a_form_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, db: object
) -> None:
    import asyncpg

    assert isinstance(db, asyncpg.Connection)
    before = await db.fetchval("SELECT count(*) FROM principals")
    opened = await client.get("/register")
    forged = await client.post(
        "/register",
        data={"name": "Eve", "login": "eve@example.test", "password": "a long enough secret"},
    )
    assert forged.status_code == 403 and "The form could not be sent" in forged.text
    token = csrf_token(opened.text)
    # Another last character, always: "…00" was the token itself once in 256 runs.
    altered = token[:-1] + ("1" if token.endswith("0") else "0")
    wrong = await client.post(
        "/register",
        data={
            "_csrf_token": altered,
            "name": "Eve",
            "login": "eve@example.test",
            "password": "a long enough secret",
        },
    )
    assert wrong.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM principals") == before


async def test_sign_out_ends_the_session(client: httpx.AsyncClient) -> None:
    await register(client)
    answer = await post_form(client, "/account", "/signout", {})
    assert answer.status_code == 303
    again = await client.get("/account")
    assert again.status_code == 303 and again.headers["location"] == "/signin?next=/account"


async def test_sign_out_everywhere_ends_every_session_and_token(
    client: httpx.AsyncClient, app: object
) -> None:
    await register(client)
    # A second browser and an API client of the same account.
    api = await client.post(
        "/v1/auth/signin", json={"login": "li@example.test", "password": "a long enough secret"}
    )
    token = api.json()["token"]
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        await post_form(
            other,
            "/signin",
            "/signin",
            {"login": "li@example.test", "password": "a long enough secret"},
        )
        assert (await other.get("/account")).status_code == 200
        await post_form(client, "/account", "/signout/everywhere", {})
        assert (await other.get("/account")).status_code == 303
    me = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


async def test_the_api_never_takes_the_session_cookie(client: httpx.AsyncClient) -> None:
    await register(client)
    me = await client.get("/v1/auth/me")
    assert me.status_code == 401


async def test_the_language_switch_is_remembered(client: httpx.AsyncClient) -> None:
    answer = await post_form(client, "/", "/language", {"to": "zh-CN", "next": "/signin"})
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    page = await client.get("/signin")  # the client still sends Accept-Language: en
    assert '<html lang="zh-CN">' in page.text and "忘记密码？" in page.text
    api = await client.get("/v1/nope")
    assert api.headers["content-language"] == "en"


async def test_large_print_is_a_switch(client: httpx.AsyncClient) -> None:
    await post_form(client, "/", "/display", {"display": "large", "next": "/"})
    page = await client.get("/")
    assert '<html lang="en" class="large">' in page.text and "Standard print" in page.text


async def test_an_unknown_page_is_a_page_and_an_unknown_api_path_a_problem(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-such-page", headers={"Accept": "text/html,*/*"})
    assert page.status_code == 404 and "Page not found" in page.text
    assert page.headers["content-type"].startswith("text/html")
    api = await client.get("/v1/no-such-thing", headers={"Accept": "text/html,*/*"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


async def test_the_style_sheet_is_served_by_the_app(client: httpx.AsyncClient) -> None:
    sheet = await client.get("/static/respite.css")
    assert sheet.status_code == 200 and "font-size: 112.5%" in sheet.text
