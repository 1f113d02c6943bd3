"""A family changes its stay's dates on the pages, without JavaScript: new dates, then the
quote (the nights and the price, before and after), then the change; a refusal comes back on
the stay's page saying why; a second click changes nothing more."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from tests import builders
from tests.e2e.test_notifications_api import book
from tests.forms import csrf_token, register


def day(offset: int) -> str:
    return (builders.today() + timedelta(days=offset)).isoformat()


async def family_stay(client: httpx.AsyncClient, db: Any) -> tuple[int, int, int]:
    """A family signed in on the pages with a booked stay (days 10 to 13); its id, bed, facility."""
    await register(client, login="stays@example.test")
    principal = await db.fetchval("SELECT id FROM principals WHERE email = 'stays@example.test'")
    token = client.cookies["respite_session"]
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=30000)
    elder = await builders.recipient(db, family_id=principal)
    booking = await book(client, {"Authorization": f"Bearer {token}"}, elder, bed, "pages-1")
    return booking["id"], bed, facility


async def test_a_family_changes_its_dates_after_seeing_the_price(
    client: httpx.AsyncClient, db: Any
) -> None:
    booking, _, _ = await family_stay(client, db)
    client.headers["Accept-Language"] = "zh-CN"
    opened = await client.get(f"/stays/{booking}")
    assert "修改日期" in opened.text
    quoted = await client.post(
        f"/stays/{booking}/change",
        data={"_csrf_token": csrf_token(opened.text), "check_in": day(10), "check_out": day(15)},
    )
    assert quoted.status_code == 200, quoted.text
    assert "多付 ¥600.00" in quoted.text or "多付 600.00" in quoted.text
    assert 'name="nightly_price" value="30000"' in quoted.text
    assert await db.fetchval("SELECT check_out FROM bookings WHERE id = $1", booking) == (
        builders.today() + timedelta(days=13)
    )
    confirm = {
        "_csrf_token": csrf_token(quoted.text),
        "check_in": day(10),
        "check_out": day(15),
        "nightly_price": "30000",
    }
    made = await client.post(f"/stays/{booking}/change/confirm", data=confirm)
    assert (
        made.status_code == 303 and made.headers["location"] == f"/stays/{booking}?notice=changed"
    )
    again = await client.post(f"/stays/{booking}/change/confirm", data=confirm)
    assert again.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking) == 5
    shown = await client.get(made.headers["location"])
    assert "日期已修改" in shown.text


async def test_dates_that_cannot_be_had_are_refused_on_the_stay_page(
    client: httpx.AsyncClient, db: Any
) -> None:
    booking, bed, _ = await family_stay(client, db)
    await builders.booking(
        db, bed, builders.today() + timedelta(days=14), builders.today() + timedelta(days=16)
    )
    opened = await client.get(f"/stays/{booking}")
    taken = await client.post(
        f"/stays/{booking}/change",
        data={"_csrf_token": csrf_token(opened.text), "check_in": day(10), "check_out": day(16)},
    )
    assert taken.status_code == 409 and "There is a problem" in taken.text
    backwards = await client.post(
        f"/stays/{booking}/change",
        data={"_csrf_token": csrf_token(opened.text), "check_in": day(12), "check_out": day(11)},
    )
    assert backwards.status_code == 422 and 'href="#f-check_out"' in backwards.text
    assert re.search(rf'value="{day(11)}"', backwards.text)
    assert await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking) == 3
