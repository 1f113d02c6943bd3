"""Holding a bed on the pages, as a family without JavaScript would: the hold's page in both
languages with its time left from the server, confirming once however often it is sent,
letting it go, a hold that ran out, refusals in words, another family's hold, CSRF."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.auth.model import Principal
from respite.auth.service import issue_token
from respite.clock import ManualClock
from tests import builders
from tests.forms import csrf_token, register


class Scene:
    """A family signed in on the pages, its elder, and a free bed of a care home."""

    def __init__(self, family_id: int, elder: int, facility: int, bed: int) -> None:
        self.family_id = family_id
        self.elder = elder
        self.facility = facility
        self.bed = bed
        self.check_in = builders.today() + timedelta(days=10)
        self.check_out = self.check_in + timedelta(days=2)

    def hold_fields(self, **extra: Any) -> dict[str, Any]:
        return {
            "care_recipient_id": self.elder,
            "bed_id": self.bed,
            "check_in": self.check_in.isoformat(),
            "check_out": self.check_out.isoformat(),
            "back": "/search?near=home",
            **extra,
        }


async def signed_in_family(client: httpx.AsyncClient, db: Any) -> int:
    login = f"{secrets.token_hex(5)}@example.test"
    await register(client, name="Li Ming", login=login)
    return int(await db.fetchval("SELECT id FROM principals WHERE email = $1", login))


async def set_scene(client: httpx.AsyncClient, db: Any, *, level: int = 2) -> Scene:
    family_id = await signed_in_family(client, db)
    elder = await builders.recipient(db, family_id=family_id, level=level)
    facility = await builders.facility(
        db, name="Sunny Days Care Home", address="88 Huaihai Road", phone="021 6432 1000"
    )
    bed = await builders.bed(db, facility, price=32000, label="3F-12")
    return Scene(family_id, elder, facility, bed)


@pytest.fixture
async def scene(client: httpx.AsyncClient, db: Any) -> Scene:
    return await set_scene(client, db)


async def csrf(client: httpx.AsyncClient) -> str:
    """A CSRF token of the signed-in family's browser (any page's form carries it)."""
    opened = await client.get("/stays")
    assert opened.status_code == 200, opened.text
    return csrf_token(opened.text)


async def send(client: httpx.AsyncClient, action: str, fields: dict[str, Any]) -> httpx.Response:
    return await client.post(action, data={"_csrf_token": await csrf(client), **fields})


async def place(client: httpx.AsyncClient, scene: Scene, **extra: Any) -> str:
    """Hold the scene's bed; the hold's id."""
    answer = await send(client, "/holds", scene.hold_fields(**extra))
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/holds/([\w-]+)", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return found[1]


async def bookings(db: Any, bed: int) -> int:
    return int(await db.fetchval("SELECT count(*) FROM bookings WHERE bed_id = $1", bed))


async def test_the_hold_page_shows_the_hold_and_its_time_left_in_english(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    answer = await send(client, "/holds", scene.hold_fields())
    assert answer.status_code == 303
    hold_id = answer.headers["location"].removeprefix("/holds/")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "respite_hold=" in c)
    assert f"Path=/holds/{hold_id}" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    held = await client.get(f"/holds/{hold_id}")
    assert held.status_code == 200
    html = held.text
    assert "Your bed is held" in html and "Sunny Days Care Home" in html
    assert "88 Huaihai Road" in html and 'href="tel:02164321000"' in html
    assert "王秀英" in html and "3F-12" in html
    assert "¥640.00, that is ¥320.00 a night" in html
    assert 'data-seconds-left="600"' in html and "Held until " in html
    assert f'action="/holds/{hold_id}/confirm"' in html and "Confirm the booking" in html
    assert f'action="/holds/{hold_id}/release"' in html and "Let it go" in html
    assert held.headers["cache-control"] == "no-store"
    assert "留" not in html  # one language a page


async def test_the_hold_page_speaks_chinese(client: httpx.AsyncClient, scene: Scene) -> None:
    hold_id = await place(client, scene)
    held = await client.get(f"/holds/{hold_id}", headers={"Accept-Language": "zh-CN"})
    html = held.text
    assert '<html lang="zh-CN">' in html and "床位已为您预留" in html
    assert "640.00 元（每晚 320.00 元）" in html and "保留至 " in html
    assert "确认预订" in html and "不要了，释放床位" in html
    assert "Confirm the booking" not in html and "Held until" not in html


async def test_a_reload_shows_the_time_left_by_the_servers_clock(
    client: httpx.AsyncClient, scene: Scene, clock: ManualClock
) -> None:
    hold_id = await place(client, scene)
    clock.advance(timedelta(seconds=125))
    again = await client.get(f"/holds/{hold_id}")
    assert again.status_code == 200 and 'data-seconds-left="475"' in again.text


async def test_confirming_twice_books_once_and_both_go_to_the_same_stay(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    first = await send(client, f"/holds/{hold_id}/confirm", {})
    second = await send(client, f"/holds/{hold_id}/confirm", {})  # a reload of the POST
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert re.fullmatch(r"/stays/\d+\?notice=booked", first.headers["location"])
    assert await bookings(db, scene.bed) == 1
    stay = await client.get(first.headers["location"])
    assert stay.status_code == 200 and "The booking is confirmed." in stay.text


async def test_a_double_click_racing_books_once(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    token = await csrf(client)
    answers = await asyncio.gather(
        *(client.post(f"/holds/{hold_id}/confirm", data={"_csrf_token": token}) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [303, 303, 303], [a.text for a in answers]
    assert len({a.headers["location"] for a in answers}) == 1
    assert await bookings(db, scene.bed) == 1


async def test_back_then_forward_after_confirming_books_nothing_more(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    token = await csrf(client)
    confirmed = await client.post(f"/holds/{hold_id}/confirm", data={"_csrf_token": token})
    stay_path = confirmed.headers["location"].split("?")[0]
    back = await client.get(f"/holds/{hold_id}")  # the hold's page, from the history
    assert back.status_code == 200 and "This hold is booked" in back.text
    assert f'href="{stay_path}"' in back.text and "Confirm the booking" not in back.text
    forward = await client.post(f"/holds/{hold_id}/confirm", data={"_csrf_token": token})
    assert (
        forward.status_code == 303 and forward.headers["location"] == confirmed.headers["location"]
    )
    assert await bookings(db, scene.bed) == 1


async def test_letting_it_go_frees_the_bed_and_it_confirms_nothing_after(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    released = await send(client, f"/holds/{hold_id}/release", {})
    assert released.status_code == 303 and released.headers["location"] == f"/holds/{hold_id}"
    gone = await client.get(f"/holds/{hold_id}")
    assert gone.status_code == 200 and "You let the bed go" in gone.text
    late = await send(client, f"/holds/{hold_id}/confirm", {})
    assert late.status_code == 410 and await bookings(db, scene.bed) == 0
    assert await place(client, scene)  # the bed is free again: the same family holds it


async def test_a_hold_that_ran_out_says_so_and_confirms_nothing(
    client: httpx.AsyncClient, scene: Scene, db: Any, clock: ManualClock
) -> None:
    hold_id = await place(client, scene)
    clock.advance(timedelta(seconds=601))
    ended = await client.get(f"/holds/{hold_id}")
    assert ended.status_code == 200 and "This hold has ended" in ended.text
    assert "The time to confirm ran out" in ended.text and 'href="/search"' in ended.text
    late = await send(client, f"/holds/{hold_id}/confirm", {})
    assert late.status_code == 410 and await bookings(db, scene.bed) == 0


async def test_a_bed_taken_meanwhile_is_said_in_words_with_the_way_back(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    await builders.booking(db, scene.bed, scene.check_in, scene.check_out)
    answer = await send(client, "/holds", scene.hold_fields())
    assert answer.status_code == 409
    assert "The bed could not be held" in answer.text and "3F-12" in answer.text
    assert 'href="/search?near=home"' in answer.text and "Nothing was booked." in answer.text


async def test_an_elder_who_is_not_eligible_is_told_why(client: httpx.AsyncClient, db: Any) -> None:
    scene = await set_scene(client, db, level=0)  # 能力完好: no respite bed for them
    answer = await send(client, "/holds", scene.hold_fields())
    assert answer.status_code == 422 and "The bed could not be held" in answer.text
    assert "Why:" in answer.text and "<li>" in answer.text
    chinese = await send(client, "/holds", {**scene.hold_fields(), "back": "http://evil.example/"})
    assert 'href="/search"' in chinese.text  # never back to another site
    zh = await client.post(
        "/holds",
        data={"_csrf_token": await csrf(client), **scene.hold_fields()},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "无法预留这张床位" in zh.text and "原因：" in zh.text and "Why:" not in zh.text


async def test_a_wrong_date_is_named_on_the_refusal(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    answer = await send(client, "/holds", scene.hold_fields(check_out="soon"))
    assert answer.status_code == 422 and "Leaves: " in answer.text


async def test_another_familys_hold_is_not_found_and_nothing_changes(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    token = client.cookies.get("respite_hold")
    assert token
    client.cookies.clear()
    await signed_in_family(client, db)
    # Even with the first family's hold cookie, copied over.
    client.cookies.set("respite_hold", token, domain="testserver", path=f"/holds/{hold_id}")
    seen = await client.get(f"/holds/{hold_id}")
    assert seen.status_code == 404 and "Hold not found" in seen.text
    assert "Sunny Days" not in seen.text
    confirm = await send(client, f"/holds/{hold_id}/confirm", {})
    release = await send(client, f"/holds/{hold_id}/release", {})
    assert confirm.status_code == release.status_code == 404
    assert await bookings(db, scene.bed) == 0
    ended = await db.fetchval("SELECT count(*) FROM ended_holds WHERE hold_id = $1", hold_id)
    assert ended == 0


async def test_a_confirm_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    forged = await client.post(f"/holds/{hold_id}/confirm", data={})
    assert forged.status_code == 403 and "The form could not be sent" in forged.text
    unplaced = await client.post("/holds", data=scene.hold_fields())
    assert unplaced.status_code == 403
    assert await bookings(db, scene.bed) == 0
    still = await client.get(f"/holds/{hold_id}")
    assert still.status_code == 200 and "Confirm the booking" in still.text


async def test_a_stranger_holding_a_bed_signs_in_and_returns_to_the_search(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    token = await csrf(client)
    client.cookies.delete("respite_session")
    answer = await client.post("/holds", data={"_csrf_token": token, **scene.hold_fields()})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/search%3Fnear%3Dhome"


async def test_a_care_home_with_no_free_bed_of_the_kind_says_so(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    await builders.booking(db, scene.bed, scene.check_in, scene.check_out)
    fields = {**scene.hold_fields(facility_id=scene.facility, kind="respite")}
    del fields["bed_id"]
    answer = await send(client, "/holds", fields)
    assert answer.status_code == 409
    assert "This care home has no free bed of this kind left" in answer.text
    assert f"Facility {scene.facility}" not in answer.text


async def test_a_hold_in_a_care_home_picks_its_bed(client: httpx.AsyncClient, scene: Scene) -> None:
    fields = {**scene.hold_fields(facility_id=scene.facility, kind="respite")}
    del fields["bed_id"]
    answer = await send(client, "/holds", fields)
    assert answer.status_code == 303
    held = await client.get(answer.headers["location"])
    assert "3F-12, respite bed in the care home" in held.text


async def test_the_hold_form_sent_twice_keeps_one_bed(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    second_bed = await builders.bed(db, scene.facility, price=32000)
    fields = {**scene.hold_fields(facility_id=scene.facility, kind="respite", submit="go")}
    del fields["bed_id"]
    first = await send(client, "/holds", fields)
    again = await send(client, "/holds", fields)  # back, then "Hold" once more
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    keyed = {**scene.hold_fields(bed_id=second_bed), "idempotency_key": "search-render-1"}
    keyed["check_in"], keyed["check_out"] = (
        scene.check_out.isoformat(),
        (scene.check_out + timedelta(days=1)).isoformat(),
    )
    one = await send(client, "/holds", keyed)
    two = await send(client, "/holds", keyed)
    assert one.status_code == two.status_code == 303
    assert one.headers["location"] == two.headers["location"]
    mine = await client.get(one.headers["location"])
    assert mine.status_code == 200 and "Confirm the booking" in mine.text


async def test_a_hold_booked_through_the_api_says_so_here(
    client: httpx.AsyncClient, scene: Scene, db: Any
) -> None:
    hold_id = await place(client, scene)
    family = Principal(id=scene.family_id, role="family", name="Li Ming")
    issued = await issue_token(db, family, None)
    api = await client.post(
        f"/v1/holds/{hold_id}/confirm",
        json={"token": client.cookies["respite_hold"]},
        headers={"Authorization": f"Bearer {issued.token}", "Idempotency-Key": "app-1"},
    )
    assert api.status_code == 201, api.text
    page = await client.get(f"/holds/{hold_id}")
    assert page.status_code == 200 and "This hold is booked" in page.text
    assert 'href="/stays"' in page.text
