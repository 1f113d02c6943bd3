"""My stays on the pages: upcoming and past in both languages, one stay, cancelling it with a
reason (before check-in only), another family's stay, and a cancel without its CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from tests import builders
from tests.pages.test_hold_pages import Scene, csrf, place, send, set_scene, signed_in_family


async def booked(client: httpx.AsyncClient, scene: Scene) -> int:
    """The scene's bed held and confirmed on the pages; the stay's id."""
    hold_id = await place(client, scene)
    confirmed = await send(client, f"/holds/{hold_id}/confirm", {})
    assert confirmed.status_code == 303, confirmed.text
    found = re.fullmatch(r"/stays/(\d+)\?notice=booked", confirmed.headers["location"])
    assert found is not None
    return int(found[1])


async def status_of(db: Any, stay: int) -> str:
    return str(await db.fetchval("SELECT status FROM bookings WHERE id = $1", stay))


async def test_my_stays_lists_upcoming_and_past_in_english(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    today = builders.today()
    past = await builders.booking(
        db,
        scene.bed,
        today - timedelta(days=20),
        today - timedelta(days=17),
        recipient_id=scene.elder,
        status="checked_out",
    )
    page = await client.get("/stays")
    assert page.status_code == 200
    html = page.text
    upcoming, earlier = html.split("Past and cancelled")
    assert "Upcoming" in upcoming and f'href="/stays/{stay}"' in upcoming
    assert f'href="/stays/{past}"' in earlier and f'href="/stays/{past}"' not in upcoming
    assert "Sunny Days Care Home" in upcoming and "88 Huaihai Road" in upcoming
    assert "021 6432 1000" in upcoming and "王秀英" in upcoming
    assert ">Booked<" in upcoming and ">Left<" in earlier
    assert "¥640.00, that is ¥320.00 a night" in upcoming


async def test_my_stays_speaks_chinese_and_says_when_there_are_none(
    client: httpx.AsyncClient, db: Any
) -> None:
    await signed_in_family(client, db)
    page = await client.get("/stays", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "我的入住" in page.text and "暂无即将入住的安排。" in page.text
    assert "暂无以往入住记录。" in page.text and "Upcoming" not in page.text


async def test_a_stay_shows_its_facts_and_cancels_with_a_reason(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    page = await client.get(f"/stays/{stay}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "取消这次入住" in page.text
    assert "已预订" in page.text and 'name="reason" value="unwell"' in page.text
    answer = await send(client, f"/stays/{stay}/cancel", {"reason": "unwell"})
    assert (
        answer.status_code == 303
        and answer.headers["location"] == f"/stays/{stay}?notice=cancelled"
    )
    assert await status_of(db, stay) == "cancelled"
    reason = await db.fetchval("SELECT cancel_reason FROM bookings WHERE id = $1", stay)
    assert reason == "The elder is unwell or in hospital"
    after = await client.get(answer.headers["location"])
    assert "The stay is cancelled." in after.text and ">Cancelled<" in after.text
    assert f'action="/stays/{stay}/cancel"' not in after.text
    again = await send(client, f"/stays/{stay}/cancel", {"reason": "unwell"})  # a second click
    assert again.status_code == 303 and await status_of(db, stay) == "cancelled"


async def test_another_reason_is_typed_and_a_missing_one_is_named(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    nothing = await send(client, f"/stays/{stay}/cancel", {})
    assert nothing.status_code == 422 and 'href="#f-reason"' in nothing.text
    assert "There is a problem" in nothing.text and await status_of(db, stay) == "confirmed"
    blank = await send(client, f"/stays/{stay}/cancel", {"reason": "other", "reason_other": "  "})
    assert blank.status_code == 422 and 'href="#f-reason_other"' in blank.text
    assert 'value="other" checked' in blank.text and await status_of(db, stay) == "confirmed"
    typed = await send(
        client, f"/stays/{stay}/cancel", {"reason": "other", "reason_other": "Grandson visits"}
    )
    assert typed.status_code == 303 and await status_of(db, stay) == "cancelled"
    assert await db.fetchval("SELECT cancel_reason FROM bookings WHERE id = $1", stay) == (
        "Grandson visits"
    )


async def test_a_stay_that_has_begun_is_not_cancelled_here(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    today = builders.today()
    stay = await builders.booking(
        db,
        scene.bed,
        today,
        today + timedelta(days=3),
        recipient_id=scene.elder,
        status="checked_in",
    )
    page = await client.get(f"/stays/{stay}")
    assert page.status_code == 200 and "cannot be cancelled here" in page.text
    assert "021 6432 1000" in page.text and 'name="reason"' not in page.text
    answer = await send(client, f"/stays/{stay}/cancel", {"reason": "plans_changed"})
    assert answer.status_code == 409 and await status_of(db, stay) == "checked_in"
    listed = await client.get("/stays")
    assert ">Staying now<" in listed.text.split("Past and cancelled")[0]


async def test_another_familys_stay_is_not_found_and_nothing_changes(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    client.cookies.clear()
    await signed_in_family(client, db)
    assert (await client.get(f"/stays/{stay}")).status_code == 404
    answer = await send(client, f"/stays/{stay}/cancel", {"reason": "plans_changed"})
    assert answer.status_code == 404 and await status_of(db, stay) == "confirmed"
    listed = await client.get("/stays")
    assert f'href="/stays/{stay}"' not in listed.text


async def test_a_cancel_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    scene = await set_scene(client, db)
    stay = await booked(client, scene)
    forged = await client.post(f"/stays/{stay}/cancel", data={"reason": "plans_changed"})
    assert forged.status_code == 403 and await status_of(db, stay) == "confirmed"
    assert await csrf(client)
