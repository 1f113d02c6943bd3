"""Occupancy board latency: one facility of 300 beds × 92 nights at about 70 % claimed.

    .venv/bin/python ops/bench/board.py [--beds 300] [--nights 92] [--calls 200]

Starts private PostgreSQL and Redis in a temporary folder (nothing else is touched), migrates,
loads the facility with COPY (bookings and blocks with their per-night ledger rows, elders with
Chinese names, a few live holds in Redis), then times the board three ways, each after a
warm-up, as the median and p99 of ``--calls`` sequential calls:

- ``http``: ``GET /v1/facilities/{id}/board`` through the whole app in-process (Litestar's
  AsyncTestClient: routing, auth, the service, JSON encoding), as a staff member;
- ``service``: ``occupancy_board()`` itself (one query, one Redis pipeline, the assembly);
- ``sql``: the board's one query alone, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as redis
from litestar.testing import AsyncTestClient

from respite.app import create_app
from respite.auth.model import Principal
from respite.auth.service import issue_token
from respite.clock import SystemClock
from respite.db import create_pool, migrate
from respite.deps import Deps
from respite.dev.servers import local_servers
from respite.holds.store import HoldStore, facility_key
from respite.inventory import queries as q
from respite.inventory.board import BoardQuery, occupancy_board
from respite.settings import Settings

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["秀英", "桂兰", "建国", "淑珍", "志强", "玉梅", "德明", "凤英"]
START = date(2031, 3, 1)


BOOKING_COLUMNS = [
    "id",
    "bed_id",
    "facility_id",
    "care_recipient_id",
    "check_in",
    "check_out",
    "nightly_price",
    "total_price",
    "booked_by",
]


class Stays(msgspec.Struct):
    bookings: list[tuple[Any, ...]]
    blocks: list[tuple[Any, ...]]
    ledger: list[tuple[Any, ...]]


def plan_stays(rng: random.Random, facility: int, booker: int, beds: int, nights: int) -> Stays:
    """Back-to-back stays of 2-10 nights with gaps of 0-5 (about 70 % claimed), one in ten a
    block; some begin before the window."""
    stays = Stays([], [], [])
    for bed in range(1, beds + 1):
        night = rng.randint(-4, 2)
        while night < nights:
            length = rng.randint(2, 10)
            check_in, check_out = START + timedelta(night), START + timedelta(night + length)
            if rng.random() < 0.1:
                stays.blocks.append(
                    (len(stays.blocks) + 1, bed, facility, check_in, check_out, "maintenance")
                )
                claim = (None, len(stays.blocks))
            else:
                recipient = rng.randint(1, beds)
                price = (28000, 28000 * length, booker)
                stays.bookings.append(
                    (len(stays.bookings) + 1, bed, facility, recipient, check_in, check_out, *price)
                )
                claim = (len(stays.bookings), None)
            stays.ledger += [(bed, check_in + timedelta(i), *claim) for i in range(length)]
            night += length + rng.randint(0, 5)
    stays.ledger.sort()  # nights go in sorted by (bed, night), as DESIGN.md §6 advises
    return stays


async def load(conn: asyncpg.Connection[Any], rng: random.Random, beds: int, nights: int) -> int:
    """One facility with ``beds`` beds and stays over ``nights`` nights; returns its id."""
    facility = await conn.fetchval(
        "INSERT INTO facilities (name, lat, lon) VALUES ('Bench', 31.2, 121.4) RETURNING id"
    )
    booker = await conn.fetchval(
        "INSERT INTO principals (role, name) VALUES ('admin', 'b') RETURNING id"
    )
    kinds = ["home" if i % 5 == 0 else "respite" for i in range(beds + 1)]
    await conn.copy_records_to_table(
        "beds",
        columns=["id", "facility_id", "kind", "label", "sex_rule", "nightly_price"],
        records=[(i, facility, kinds[i], f"B-{i:03d}", "any", 28000) for i in range(1, beds + 1)],
    )
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(beds + 1)]
    await conn.copy_records_to_table(
        "care_recipients",
        columns=["id", "facility_id", "name", "sex", "birth_date"],
        records=[(i, facility, names[i], "female", date(1940, 1, 1)) for i in range(1, beds + 1)],
    )
    stays = plan_stays(rng, facility, booker, beds, nights)
    await conn.copy_records_to_table("bookings", columns=BOOKING_COLUMNS, records=stays.bookings)
    await conn.copy_records_to_table(
        "blocks",
        columns=["id", "bed_id", "facility_id", "check_in", "check_out", "reason"],
        records=stays.blocks,
    )
    await conn.copy_records_to_table(
        "bed_nights", columns=["bed_id", "night", "booking_id", "block_id"], records=stays.ledger
    )
    for table in ("beds", "care_recipients", "bookings", "blocks"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    await conn.execute("ANALYZE")
    claimed = sum(START <= n[1] < START + timedelta(nights) for n in stays.ledger)
    print(
        f"loaded {beds} beds, {len(stays.bookings)} bookings, {len(stays.blocks)} blocks; "
        f"{claimed / (beds * nights):.0%} of the window's bed-nights claimed"
    )
    return int(facility)


async def put_holds(client: redis.Redis, facility: int, beds: int, count: int) -> None:
    now = time.time()
    for i in range(count):
        hold = {
            "bed_id": 1 + i * (beds // count),
            "check_in": (START + timedelta(i)).isoformat(),
            "check_out": (START + timedelta(i + 2)).isoformat(),
            "expires_at": now + 3600,
        }
        await client.hset(facility_key(facility), f"bench-{i}", msgspec.json.encode(hold))


async def timed(label: str, calls: int, call: Callable[[], Awaitable[Any]]) -> None:
    for _ in range(max(10, calls // 10)):
        await call()
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    p99 = statistics.quantiles(samples, n=100)[98]
    print(
        f"{label:8} median {statistics.median(samples):7.2f} ms   p99 {p99:7.2f} ms   (n={calls})"
    )


async def prepare(database_url: str, beds: int, nights: int) -> tuple[Principal, str]:
    """Migrate, load the facility, and mint a token for a staff member of it."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        facility = await load(conn, random.Random(20311), beds, nights)
        staff_id = await conn.fetchval(
            "INSERT INTO principals (role, name, facility_id, staff_role)"
            " VALUES ('staff', 's', $1, 'manager') RETURNING id",
            facility,
        )
        staff = Principal(
            id=staff_id, role="staff", name="s", facility_id=facility, staff_role="manager"
        )
        return staff, (await issue_token(conn, staff, None)).token
    finally:
        await conn.close()


