"""The inbox on a family's pages: a booking's confirmation and cancellation, newest first, in
the page's language; marking one read (once: the first time is kept); another family's
notification is "not found"; a mark without its CSRF token changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.pages.test_hold_pages import Scene, csrf, send, set_scene
from tests.pages.test_stay_pages import booked


async def notified(client: httpx.AsyncClient, db: Any) -> tuple[Scene, int, list[int]]:
    """A family's stay booked and cancelled on the pages; the stay and its two notifications,
    newest first."""
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    cancelled = await send(client, f"/stays/{stay}/cancel", {"reason": "unwell"})
    assert cancelled.status_code == 303, cancelled.text
    rows = await db.fetch(
        "SELECT id FROM notifications WHERE principal_id = $1 ORDER BY id DESC", scene.family_id
    )
    return scene, stay, [row["id"] for row in rows]


async def test_the_inbox_lists_a_stay_booked_and_cancelled_in_both_languages(
    client: httpx.AsyncClient, db: Any
) -> None:
    _, stay, (newest, oldest) = await notified(client, db)
    page = await client.get("/inbox")
    assert page.status_code == 200
    html = page.text
    assert html.index("Booking cancelled: Sunny Days Care Home") < html.index(
        "Booking confirmed: Sunny Days Care Home"
    )
    assert (
        "Address: 88 Huaihai Road." in html and "The facility&#39;s phone: 021 6432 1000." in html
    )
    assert f'href="/stays/{stay}"' in html
    assert html.count(">New<") == 2 and f'action="/inbox/{newest}/read"' in html
    assert 'aria-current="page"' in html and page.headers["cache-control"] == "no-store"
    chinese = await client.get("/inbox", headers={"Accept-Language": "zh-CN"})
    assert "预订已取消：Sunny Days Care Home" in chinese.text
    assert "预订已确认：Sunny Days Care Home" in chinese.text and ">未读<" in chinese.text
    assert "Booking confirmed" not in chinese.text
    assert oldest < newest


async def test_marking_one_read_keeps_the_first_time_and_refuses_others(
    client: httpx.AsyncClient, db: Any
) -> None:
    _, _, (newest, _) = await notified(client, db)
    answer = await send(client, f"/inbox/{newest}/read", {})
    assert answer.status_code == 303 and answer.headers["location"] == f"/inbox#n-{newest}"
    first = await db.fetchval("SELECT read_at FROM notifications WHERE id = $1", newest)
    assert first is not None
    again = await send(client, f"/inbox/{newest}/read", {})
    assert again.status_code == 303
    assert await db.fetchval("SELECT read_at FROM notifications WHERE id = $1", newest) == first
    html = (await client.get("/inbox")).text
    assert html.count(">New<") == 1 and f'action="/inbox/{newest}/read"' not in html
    # Without the form's CSRF token nothing is marked.
    _, _, (other_newest, other_oldest) = await notified(client, db)
    refused = await client.post(f"/inbox/{other_oldest}/read", data={})
    assert refused.status_code == 403
    assert (
        await db.fetchval("SELECT read_at FROM notifications WHERE id = $1", other_oldest) is None
    )
    # The first family's notification is another family's now: not found.
    token = await csrf(client)
    foreign = await client.post(f"/inbox/{newest}/read", data={"_csrf_token": token})
    assert foreign.status_code == 404
    assert other_newest


async def test_an_empty_inbox_says_what_will_come(client: httpx.AsyncClient, db: Any) -> None:
    await set_scene(client, db)
    page = await client.get("/inbox", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "暂无通知：预订确认、入住提醒和床位邀请都会显示在这里。" in page.text
