"""The waiting list on a family's pages, as a browser without JavaScript uses them: the join
form filled in from a search, refusals naming the fields in both languages, a double submit
joining once; the list with the place in line in words; an offer the worker made, booked once
however often "Book it" is sent, declined, lost to an earlier booking; leaving after a
confirmation; another family's entry and offer are not found, and nothing changes."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from respite.i18n import formats
from respite.waitlist.worker import OfferWorker
from tests import builders
from tests.conftest import MakeToken
from tests.forms import csrf_token
from tests.pages.test_hold_pages import signed_in_family
from tests.waitlist import (  # the fixtures: the app's offer worker off
    Scene,
    cancel,
    family,
    join,
    scene,
    settings,
    worker,
)

__all__ = ["settings", "worker"]  # fixtures shared with tests/waitlist.py


class Waiting:
    """A family signed in on the pages with its elder, and the scene's care home whose one
    bed is booked for the nights the family wants."""

    def __init__(self, at: Scene, family_id: int, elder: int) -> None:
        self.at = at
        self.family_id = family_id
        self.elder = elder

    def form(self, **changes: Any) -> dict[str, Any]:
        fields = {
            "care_recipient_id": str(self.elder),
            "kind": "respite",
            "where": "facilities",
            "facility_ids": str(self.at.facility),
            "earliest_check_in": self.at.first.isoformat(),
            "latest_check_out": self.at.last.isoformat(),
            "nights": "7",
            "attempt": secrets.token_urlsafe(6),
            **changes,
        }
        return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
async def waiting(client: httpx.AsyncClient, db: Any, make_token: MakeToken) -> Waiting:
    at = await scene(db, make_token)
    await db.execute("UPDATE facilities SET name = '阳光长者照护中心' WHERE id = $1", at.facility)
    family_id = await signed_in_family(client, db)
    elder = await builders.recipient(db, family_id=family_id)
    return Waiting(at, family_id, elder)


async def send(
    client: httpx.AsyncClient, action: str, fields: dict[str, Any], **headers: str
) -> httpx.Response:
    token = csrf_token((await client.get("/waitlist")).text)
    return await client.post(action, data={"_csrf_token": token, **fields}, headers=headers)


async def joined(client: httpx.AsyncClient, waiting: Waiting) -> int:
    answer = await send(client, "/waitlist/join", waiting.form())
    assert (answer.status_code, answer.headers["location"]) == (303, "/waitlist?notice=joined")
    return await entry_of(client, waiting)


async def entry_of(client: httpx.AsyncClient, waiting: Waiting) -> int:
    listed = await client.get("/waitlist")
    found = re.search(r'data-entry="(\d+)"', listed.text)
    assert found is not None, listed.text
    return int(found[1])


async def offered(client: httpx.AsyncClient, waiting: Waiting, worker: OfferWorker) -> int:
    """Join, free the bed through the API, let the worker offer it: the offer's id."""
    await joined(client, waiting)
    await cancel(client, waiting.at)
    await worker.drain()
    listed = await client.get("/waitlist")
    found = re.search(r'href="/waitlist/offers/(\d+)"', listed.text)
    assert found is not None, listed.text
    return int(found[1])


async def counts(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM waitlist_entries"),
        await db.fetchval("SELECT count(*) FROM bookings WHERE status = 'confirmed'"),
        await db.fetchval("SELECT count(*) FROM waitlist_offers WHERE status = 'open'"),
    )


async def test_a_search_fills_in_the_join_form(client: httpx.AsyncClient, waiting: Waiting) -> None:
    first, last = waiting.at.first.isoformat(), waiting.at.last.isoformat()
    form = await client.get(
        f"/waitlist/join?care_recipient_id={waiting.elder}&check_in={first}"
        f"&check_out={last}&kind=home&place=徐汇区&from=wechat"
    )
    html = form.text
    assert form.status_code == 200 and "Wait for a bed" in html
    assert f'value="{waiting.elder}" checked' in html and 'value="home" checked' in html
    assert 'id="f-where" name="where" value="place" checked' in html
    assert 'name="place" type="text" value="徐汇区"' in html
    assert f'name="earliest_check_in" type="date" value="{first}"' in html
    assert f'name="latest_check_out" type="date" value="{last}"' in html
    assert 'name="nights" type="text" value="7"' in html
    from_facility = await client.get(f"/waitlist/join?facility_id={waiting.at.facility}")
    assert "阳光长者照护中心" in from_facility.text
    assert 'value="facilities" checked' in from_facility.text


async def test_joining_lists_the_entry_with_its_place_in_line(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, make_token: MakeToken
) -> None:
    ahead = await family(db, make_token)
    await join(client, waiting.at, ahead)  # someone joined first: this family is 2nd
    await joined(client, waiting)
    listed = await client.get("/waitlist?notice=joined")
    html = listed.text
    assert listed.headers["cache-control"] == "no-store"
    assert "Your elder is on the waiting list." in html
    assert "王秀英: respite bed" in html and "阳光长者照护中心" in html
    assert "2nd in line" in html and "waiting" in html
    first, last = formats.day(waiting.at.first, "en"), formats.day(waiting.at.last, "en")
    assert f"7 nights between {first} and {last}" in html
    assert "Leave the list" in html
    zh = await client.get("/waitlist", headers={"Accept-Language": "zh-CN"})
    assert "排第 2 位" in zh.text and "候补中" in zh.text and "2nd in line" not in zh.text