async def time_http(settings: Settings, query: BoardQuery, token: str, calls: int) -> None:
    params = {"start": query.start.isoformat(), "end": query.end.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/v1/facilities/{query.facility_id}/board"
    async with AsyncTestClient(app=create_app(settings, configure_logs=False)) as http:
        sample = await http.get(url, params=params, headers=headers)
        assert sample.status_code == 200, sample.text
        body = sample.json()
        print(
            f"board: {len(body['beds'])} beds × {len(body['totals'])} nights, "
            f"{len(sample.content) / 1024:.0f} KiB of JSON, holds_unknown={body['holds_unknown']}"
        )
        await timed("http", calls, lambda: http.get(url, params=params, headers=headers))


async def bench(urls: tuple[str, str], args: argparse.Namespace) -> None:
    database_url, redis_url = urls
    beds, nights = args.beds, args.nights
    staff, token = await prepare(database_url, beds, nights)
    assert staff.facility_id is not None
    query = BoardQuery(facility_id=staff.facility_id, start=START, end=START + timedelta(nights))
    settings = Settings(
        database_url=database_url, redis_url=redis_url, log_format="text", log_level="WARNING"
    )
    client = redis.Redis.from_url(redis_url)
    pool = await create_pool(settings, database_url)
    deps = Deps(
        pool=pool, redis=client, holds=HoldStore(client), clock=SystemClock(), settings=settings
    )
    sql = (q.SELECT_BOARD, query.facility_id, query.start, query.end, None, None, None)
    try:
        await put_holds(client, query.facility_id, beds, 20)
        await time_http(settings, query, token, args.calls)
        await timed("service", args.calls, lambda: occupancy_board(deps, staff, query))
        await timed("sql", args.calls, lambda: pool.fetch(*sql))
        if args.explain:
            plan = await pool.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql[0], *sql[1:])
            print("\n".join(r[0] for r in plan))
    finally:
        await pool.close()
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--beds", type=int, default=300)
    parser.add_argument("--nights", type=int, default=92)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the query's plan")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="respite-bench-board-"))
    folder.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must reach its folder
    try:
        with local_servers(folder, durable=False) as (postgres, redis_server):
            urls = (postgres.url, redis_server.url)
            asyncio.run(bench(urls, args))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
