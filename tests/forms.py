"""Pages as a browser without JavaScript uses them, over the test client: GET a page, read its
form's CSRF token, post the form (the client keeps the cookies, as a browser does)."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found[1]


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, Any]
) -> httpx.Response:
    """Open ``page``, then post ``fields`` to ``action`` with the page's CSRF token."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={"_csrf_token": csrf_token(opened.text), **fields})


async def register(
    client: httpx.AsyncClient, *, name: str = "Li Ming", login: str = "li@example.test"
) -> httpx.Response:
    """A family signs up on the pages; the client then carries its session."""
    answer = await post_form(
        client,
        "/register",
        "/register",
        {"name": name, "login": login, "password": "a long enough secret"},
    )
    assert answer.status_code == 303, answer.text
    return answer