async def test_a_double_submit_joins_once(
    client: httpx.AsyncClient, waiting: Waiting, db: Any
) -> None:
    fields = waiting.form()
    first = await send(client, "/waitlist/join", fields)
    again = await send(client, "/waitlist/join", fields)  # the same drawing of the form
    assert first.status_code == again.status_code == 303
    assert await db.fetchval("SELECT count(*) FROM waitlist_entries") == 1


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            {
                "nights": "Nights wanted: is required",
                "latest": "Latest leaving day: must be after the earliest arrival",
                "where": "Where: choose where to wait",
                "place": "District, street or community: name a district, street or community",
            },
        ),
        (
            "zh-CN",
            {
                "nights": "需要几晚：必须填写",
                "latest": "最晚退房日期：须晚于最早入住日期",
                "where": "在哪里：请选择在哪里等候",
                "place": "区、街道或社区：请填写区、街道或社区",
            },
        ),
    ],
)
async def test_a_wrong_form_names_each_field_and_joins_nothing(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, language: str, words: dict[str, str]
) -> None:
    lang = {"Accept-Language": language}
    blank = await send(client, "/waitlist/join", waiting.form(nights=""), **lang)
    assert blank.status_code == 422 and 'href="#f-nights"' in blank.text
    assert words["nights"] in blank.text
    assert f'value="{waiting.at.first.isoformat()}"' in blank.text  # what was typed stays
    backwards = waiting.form(latest_check_out=(waiting.at.first - timedelta(days=1)).isoformat())
    refused = await send(client, "/waitlist/join", backwards, **lang)
    assert refused.status_code == 422 and 'href="#f-latest_check_out"' in refused.text
    assert words["latest"] in refused.text
    no_place = await send(client, "/waitlist/join", waiting.form(where="place"), **lang)
    assert no_place.status_code == 422 and 'href="#f-place"' in no_place.text
    assert words["place"] in no_place.text
    nowhere = await send(
        client, "/waitlist/join", waiting.form(where=None, facility_ids=None), **lang
    )
    assert nowhere.status_code == 422 and 'href="#f-where"' in nowhere.text
    assert words["where"] in nowhere.text
    assert "give exactly one of" not in nowhere.text and "只选一项" not in nowhere.text
    assert await db.fetchval("SELECT count(*) FROM waitlist_entries") == 0


async def test_an_offer_is_booked_once_however_often_book_is_sent(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, worker: OfferWorker
) -> None:
    offer_id = await offered(client, waiting, worker)
    shown = await client.get(f"/waitlist/offers/{offer_id}")
    html = shown.text
    assert shown.status_code == 200 and "A bed is kept for you" in html
    assert "阳光长者照护中心" in html and "3F-12" in html
    assert "¥2,100.00, that is ¥300.00 a night" in html
    assert "Accept by " in html and "At least 12 hours left to decide." in html
    zh = await client.get(f"/waitlist/offers/{offer_id}", headers={"Accept-Language": "zh-CN"})
    assert (
        "请在 " in zh.text
        and "至少还有 12 小时可以考虑。" in zh.text
        and "2,100.00 元（每晚 300.00 元）" in zh.text
    )
    first = await send(client, f"/waitlist/offers/{offer_id}/accept", {})
    second = await send(client, f"/waitlist/offers/{offer_id}/accept", {})  # a reload
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    stay = re.fullmatch(r"/stays/(\d+)\?notice=booked", first.headers["location"])
    assert stay is not None
    booked = await db.fetch(
        "SELECT id FROM bookings WHERE bed_id = $1 AND status = 'confirmed'", waiting.at.bed
    )
    assert [r["id"] for r in booked] == [int(stay[1])]
    after = await client.get(f"/waitlist/offers/{offer_id}")
    assert "You booked this bed." in after.text and f'href="/stays/{stay[1]}"' in after.text


async def test_no_thanks_keeps_the_elder_waiting(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, worker: OfferWorker
) -> None:
    offer_id = await offered(client, waiting, worker)
    first = await send(client, f"/waitlist/offers/{offer_id}/decline", {})
    again = await send(client, f"/waitlist/offers/{offer_id}/decline", {})
    assert first.headers["location"] == again.headers["location"] == "/waitlist?notice=declined"
    listed = await client.get(first.headers["location"])
    assert "You said no thanks." in listed.text and "/waitlist/offers/" not in listed.text
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "waiting"
    ended = await client.get(f"/waitlist/offers/{offer_id}")
    assert "You said no thanks to this bed." in ended.text
    book = await send(client, f"/waitlist/offers/{offer_id}/accept", {})
    assert book.status_code == 409 and "You said no thanks to this bed." in book.text
    assert (await counts(db))[1] == 0


