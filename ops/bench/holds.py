"""Holds and confirms per second over HTTP, beside the raw Redis and PostgreSQL floors.

    .venv/bin/python ops/bench/holds.py            # 10,000 beds, ~3 minutes on 2 cores
    .venv/bin/python ops/bench/holds.py --quick    # 2,000 beds, ~1 minute

Private PostgreSQL and Redis start in a temporary folder; ``datagen`` loads the city (bookings
over the next ``--days`` nights, 70 % occupied) and walk-in elders with a fresh assessment.
The app runs as ``respite serve`` (uvicorn, one worker, the default pool of 10) with the
per-principal hold cap raised (``RESPITE_HOLD_CAP_STAFF``: admins count as staff), since a
benchmark client places thousands of holds under a handful of principals.

For 16 and 64 concurrent clients (closed loop), it measures

- ``POST /v1/holds`` on distinct (bed, stay) slots after the loaded data (no conflicts), then
  ``POST /v1/holds/{id}/confirm`` of the holds just placed;
- the floors in the same run and at the same concurrency: ``GET /health/live`` (a trivial JSON
  endpoint of the same server), the hold PLACE Lua script by ``EVALSHA`` through redis-py, and
  a booking row plus its nights inserted through asyncpg (the statements ``claim_nights``
  runs) in one transaction;

then contention: 64 clients racing for stays of 1-3 nights on 20 hot beds in a 30-night
window, each placed hold confirmed at once, with ``pg_stat_database.deadlocks`` read before
and after and a search for overlapping bookings of one bed (both must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import App, HttpClient, Run, app_server, closed_loop, load_city, private_servers

from respite.auth.service import create_principal, issue_token
from respite.booking import queries as booking_queries
from respite.db import create_pool
from respite.holds.store import HoldStore, StoredHold
from respite.nights import CLAIM_NIGHTS
from respite.settings import Settings

__all__ = ["Scene", "main", "measure", "scene", "server_versions", "stay_body"]

HOT_BEDS = 20
FIRST_NIGHT = 100  # days from today: after the loaded bookings
SLOT_NIGHTS = 2
HOT_WINDOW = (310, 340)  # days from today: still within the assessments' year

DOUBLE_BOOKINGS = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.bed_id = b.bed_id AND a.id < b.id
 AND daterange(a.check_in, a.check_out) && daterange(b.check_in, b.check_out)
WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""
DEADLOCKS = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"


class Scene:
    """Beds, elders and tokens of the run, and a dealer of (bed, elder, stay) that never
    hands out the same bed night twice."""

    def __init__(self, beds: list[Any], elders: dict[str, list[int]], tokens: list[str]) -> None:
        self.beds = beds
        self.elders = elders
        self.tokens = tokens
        self.next_slot = 0
        self.next_elder = {"female": 0, "male": 0}
        self.today = date.today()

    def elder_for(self, sex_rule: str) -> int:
        sex = sex_rule if sex_rule in self.elders else ("female", "male")[self.next_slot % 2]
        pool = self.elders[sex]
        self.next_elder[sex] += 1
        return pool[self.next_elder[sex] % len(pool)]

    def slot(self) -> tuple[Any, int, date, date]:
        k = self.next_slot
        self.next_slot += 1
        spread = len(self.beds) - HOT_BEDS
        bed = self.beds[HOT_BEDS + k % spread]
        check_in = self.today + timedelta(days=FIRST_NIGHT + SLOT_NIGHTS * (k // spread))
        if (check_in - self.today).days >= HOT_WINDOW[0]:
            raise RuntimeError("out of free slots: use fewer seconds or more beds")
        return bed, self.elder_for(bed["sex_rule"]), check_in, check_in + timedelta(SLOT_NIGHTS)

    def auth(self, i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}


async def scene(dsn: str, clients: int) -> Scene:
    conn = await asyncpg.connect(dsn)
    try:
        beds = await conn.fetch(
            "SELECT id, facility_id, sex_rule, nightly_price FROM beds WHERE kind = 'respite'"
            " ORDER BY id"
        )
        elders: dict[str, list[int]] = {"female": [], "male": []}
        for row in await conn.fetch(
            "SELECT r.id, r.sex FROM care_recipients r JOIN assessments a"
            " ON a.care_recipient_id = r.id ORDER BY r.id"
        ):
            elders[row["sex"]].append(row["id"])
        tokens = []
        for n in range(clients):
            principal = await create_principal(conn, "admin", f"bench {n}")
            tokens.append((await issue_token(conn, principal, None)).token)
    finally:
        await conn.close()
    random.Random(3).shuffle(beds := list(beds))
    return Scene(beds, elders, tokens)


def stay_body(bed: Any, elder: int, check_in: date, check_out: date) -> dict[str, Any]:
    return {
        "care_recipient_id": elder,
        "bed_id": bed["id"],
        "check_in": check_in.isoformat(),
        "check_out": check_out.isoformat(),
    }


async def http_runs(http: HttpClient, s: Scene, clients: int, seconds: float) -> list[Run]:
    placed: list[tuple[int, dict[str, Any]]] = []

    async def place(i: int) -> int:
        status, body = await http.request("POST", "/v1/holds", stay_body(*s.slot()), s.auth(i))
        if status == 201:
            placed.append((i, json.loads(body)))
        return status

    async def confirm(i: int) -> int:
        n, hold = placed[i]
        headers = {**s.auth(n), "Idempotency-Key": f"c-{hold['hold_id']}"}
        path = f"/v1/holds/{hold['hold_id']}/confirm"
        return (await http.request("POST", path, {"token": hold["token"]}, headers))[0]

    async def live(i: int) -> int:
        return (await http.request("GET", "/health/live"))[0]

    holds = await closed_loop(f"http_hold_{clients}", place, clients, seconds)
    confirms = await closed_loop(
        f"http_confirm_{clients}", confirm, clients, seconds, jobs=len(placed)
    )
    trivial = await closed_loop(f"http_trivial_{clients}", live, clients, seconds / 2)
    return [holds, confirms, trivial]


async def floor_runs(
    dsn: str, redis_url: str, s: Scene, clients: int, seconds: float, pool_size: int
) -> list[Run]:
    client = redis.Redis.from_url(redis_url)
    store = HoldStore(client)
    pool = await create_pool(Settings(db_pool_min=pool_size, db_pool_max=pool_size), dsn)
    booked_by = await pool.fetchval("SELECT min(id) FROM principals WHERE role = 'admin'")

    async def evalsha(i: int) -> str:
        bed, elder, check_in, check_out = s.slot()
        now = time.time()
        hold = StoredHold(
            bed_id=bed["id"],
            check_in=check_in.isoformat(),
            check_out=check_out.isoformat(),
            expires_at=now + 600,
            created_at=now,
            principal_id=1,
            care_recipient_id=elder,
            token_hash=secrets.token_hex(16),
        )
        placed = await store.place(bed["facility_id"], f"raw-{i}-{clients}", hold, now)
        return "placed" if placed.placed else "conflict"

    async def insert(i: int) -> str:
        bed, elder, check_in, check_out = s.slot()
        nights = (check_out - check_in).days
        price = bed["nightly_price"]
        async with pool.acquire() as conn, conn.transaction():
            booking = await conn.fetchval(
                booking_queries.INSERT_BOOKING,
                *(bed["id"], bed["facility_id"], elder, check_in, check_out, price),
                *(price * nights, None, None, None, booked_by, None, None),
            )
            await conn.execute(CLAIM_NIGHTS, bed["id"], check_in, check_out, booking, None)
        return "inserted"

    try:
        return [
            await closed_loop(f"raw_evalsha_{clients}", evalsha, clients, seconds / 2),
            await closed_loop(f"raw_pg_insert_{clients}", insert, clients, seconds / 2),
        ]
    finally:
        await pool.close()
        await client.aclose()


async def contention(dsn: str, http: HttpClient, s: Scene, seconds: float) -> dict[str, Any]:
    rng = random.Random(4)
    hot = s.beds[:HOT_BEDS]

    async def attempt(i: int) -> str:
        bed = hot[rng.randrange(HOT_BEDS)]
        first = rng.randrange(HOT_WINDOW[0], HOT_WINDOW[1] - 3)
        check_in = s.today + timedelta(days=first)
        body = stay_body(
            bed, s.elder_for(bed["sex_rule"]), check_in, check_in + timedelta(1 + i % 3)
        )
        status, answer = await http.request("POST", "/v1/holds", body, s.auth(i))
        if status != 201:
            return f"hold {status}"
        hold = json.loads(answer)
        headers = {**s.auth(i), "Idempotency-Key": f"h-{hold['hold_id']}"}
        path = f"/v1/holds/{hold['hold_id']}/confirm"
        done = await http.request("POST", path, {"token": hold["token"]}, headers)
        return f"confirm {done[0]}"

    conn = await asyncpg.connect(dsn)
    try:
        before = await conn.fetchval(DEADLOCKS)
        run = await closed_loop("contention_64_on_20", attempt, 64, seconds)
        await asyncio.sleep(1)  # the statistics collector reports with a short delay
        deadlocks = await conn.fetchval(DEADLOCKS) - before
        doubles = await conn.fetchval(DOUBLE_BOOKINGS)
        booked = await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE bed_id = any($1::bigint[]) AND check_in >= $2",
            [b["id"] for b in hot],
            s.today + timedelta(days=HOT_WINDOW[0]),
        )
    finally:
        await conn.close()
    return {**run.figures(), "deadlocks": deadlocks, "double_bookings": doubles, "booked": booked}


async def server_versions(dsn: str, redis_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    client = redis.Redis.from_url(redis_url)
    try:
        postgres = await conn.fetchval("SHOW server_version")
        info = await client.info("server")
        return {"postgresql": str(postgres), "redis": str(info.get("redis_version"))}
    finally:
        await conn.close()
        await client.aclose()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"settings": vars(args).copy(), "runs": {}, "memory_kib": {}}
    with private_servers() as (postgres, redis_server):
        dsn, data = await load_city(
            postgres.url, "bench_holds", args.beds, args.beds // 20, args.days, args.elders
        )
        result["data"] = data
        result["servers"] = await server_versions(dsn, redis_server.url)
        s = await scene(dsn, 64)
        env = {"hold_cap_staff": "1000000", "db_pool_max": str(args.pool)}
        with app_server(dsn, redis_server.url, **env) as app:
            http = HttpClient(app.port)
            await closed_loop("warm", lambda i: _warm(http), 8, 2)
            for clients in args.clients:
                for run in await http_runs(http, s, clients, args.seconds):
                    result["runs"][run.name] = run.figures()
                runs = await floor_runs(dsn, redis_server.url, s, clients, args.seconds, args.pool)
                for run in runs:
                    result["runs"][run.name] = run.figures()
                print(f"  {clients} clients done", flush=True)
            result["contention"] = await contention(dsn, http, s, args.seconds)
            await http.close()
            result["memory_kib"]["app"] = _memory(app)
    return result


async def _warm(http: HttpClient) -> int:
    return (await http.request("GET", "/health/live"))[0]


def _memory(app: App) -> dict[str, int]:
    return app.memory_kib()


def print_report(result: dict[str, Any]) -> None:
    print(
        f"{'run':<22}{'clients':>8}{'n':>7}{'per s':>9}{'p50':>8}{'p99':>8}{'p99.9':>8}  statuses"
    )
    for name, f in result["runs"].items():
        print(
            f"{name:<22}{f['clients']:>8}{f['requests']:>7}{f['per_second']:>9}{f['p50_ms']:>8}"
            f"{f['p99_ms']:>8}{f['p99_9_ms']:>8}  {f['statuses']}"
        )
    c = result["contention"]
    print(
        f"contention: {c['requests']} attempts, {c['per_second']}/s, p50 {c['p50_ms']} ms,"
        f" {c['statuses']}, booked {c['booked']}, deadlocks {c['deadlocks']},"
        f" double bookings {c['double_bookings']}"
    )
    print("app memory (KiB):", result["memory_kib"]["app"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 beds, 5 s runs")
    parser.add_argument("--beds", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90, help="nights of loaded bookings")
    parser.add_argument("--elders", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="per HTTP run")
    parser.add_argument("--pool", type=int, default=Settings().db_pool_max)
    parser.add_argument(
        "--clients", type=lambda t: [int(n) for n in t.split(",")], default=[16, 64]
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.beds, args.elders, args.seconds = 2_000, 6_000, 5.0
    result = asyncio.run(measure(args))
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
