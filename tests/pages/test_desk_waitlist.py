"""The facility's waiting list at the desk, over the test client: the live entries in the
order they are served, each with its place, priority group, sex, age and needs in words, its
window, nights, status and the latest time it was passed over here and why — never a name;
both languages; front desk and managers; another facility's staff see none of it; families
are kept out."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from respite.auth.guards import SESSION_COOKIE
from respite.auth.model import StaffRole
from respite.auth.service import create_principal, issue_token
from respite.eligibility.model import age_on
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.conftest import MakeToken
from tests.waitlist import (  # the fixtures: the app's offer worker off
    cancel,
    family,
    join,
    scene,
    settings,
    worker,
)

NAME = "王秀英"  # every builders' elder's name: the queue must never show it

__all__ = ["settings", "worker"]  # fixtures shared with tests/waitlist.py


async def sign_in_staff(
    client: httpx.AsyncClient, db: Any, facility: int, role: StaffRole = "front_desk"
) -> None:
    staff = await create_principal(db, "staff", "Zhou Min", facility_id=facility, staff_role=role)
    issued = await issue_token(db, staff, None)
    client.cookies.set(SESSION_COOKIE, issued.token)


def rows(html: str) -> list[str]:
    return html.split('<tr data-entry="')[1:]


async def test_the_queue_lists_entries_in_order_without_names(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    at = await scene(db, make_token, sex_rule="female")
    man = await family(db, make_token, sex="male", birth_date=date(1938, 1, 2))
    woman = await family(db, make_token, needs=("oxygen", "fall_risk"))
    m = await join(client, at, man)
    w = await join(client, at, woman, min_nights=3)
    plain = await family(db, make_token)
    p = await join(client, at, plain)
    await cancel(client, at)
    await worker.drain()  # the bed is for women, with no oxygen: only the third fits it
    await sign_in_staff(client, db, at.facility)
    queue = await client.get("/desk/waitlist")
    html = queue.text
    assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
    assert "Waiting list" in html and "Care home beds: 3 waiting" in html
    first, second, third = rows(html)
    assert first.startswith(f'{m["id"]}"') and second.startswith(f'{w["id"]}"')
    assert third.startswith(f'{p["id"]}"') and "offered a bed" in third
    assert ">1</th>" in first and ">2</th>" in second
    age = age_on(date(1938, 1, 2), builders.today())
    assert f"Male, aged {age}" in first and "No special needs recorded" in first
    assert "waiting" in first and "The elder is not eligible for this bed and stay." in first
    first_day = at.first.strftime("%B %-d, %Y")
    assert f"{first_day} to " in first
    assert "At risk of falling and Needs oxygen" in second and "3 to 7 nights" in second
    assert "By when they joined" in first
    assert NAME not in html
    zh = await client.get("/desk/waitlist", headers={"Accept-Language": "zh-CN"})
    assert "机构床位：3 位等候中" in zh.text and "男，" in zh.text and "已保留床位" in zh.text
    assert NAME not in zh.text and "Care home beds" not in zh.text


async def test_managers_see_it_and_each_kind_has_its_own_queue(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    at = await scene(db, make_token)
    daughter = await family(db, make_token)
    await join(client, at, daughter)
    await sign_in_staff(client, db, at.facility, role="manager")
    respite = await client.get("/desk/waitlist?kind=respite")
    assert "Care home beds: 1 waiting" in respite.text and len(rows(respite.text)) == 1
    home = await client.get("/desk/waitlist?kind=home")
    assert home.status_code == 200 and "No one waits for these beds." in home.text
    assert rows(home.text) == []
    wrong = await client.get("/desk/waitlist?kind=castle")
    assert wrong.status_code == 422 and "Care home beds" not in wrong.text


async def test_another_facilitys_staff_see_none_of_it(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    at = await scene(db, make_token)
    await db.execute("UPDATE facilities SET name = '甲院' WHERE id = $1", at.facility)
    daughter = await family(db, make_token)
    joined = await join(client, at, daughter)
    other = await builders.facility(db, name="乙院")
    await sign_in_staff(client, db, other)
    queue = await client.get("/desk/waitlist")
    assert queue.status_code == 200 and "No one waits for these beds." in queue.text
    assert f'data-entry="{joined["id"]}"' not in queue.text and "甲院" not in queue.text
    by_query = await client.get(f"/desk/waitlist?facility_id={at.facility}")
    assert f'data-entry="{joined["id"]}"' not in by_query.text  # the desk's own, always


async def test_families_and_strangers_are_kept_out(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    stranger = await client.get("/desk/waitlist")
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/signin")
    principal, _ = await make_token("family")
    issued = await issue_token(db, principal, None)
    client.cookies.set(SESSION_COOKIE, issued.token)
    answer = await client.get("/desk/waitlist")
    assert answer.status_code == 403


async def test_the_desk_menu_leads_to_the_queue(client: httpx.AsyncClient, db: Any) -> None:
    facility = await builders.facility(db)
    await sign_in_staff(client, db, facility)
    today = await client.get("/desk")
    assert 'href="/desk/waitlist"' in today.text
