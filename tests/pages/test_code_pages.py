"""One-time codes on the pages without JavaScript, on a deployment that sends no email or SMS:
the form says so at the field, keeps the login and sends nothing; the second step opens on its
own for whoever has a code, and refuses a wrong one without echoing the code or password."""

from __future__ import annotations

from typing import Any

import httpx

from tests.forms import post_form, register


async def test_asking_for_a_code_where_none_can_be_sent_says_so_at_the_field(
    client: httpx.AsyncClient, db: Any
) -> None:
    await register(client, login="li@example.test")
    client.cookies.delete("respite_session")
    client.headers["Accept-Language"] = "zh-CN"
    by_email = await post_form(
        client, "/password/forgotten", "/password/forgotten", {"login": "li@example.test"}
    )
    assert by_email.status_code == 422
    assert 'href="#f-login"' in by_email.text and "不能通过电子邮件发送验证码" in by_email.text
    assert 'value="li@example.test"' in by_email.text
    by_phone = await post_form(client, "/signin/code", "/signin/code", {"login": "13912345678"})
    assert by_phone.status_code == 422 and "不能通过短信发送验证码" in by_phone.text
    assert await db.fetchval("SELECT count(*) FROM one_time_codes") == 0
    assert await db.fetchval("SELECT count(*) FROM notifications") == 0


async def test_a_wrong_code_is_refused_and_what_was_secret_is_not_shown_again(
    client: httpx.AsyncClient,
) -> None:
    await register(client, login="li@example.test")
    client.cookies.delete("respite_session")
    refused = await post_form(
        client,
        "/password/reset",
        "/password/reset",
        {"login": "li@example.test", "code": "424242", "password": "my new long password"},
    )
    assert refused.status_code == 401
    assert "That code is wrong, has expired" in refused.text
    assert "424242" not in refused.text and "my new long password" not in refused.text
    assert 'value="li@example.test"' in refused.text
    assert "respite_session" not in refused.headers.get("set-cookie", "")
    badly = await post_form(
        client, "/signin/code/enter", "/signin/code/enter", {"login": "li@example.test"}
    )
    assert badly.status_code == 422 and 'href="#f-code"' in badly.text


async def test_the_way_back_after_a_code_sign_in_stays_on_this_site(
    client: httpx.AsyncClient,
) -> None:
    asked = await client.get("/signin/code?next=//evil.example/")
    assert asked.status_code == 200 and 'name="next" value="//' not in asked.text
    assert 'href="/signin/code/enter"' in asked.text
    kept = await client.get("/signin/code?next=/stays")
    assert 'name="next" value="/stays"' in kept.text
    assert 'href="/signin/code/enter?next=/stays"' in kept.text
