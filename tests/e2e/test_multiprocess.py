"""The holds races again, spread over two real app processes sharing PostgreSQL and Redis.

Nothing in one process's memory may stand between two bookings: each test starts two
``respite serve`` processes (uvicorn, one worker each) on free ports against the test's own
database, and alternates its requests between them.
"""

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from tests import builders
from tests.conftest import MakeToken
from tests.processes import apps

__all__ = ["apps"]  # the fixture, shared with the waiting list's processes test


@pytest.fixture
def d0() -> date:
    """Three weeks ahead: the app processes run on the machine's clock, so a margin of days
    keeps the stays in their future whichever date the suite's clock shows."""
    return builders.today() + timedelta(days=20)


def _overlaps(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _stay(bed: int, recipient: int, check_in: date, check_out: date) -> dict[str, Any]:
    return {
        "care_recipient_id": recipient,
        "bed_id": bed,
        "check_in": check_in.isoformat(),
        "check_out": check_out.isoformat(),
    }


async def test_two_hundred_racers_over_two_processes_one_wins(
    apps: list[httpx.AsyncClient], db: Any, make_token: MakeToken, d0: date
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, facility_id=facility)
    tokens = [(await make_token("staff", facility_id=facility))[1] for _ in range(200)]
    body = _stay(bed, recipient, d0, d0 + timedelta(days=5))
    responses = await asyncio.gather(
        *(apps[i % 2].post("/v1/holds", json=body, headers=h) for i, h in enumerate(tokens))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 199, statuses
    winner = next(r for r in responses if r.status_code == 201).json()
    # The loser's view is the same whichever process answered it: the hold lives in Redis.
    losers = [i % 2 for i, r in enumerate(responses) if r.status_code == 409]
    assert set(losers) == {0, 1}
    assert winner["bed"]["id"] == bed


async def test_confirms_over_two_processes_without_redis_never_overlap(
    apps: list[httpx.AsyncClient], db: Any, make_token: MakeToken, redis_url: str, d0: date
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    stays = [
        (d0 + timedelta(days=i % 30), d0 + timedelta(days=i % 30 + 1 + i % 4)) for i in range(60)
    ]
    flusher = redis.Redis.from_url(redis_url)
    holds = []
    try:
        for i, (check_in, check_out) in enumerate(stays):
            _, headers = await make_token("staff", facility_id=facility)
            recipient = await builders.recipient(db, facility_id=facility)
            body = _stay(bed, recipient, check_in, check_out)
            placed = await apps[i % 2].post("/v1/holds", json=body, headers=headers)
            assert placed.status_code == 201, placed.text
            holds.append((placed.json(), headers))
            await flusher.flushdb()  # Redis forgets every hold: only PostgreSQL decides
    finally:
        await flusher.aclose()
    responses = await asyncio.gather(
        *(
            apps[i % 2].post(
                f"/v1/holds/{h['hold_id']}/confirm",
                json={"token": h["token"]},
                headers={**hd, "Idempotency-Key": f"c-{h['hold_id']}"},
            )
            for i, (h, hd) in enumerate(holds)
        )
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    won = [stays[i] for i, s in enumerate(statuses) if s == 201]
    assert won
    for i, a in enumerate(won):
        assert not any(_overlaps(a, b) for b in won[i + 1 :]), "two bookings share a night"
    for i, status in enumerate(statuses):
        if status == 409:
            assert any(_overlaps(stays[i], w) for w in won), "a refused stay overlapped nothing"
    rows = await db.fetch("SELECT check_in, check_out FROM bookings WHERE bed_id = $1", bed)
    assert sorted((r["check_in"], r["check_out"]) for r in rows) == sorted(won)


async def test_fifty_replays_alternating_processes_make_one_booking(
    apps: list[httpx.AsyncClient], db: Any, make_token: MakeToken, d0: date
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, facility_id=facility)
    _, headers = await make_token("staff", facility_id=facility)
    placed = await apps[0].post(
        "/v1/holds", json=_stay(bed, recipient, d0, d0 + timedelta(days=3)), headers=headers
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    responses = await asyncio.gather(
        *(
            apps[i % 2].post(
                f"/v1/holds/{hold['hold_id']}/confirm",
                json={"token": hold["token"]},
                headers={**headers, "Idempotency-Key": "same-key"},
            )
            for i in range(50)
        )
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses[:3]]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1
    assert await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id IS NOT NULL") == 3
