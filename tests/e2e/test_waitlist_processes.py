"""Two real app processes, each with its offer worker on, share one outbox: every freed bed is
offered once, to one entry each, whichever process frees it and whichever worker leases it."""

import asyncio
from typing import Any

import httpx

from tests import builders
from tests.conftest import MakeToken
from tests.processes import apps
from tests.waitlist import family, join_body, scene

__all__ = ["apps"]

WAIT = 60.0


async def test_two_processes_offer_each_freed_bed_once(
    apps: list[httpx.AsyncClient], db: Any, make_token: MakeToken
) -> None:
    at = await scene(db, make_token)
    bookings = [at.booking]
    for _ in range(7):
        bed = await builders.bed(db, at.facility)
        bookings.append(await builders.booking(db, bed, at.first, at.last))
    families = [await family(db, make_token) for _ in range(10)]
    joined_ids = []
    for n, f in enumerate(families):
        joined = await apps[n % 2].post("/v1/waitlist", json=join_body(at, f), headers=f.headers)
        assert joined.status_code == 201, joined.text
        joined_ids.append(joined.json()["id"])
    cancelled = await asyncio.gather(
        *(
            apps[n % 2].post(
                f"/v1/bookings/{b}/cancel", json={"reason": "plans changed"}, headers=at.staff
            )
            for n, b in enumerate(bookings)
        )
    )
    assert [c.status_code for c in cancelled] == [200] * 8
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        pending = await db.fetchval("SELECT count(*) FROM waitlist_jobs WHERE done_at IS NULL")
        offers = await db.fetchval("SELECT count(*) FROM waitlist_offers")
        if pending == 0 and offers == 8:
            break
        await asyncio.sleep(0.1)
    offers = await db.fetch("SELECT entry_id, bed_id FROM waitlist_offers WHERE status = 'open'")
    assert len(offers) == 8
    assert len({o["entry_id"] for o in offers}) == 8
    assert len({o["bed_id"] for o in offers}) == 8
    # The first eight to join were offered; the last two still wait.
    assert sorted(o["entry_id"] for o in offers) == joined_ids[:8]
    waiting = await db.fetch("SELECT id FROM waitlist_entries WHERE status = 'waiting'")
    assert sorted(w["id"] for w in waiting) == joined_ids[8:]
