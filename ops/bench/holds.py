"""Holds and confirms per second over HTTP, beside a floor of the same statements and scripts.

    .venv/bin/python ops/bench/holds.py            # 10,000 beds, ~5 minutes on 2 cores
    .venv/bin/python ops/bench/holds.py --quick    # 2,000 beds, ~2 minutes

Private PostgreSQL and Redis start in a temporary folder; ``datagen`` loads the city (bookings
over the next ``--days`` nights, 70 % occupied) and walk-in elders with a fresh assessment.
The app runs as ``respite serve`` (uvicorn, one worker, the default pool of 10) with the
per-principal hold cap raised (``RESPITE_HOLD_CAP_STAFF``: admins count as staff), since a
benchmark client places thousands of holds under a handful of principals.

First the floor is checked (``holds_floor.check``): one hold and one confirm through the use
cases in-process, and one of each through the floor, must run the same statements and scripts
in the same order, or the benchmark stops. Then, for 16 and 64 concurrent clients (closed
loop), it measures

- ``POST /v1/holds`` (with an Idempotency-Key) on distinct (bed, stay) slots after the loaded
  data (no conflicts), beside ``raw_hold``: the same statements and scripts for a slot of its
  own, run by ``holds_floor.Floor`` on an asyncpg pool of the app's size and redis-py, the two
  taking turns ``--slices`` times; then ``POST /v1/holds/{id}/confirm`` of the holds just
  placed beside ``raw_confirm`` of the floor's own holds, the same way. The ratios HTTP / raw
  are the figures that count (target >= 50 % at 16 clients);
- ``POST /v1/bookings/{id}/change`` moving the bookings just confirmed, each to a free slot
  of another bed that takes its elder (issue 17: moves per second beside the confirm rate);
- for context, at the same concurrency: ``GET /health/live`` (a trivial JSON endpoint of the
  same server), the hold PLACE Lua script alone by ``EVALSHA``, and a booking row plus its
  nights (``INSERT_BOOKING`` + ``CLAIM_NIGHTS``) inserted in one transaction;

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
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    App,
    Call,
    HttpClient,
    Run,
    app_server,
    closed_loop,
    load_city,
    private_servers,
)
from holds_floor import Caller, Floor, FloorHold, Slot, check, floor_settings

from respite.auth.service import create_principal, issue_token
from respite.booking import queries as booking_queries
from respite.cache import create_redis
from respite.db import Pool, create_pool
from respite.holds.store import HoldStore, StoredHold
from respite.nights import CLAIM_NIGHTS
from respite.settings import Settings

__all__ = ["Scene", "main", "measure", "ratios", "scene", "server_versions", "stay_body"]

TARGET = 0.5  # HTTP throughput over the floor's
TARGET_CLIENTS = 16

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
    """Beds, elders and principals of the run, and a dealer of (bed, elder, stay) that never
    hands out the same bed night twice."""

    def __init__(
        self, beds: list[Any], elders: dict[str, list[int]], callers: list[Caller]
    ) -> None:
        self.beds = beds
        self.elders = elders
        self.callers = callers
        self.tokens = [c.token for c in callers]
        self.next_slot = 0
        self.next_elder = {"female": 0, "male": 0}
        self.today = date.today()
        self.women = frozenset(elders["female"])

    def elder_for(self, sex_rule: str) -> int:
        sex = sex_rule if sex_rule in self.elders else ("female", "male")[self.next_slot % 2]
        pool = self.elders[sex]
        self.next_elder[sex] += 1
        return pool[self.next_elder[sex] % len(pool)]

    def slot(self) -> Slot:
        k = self.next_slot
        self.next_slot += 1
        spread = len(self.beds) - HOT_BEDS
        bed = self.beds[HOT_BEDS + k % spread]
        check_in = self.today + timedelta(days=FIRST_NIGHT + SLOT_NIGHTS * (k // spread))
        if (check_in - self.today).days >= HOT_WINDOW[0]:
            raise RuntimeError("out of free slots: use fewer seconds or more beds")
        return bed, self.elder_for(bed["sex_rule"]), check_in, check_in + timedelta(SLOT_NIGHTS)

    def sex_of(self, elder: int) -> str:
        return "female" if elder in self.women else "male"

    def auth(self, i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}

    def caller(self, i: int) -> Caller:
        """The principal whose token ``auth(i)`` sends."""
        return self.callers[i % len(self.callers)]


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
        callers = []
        for n in range(clients):
            principal = await create_principal(conn, "admin", f"bench {n}")
            callers.append(Caller(principal, (await issue_token(conn, principal, None)).token))
    finally:
        await conn.close()
    random.Random(3).shuffle(beds := list(beds))
    return Scene(beds, elders, callers)


def stay_body(bed: Any, elder: int, check_in: date, check_out: date) -> dict[str, Any]:
    return {
        "care_recipient_id": elder,
        "bed_id": bed["id"],
        "check_in": check_in.isoformat(),
        "check_out": check_out.isoformat(),
    }


class Side(msgspec.Struct):
    """One side of a pair of runs: its calls, and how many are left to make (None: no end)."""

    name: str
    call: Call
    left: Callable[[], int | None] = lambda: None


async def paired(sides: list[Side], clients: int, seconds: float, slices: int) -> list[Run]:
    """Each side closed loop for ``seconds`` in all, the sides taking turns ``slices`` times,
    so that whatever else the machine does falls on each alike."""
    kept: list[list[Run]] = [[] for _ in sides]
    for _ in range(slices):
        for side, runs in zip(sides, kept, strict=True):
            left = side.left()
            if left == 0:
                continue
            name = f"{side.name}_{clients}"
            runs.append(await closed_loop(name, side.call, clients, seconds / slices, left or 0))
    pairs = zip(sides, kept, strict=True)
    return [merged(f"{side.name}_{clients}", clients, runs) for side, runs in pairs]


def merged(name: str, clients: int, runs: list[Run]) -> Run:
    total = Run(name=name, clients=clients)
    for run in runs:
        total.latencies_ms += run.latencies_ms
        total.seconds += run.seconds
        for status, n in run.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + n
    return total


async def measured_runs(
    http: HttpClient, floor: Floor, s: Scene, clients: int, seconds: float, slices: int
) -> list[Run]:
    """Holds over HTTP beside the floor's holds, then confirms of each side's holds beside
    each other, then ``GET /health/live`` of the same server."""
    placed: deque[tuple[int, dict[str, Any]]] = deque()
    raw_placed: deque[FloorHold] = deque()

    async def place(i: int) -> int:
        headers = {**s.auth(i), "Idempotency-Key": f"h-{secrets.token_hex(8)}"}
        status, body = await http.request("POST", "/v1/holds", stay_body(*s.slot()), headers)
        if status == 201:
            placed.append((i, json.loads(body)))
        return status

    async def raw_place(i: int) -> str:
        raw_placed.append(await floor.hold(s.caller(i), s.slot()))
        return "placed"

    booked: dict[str, deque[tuple[int, int]]] = {"female": deque(), "male": deque()}

    async def confirm(_: int) -> int:
        n, hold = placed.popleft()
        headers = {**s.auth(n), "Idempotency-Key": f"c-{hold['hold_id']}"}
        path = f"/v1/holds/{hold['hold_id']}/confirm"
        status, body = await http.request("POST", path, {"token": hold["token"]}, headers)
        if status == 201:
            booking = json.loads(body)
            booked[s.sex_of(booking["care_recipient_id"])].append((n, booking["id"]))
        return status

    async def move(_: int) -> int:
        """A booking just confirmed moved to a free slot of another bed (issue 17)."""
        bed, _elder, check_in, check_out = s.slot()
        sex = (
            bed["sex_rule"]
            if bed["sex_rule"] in booked
            else max(booked, key=lambda k: len(booked[k]))
        )
        n, booking_id = booked[sex].popleft()
        change = {**stay_body(bed, 0, check_in, check_out), "nightly_price": bed["nightly_price"]}
        del change["care_recipient_id"]
        path = f"/v1/bookings/{booking_id}/change"
        return (await http.request("POST", path, change, s.auth(n)))[0]

    async def raw_confirm(_: int) -> str:
        await floor.confirm(raw_placed.popleft())
        return "booked"

    async def live(i: int) -> int:
        return (await http.request("GET", "/health/live"))[0]

    holds = [Side("http_hold", place), Side("raw_hold", raw_place)]
    confirms = [
        Side("http_confirm", confirm, lambda: len(placed)),
        Side("raw_confirm", raw_confirm, lambda: len(raw_placed)),
    ]
    moves = [Side("http_move", move, lambda: min(len(q) for q in booked.values()))]
    runs = await paired(holds, clients, seconds, slices)
    runs += await paired(confirms, clients, seconds, slices)
    runs += await paired(moves, clients, seconds / 2, 1)
    runs.append(await closed_loop(f"http_trivial_{clients}", live, clients, seconds / 2))
    return runs


async def context_runs(
    pool: Pool, store: HoldStore, s: Scene, clients: int, seconds: float
) -> list[Run]:
    """The old floors, for context: the hold PLACE script alone, and a booking row plus its
    nights inserted in one transaction."""
    booked_by = s.callers[0].principal.id

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
                *(price * nights, None, None, None, booked_by, None, None, []),
            )
            await conn.execute(CLAIM_NIGHTS, bed["id"], check_in, check_out, booking, None)
        return "inserted"

    return [
        await closed_loop(f"raw_evalsha_{clients}", evalsha, clients, seconds / 2),
        await closed_loop(f"raw_pg_insert_{clients}", insert, clients, seconds / 2),
    ]


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
        settings = floor_settings(args.pool)
        slots = [s.slot() for _ in range(4)]
        template, result["floor_steps"] = await check(
            dsn, redis_server.url, s.caller(0), slots, settings
        )
        print("  the floor runs what the use cases run:", flush=True)
        for what, steps in result["floor_steps"].items():
            print(f"    {what}: {', '.join(steps)}", flush=True)
        pool = await create_pool(settings, dsn)
        client = create_redis(settings, redis_server.url)
        store = HoldStore(client)
        floor = Floor(pool, store, settings, template)
        env = {"hold_cap_staff": str(settings.hold_cap_staff), "db_pool_max": str(args.pool)}
        try:
            with app_server(dsn, redis_server.url, **env) as app:
                http = HttpClient(app.port)
                await closed_loop("warm", lambda i: _warm(http), 8, 2)
                for clients in args.clients:
                    runs = await measured_runs(http, floor, s, clients, args.seconds, args.slices)
                    runs += await context_runs(pool, store, s, clients, args.seconds)
                    for run in runs:
                        result["runs"][run.name] = run.figures()
                    print(f"  {clients} clients done", flush=True)
                result["contention"] = await contention(dsn, http, s, args.seconds)
                await http.close()
                result["memory_kib"]["app"] = _memory(app)
        finally:
            await pool.close()
            await client.aclose()
    result["ratios"] = ratios(result["runs"], args.clients)
    return result


def ratios(runs: dict[str, Any], clients: list[int]) -> dict[str, dict[str, float]]:
    """HTTP throughput over the floor's, for holds and confirms, at each client count."""
    out = {}
    for c in clients:
        share = {}
        for what in ("hold", "confirm"):
            raw = runs[f"raw_{what}_{c}"]["per_second"]
            share[what] = round(runs[f"http_{what}_{c}"]["per_second"] / raw, 3) if raw else 0.0
        out[str(c)] = share
    return out


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
    print(f"HTTP / floor (target >= {TARGET:.0%} at {TARGET_CLIENTS} clients):")
    for c, share in result["ratios"].items():
        verdicts = [
            f"{what}s {value:.1%}"
            + (f" ({'met' if value >= TARGET else 'NOT met'})" if int(c) == TARGET_CLIENTS else "")
            for what, value in share.items()
        ]
        print(f"  {c} clients: " + ", ".join(verdicts))
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
    parser.add_argument("--seconds", type=float, default=15.0, help="per run of a side")
    parser.add_argument("--slices", type=int, default=3, help="turns the sides of a pair take")
    parser.add_argument("--pool", type=int, default=Settings().db_pool_max)
    parser.add_argument(
        "--clients", type=lambda t: [int(n) for n in t.split(",")], default=[16, 64]
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.beds, args.elders, args.seconds = 2_000, 6_000, 5.0
    result = run_like_the_app(measure(args))
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


def run_like_the_app(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """On the event loop the app runs on (uvicorn picks uvloop when installed), so that the
    floor runs in the same process shape as the app."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


if __name__ == "__main__":
    main()
