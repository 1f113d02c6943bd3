"""Holds and bookings under races and faults: the database stands between every overbooking."""

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import redis.asyncio as redis

from respite.app import create_app
from respite.clock import ManualClock
from respite.dev.servers import LocalPostgres, LocalRedis
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.folders import scratch_folder


@pytest.fixture
def d0() -> date:
    """The first night the stays of these tests start from, three weeks ahead."""
    return builders.today() + timedelta(days=20)


@pytest.fixture
def private_dir() -> Iterator[Path]:
    with scratch_folder("respite-fault-") as folder:
        yield folder


async def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def _overlaps(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


async def test_confirms_racing_without_redis_leave_only_non_overlapping_bookings(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, redis_url: str, d0: date
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    stays = [
        (d0 + timedelta(days=i % 30), d0 + timedelta(days=i % 30 + 1 + i % 4)) for i in range(100)
    ]
    holds = []
    for check_in, check_out in stays:
        _, headers = await make_token("staff", facility_id=facility)
        recipient = await builders.recipient(db, facility_id=facility)
        body = {
            "care_recipient_id": recipient,
            "bed_id": bed,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
        }
        placed = await client.post("/v1/holds", json=body, headers=headers)
        assert placed.status_code == 201, placed.text
        holds.append((placed.json(), headers))
        await _flush(redis_url)  # Redis forgets every hold: only PostgreSQL is left to decide
    responses = await asyncio.gather(
        *(
            client.post(
                f"/v1/holds/{h['hold_id']}/confirm",
                json={"token": h["token"]},
                # Keys belong to the facility, whose staff all these are: one key per confirm.
                headers={**hd, "Idempotency-Key": f"c-{h['hold_id']}"},
            )
            for h, hd in holds
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


async def test_redis_killed_mid_run_then_back(
    settings: Settings,
    db: Any,
    make_token: MakeToken,
    private_dir: Path,
    clock: ManualClock,
    d0: date,
) -> None:
    own = LocalRedis(private_dir / "redis")
    own.start()
    app = create_app(
        msgspec.structs.replace(settings, redis_url=own.url, redis_timeout=0.5),
        clock=clock,
        configure_logs=False,
    )
    facility = await builders.facility(db)
    beds = [await builders.bed(db, facility) for _ in range(3)]
    staff = [await make_token("staff", facility_id=facility) for _ in range(6)]
    recipients = [await builders.recipient(db, facility_id=facility) for _ in staff]
    statuses: list[int] = []

    async def attempt(client: httpx.AsyncClient, n: int) -> None:
        headers, recipient = staff[n % len(staff)][1], recipients[n % len(staff)]
        # the second wave asks for nights the first left free, so that the database has
        # no conflict to answer with and every request reaches the dead Redis
        check_in = d0 + timedelta(days=n % 5 + (20 if n >= 10 else 0))
        body = {
            "care_recipient_id": recipient,
            "bed_id": beds[n % 3],
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
        }
        placed = await client.post("/v1/holds", json=body, headers=headers)
        statuses.append(placed.status_code)
        if placed.status_code == 201:
            hold = placed.json()
            done = await client.post(
                f"/v1/holds/{hold['hold_id']}/confirm",
                json={"token": hold["token"]},
                headers={**headers, "Idempotency-Key": f"k{n}"},
            )
            statuses.append(done.status_code)

    try:
        async with serve_in_loop(app) as client:
            await asyncio.gather(*(attempt(client, n) for n in range(10)))
            own.kill()
            await asyncio.gather(*(attempt(client, n) for n in range(10, 20)))
            down = await client.post(
                "/v1/holds",
                json={
                    "care_recipient_id": recipients[0],
                    "bed_id": beds[0],
                    "check_in": (d0 + timedelta(days=40)).isoformat(),
                    "check_out": (d0 + timedelta(days=41)).isoformat(),
                },
                headers=staff[0][1],
            )
            assert down.status_code == 503
            assert down.headers["retry-after"] == "2"
            problem = down.json()
            assert (problem["type"], problem["service"], problem["retry_after"]) == (
                "/problems/holds-unavailable",
                "redis",
                2,
            )
            own.start(port=own.port)
            back = await client.post(
                "/v1/holds",
                json={
                    "care_recipient_id": recipients[0],
                    "bed_id": beds[0],
                    "check_in": (d0 + timedelta(days=50)).isoformat(),
                    "check_out": (d0 + timedelta(days=51)).isoformat(),
                },
                headers=staff[0][1],
            )
            assert back.status_code == 201, back.text
    finally:
        own.stop()
    assert 500 not in statuses and all(s < 500 or s == 503 for s in statuses), statuses
    assert 503 in statuses  # the kill really happened mid-run
    rows = await db.fetch(
        "SELECT bed_id, check_in, check_out FROM bookings WHERE status = 'confirmed'"
    )
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            assert not (
                a["bed_id"] == b["bed_id"]
                and _overlaps((a["check_in"], a["check_out"]), (b["check_in"], b["check_out"]))
            )


async def test_postgres_briefly_down_fails_fast_and_the_pool_recovers(
    settings: Settings, private_dir: Path, template_db: str, servers: Any, clock: ManualClock
) -> None:
    own = LocalPostgres(private_dir / "postgres", durable=False)
    own.start()
    app = create_app(
        msgspec.structs.replace(
            settings,
            database_url=own.url,
            db_connect_timeout=1.0,
            db_acquire_timeout=1.0,
            db_pool_min=1,
        ),
        clock=clock,
        configure_logs=False,
    )
    try:
        async with serve_in_loop(app) as client:
            assert (await client.get("/health/ready")).status_code == 200
            own.stop()
            started = asyncio.get_running_loop().time()
            down = await client.get("/health/ready")
            assert down.status_code == 503
            assert down.json()["failed"] == ["database"]
            registered = await client.post(
                "/v1/auth/signin", json={"login": "a@b.cn", "password": "whatever"}
            )
            assert registered.status_code == 503
            problem = registered.json()
            assert (problem["type"], problem["service"]) == ("/problems/unavailable", "database")
            assert registered.headers["Retry-After"] == str(problem["retry_after"])
            assert asyncio.get_running_loop().time() - started < 10
            own.start(port=own.port)
            for _ in range(20):
                if (await client.get("/health/ready")).status_code == 200:
                    break
                await asyncio.sleep(0.25)
            assert (await client.get("/health/ready")).status_code == 200
    finally:
        own.stop()
