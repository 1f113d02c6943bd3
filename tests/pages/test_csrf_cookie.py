"""The CSRF cookie a first visit gets (``pages.csrf``): the header Litestar's own middleware
writes, a token the page's forms carry, and one cookie only, on the first page."""

from __future__ import annotations

import httpx
import pytest
from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import HTTPResponseStartEvent

from respite.pages import CSRF_COOKIE
from respite.pages.csrf import PageCSRFMiddleware
from tests.forms import csrf_token


def start() -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]}


@pytest.mark.parametrize("secure", [False, True])
def test_the_cookie_is_the_one_litestar_writes(secure: bool) -> None:
    secret = "s" * 64
    config = CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    token = generate_csrf_token(secret)
    theirs, ours = start(), start()
    CSRFMiddleware(app=None, config=config)._set_cookie_if_needed(theirs, token)  # type: ignore[arg-type]
    PageCSRFMiddleware(app=None, config=config)._set_cookie_if_needed(ours, token)  # type: ignore[arg-type]
    assert ours == theirs
    name, value = list(ours["headers"])[-1]
    assert name == b"set-cookie" and value.decode().startswith(f"{CSRF_COOKIE}={token};")
    assert (b"; Secure" in value) is secure


async def test_a_first_visit_gets_the_token_its_forms_carry(client: httpx.AsyncClient) -> None:
    first = await client.get("/search")
    [cookie] = [c for c in first.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)]
    assert cookie == f"{CSRF_COOKIE}={csrf_token(first.text)}; HttpOnly; Path=/; SameSite=lax"
    # The next page is asked with the cookie: no new one.
    again = await client.get("/search")
    assert not [c for c in again.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)]
    assert csrf_token(again.text) == csrf_token(first.text)
    # The token works: the language switch takes it.
    switched = await client.post(
        "/language", data={"_csrf_token": csrf_token(again.text), "to": "zh-CN", "next": "/"}
    )
    assert switched.status_code == 303, switched.text
    refused = await client.post(
        "/language", data={"_csrf_token": generate_csrf_token("s" * 64), "to": "en", "next": "/"}
    )
    assert refused.status_code == 403