async def test_an_offer_lost_to_an_earlier_booking_says_so_plainly(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, worker: OfferWorker
) -> None:
    offer_id = await offered(client, waiting, worker)
    # A walk-in at the desk books the bed's nights straight in the database, past the hold.
    await builders.booking(db, waiting.at.bed, waiting.at.first, waiting.at.last)
    lost = await send(client, f"/waitlist/offers/{offer_id}/accept", {})
    assert lost.status_code == 409
    assert "Someone booked this bed before you did" in lost.text
    assert "the next free bed will be offered to you" in lost.text
    zh = await client.get(f"/waitlist/offers/{offer_id}", headers={"Accept-Language": "zh-CN"})
    assert "有人先订了这张床位" in zh.text
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "waiting"


async def test_leaving_asks_first_then_ends_the_entry(
    client: httpx.AsyncClient, waiting: Waiting, db: Any
) -> None:
    entry_id = await joined(client, waiting)
    asked = await client.get(f"/waitlist/{entry_id}/leave")
    assert asked.status_code == 200 and "Leave the waiting list?" in asked.text
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "waiting"  # a GET
    first = await send(client, f"/waitlist/{entry_id}/leave", {})
    again = await send(client, f"/waitlist/{entry_id}/leave", {})
    assert first.headers["location"] == again.headers["location"] == "/waitlist?notice=left"
    listed = await client.get("/waitlist?notice=left")
    assert "You have left the waiting list." in listed.text and ">left<" in listed.text
    assert "Leave the list" not in listed.text
    over = await client.get(f"/waitlist/{entry_id}/leave")
    assert "This entry is over already: left." in over.text
    assert await db.fetchval("SELECT status FROM waitlist_entries") == "left"


async def test_another_familys_entry_and_offer_are_not_found_and_nothing_changes(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, make_token: MakeToken, worker: OfferWorker
) -> None:
    other = await family(db, make_token)
    theirs = await join(client, waiting.at, other)
    await cancel(client, waiting.at)
    await worker.drain()
    offer_id = int(await db.fetchval("SELECT id FROM waitlist_offers"))
    await client.get("/waitlist")  # this family's own (empty) list, for its CSRF cookie
    before = await counts(db)
    for path in (f"/waitlist/offers/{offer_id}", f"/waitlist/{theirs['id']}/leave"):
        seen = await client.get(path)
        assert seen.status_code == 404 and "阳光长者照护中心" not in seen.text
    for action in (
        f"/waitlist/offers/{offer_id}/accept",
        f"/waitlist/offers/{offer_id}/decline",
        f"/waitlist/{theirs['id']}/leave",
    ):
        assert (await send(client, action, {})).status_code == 404
    assert "3F-12" not in (await client.get("/waitlist")).text
    assert await counts(db) == before
    smuggled = await send(client, "/waitlist/join", waiting.form(care_recipient_id=other.elder))
    assert smuggled.status_code == 404 and 'href="#f-care_recipient_id"' in smuggled.text
    assert await counts(db) == before


async def test_staff_and_strangers_are_kept_out(
    client: httpx.AsyncClient, waiting: Waiting
) -> None:
    client.cookies.clear()
    stranger = await client.get("/waitlist/join?care_recipient_id=1")
    assert stranger.status_code == 303
    assert stranger.headers["location"].startswith("/signin?next=")


async def test_a_discharge_date_puts_the_entry_in_its_priority_group_in_words(
    client: httpx.AsyncClient, waiting: Waiting
) -> None:
    today = builders.today().isoformat()
    answer = await send(client, "/waitlist/join", waiting.form(discharged_on=today))
    assert answer.status_code == 303
    listed = (await client.get("/waitlist")).text
    assert "Served first because" in listed
    assert "Discharged from hospital within 14 days" in listed
    assert f"Leaves hospital</dt><dd>{formats.day(builders.today(), 'en')}" in listed
    zh = (await client.get("/waitlist", headers={"Accept-Language": "zh-CN"})).text
    assert "出院 14 天以内" in zh


async def test_an_offer_past_its_deadline_says_it_lapsed_and_books_nothing(
    client: httpx.AsyncClient, waiting: Waiting, db: Any, worker: OfferWorker, clock: ManualClock
) -> None:
    offer_id = await offered(client, waiting, worker)
    clock.advance(timedelta(hours=10, minutes=30))
    one = await client.get(f"/waitlist/offers/{offer_id}")
    assert "At least an hour left to decide." in one.text
    clock.advance(timedelta(hours=1))
    soon = await client.get(f"/waitlist/offers/{offer_id}")
    assert "Less than an hour left to decide." in soon.text
    clock.advance(timedelta(hours=1))
    late = await client.get(f"/waitlist/offers/{offer_id}")
    assert late.status_code == 200 and "The time to decide ran out" in late.text
    assert 'action="/waitlist/offers/' not in late.text  # nothing left to send
    book = await send(client, f"/waitlist/offers/{offer_id}/accept", {})
    assert book.status_code == 409 and "The time to decide ran out" in book.text
    assert (await counts(db))[1] == 0
