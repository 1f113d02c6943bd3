"""Availability search: the HTTP endpoint against its own SQL, at 10,000 and 100,000 beds.

    .venv/bin/python ops/bench/availability.py            # the full run (~6 minutes on 2 cores)
    .venv/bin/python ops/bench/availability.py --quick    # a smoke run (~1 minute)

Everything is private to the run: PostgreSQL and Redis start in a temporary folder
(``respite.dev.servers``), each size gets its own migrated database filled by ``datagen.py``,
and the app runs under uvicorn (one worker) in a subprocess on a free port. For each size the
same list of searches (anonymous, respite, near a random point of the city, 5 km, 3-14 nights
within the year of data) is run

- over HTTP, open loop at a fixed rate: each request has a scheduled send time and its latency
  is measured from that time, so waiting for a free connection counts; a request that cannot
  start within ``--drop-after`` seconds of its time is dropped and counted;
- as the SQL the endpoint runs for it (its page query, and the alternatives query when the
  page has fewer than three facilities, built by ``respite.availability.plan`` exactly as the
  service builds them) through an asyncpg pool of the app's size in this process, open loop
  at the same rate;
- both again closed loop, at each of ``--clients`` (2, 4 and 8 callers by default): the
  maximum throughput of a side is its best over those.

The two sides take turns, ``--slice`` seconds at a time (2 s; 0.5 s in a quick run, so that
its shorter runs still alternate about as often as a full one's), so that whatever else the
machine is doing falls on both alike.

It prints p50/p99/p99.9/max, drops and errors, the throughputs, the ratios the issue sets
(HTTP p50 <= 1.5 x SQL p50; HTTP throughput >= 70 % of SQL; p50 at the large size <= 1.5 x
at the small), and EXPLAIN (ANALYZE, BUFFERS) of one search at each size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen
from common import app_server

from respite.availability import plan
from respite.availability.model import (
    AvailabilityQuery,
    SearchParams,
    horizon,
    shifts_to_try,
    validate_query,
)
from respite.availability.policies import in_force, load_versions
from respite.availability.service import ALTERNATIVES_BELOW, MAX_ALTERNATIVES
from respite.db import create_pool, migrate
from respite.dev.servers import local_servers
from respite.settings import Settings

RADIUS_KM = 5.0
Send = Callable[[int], Awaitable[bool]]


class Size(msgspec.Struct, frozen=True):
    beds: int
    facilities: int


class Run(msgspec.Struct, kw_only=True):
    name: str
    latencies_ms: list[float]
    dropped: int = 0
    errors: int = 0
    seconds: float = 0.0
    clients: int | None = None

    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            if not ordered:
                return math.nan
            return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]

        return {
            "requests": len(ordered),
            "p50_ms": round(pct(50), 2),
            "p99_ms": round(pct(99), 2),
            "p99_9_ms": round(pct(99.9), 2),
            "max_ms": round(ordered[-1], 2) if ordered else math.nan,
            "dropped": self.dropped,
            "errors": self.errors,
            "per_second": round(self.throughput(), 1),
            "clients": self.clients,
        }


# Searches ------------------------------------------------------------------------------------


def searches(size: Size, count: int, days: int, seed: int) -> list[dict[str, str]]:
    """Query strings of anonymous searches spread over the city and the year of data."""
    rng = random.Random(seed)
    lat_min, lon_min, lat_max, lon_max = datagen.area(
        datagen.Plan(
            facilities=size.facilities, beds=size.beds, occupancy=0.7, days=days, start=date.today()
        )
    )
    # Keep the search circle inside the city, so every search sees the same density.
    margin_lat = RADIUS_KM / datagen.KM_PER_DEG_LAT
    margin_lon = margin_lat / math.cos(math.radians(datagen.CENTRE[0]))
    today = _today()
    found = []
    for _ in range(count):
        check_in = today + timedelta(days=rng.randrange(1, days - 30))
        nights = rng.randrange(3, 15)
        lat = rng.uniform(lat_min + margin_lat, lat_max - margin_lat)
        lon = rng.uniform(lon_min + margin_lon, lon_max - margin_lon)
        found.append(
            {
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=nights)).isoformat(),
                "near": f"{lat:.5f},{lon:.5f}",
                "radius_km": f"{RADIUS_KM:g}",
            }
        )
    return found


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


class Search(msgspec.Struct, frozen=True):
    """What the service runs for one search: its page statement and, when the page has
    fewer than three facilities, the alternatives statement (as the service asks for it then)."""

    page: plan.Statement
    query: AvailabilityQuery
    filters: plan.Filters

    async def run(self, conn: Any) -> None:
        rows = await conn.fetch(self.page.sql, *self.page.args)
        if len(rows) < ALTERNATIVES_BELOW:
            shifts = [0, *shifts_to_try(self.query.stay, horizon(self.query.now))]
            alternatives = plan.alternatives_statement(
                self.query,
                self.filters,
                skip=[],
                shifts=shifts,
                rows=MAX_ALTERNATIVES + len(rows),
            )
            await conn.fetch(alternatives.sql, *alternatives.args)


async def statements(dsn: str, queries: list[dict[str, str]]) -> list[Search]:
    """The SQL the service runs for each search, with the same arguments."""
    conn = await asyncpg.connect(dsn)
    try:
        versions = await load_versions(conn)
    finally:
        await conn.close()
    now, built = datetime.now(UTC), []
    for raw in queries:
        params = SearchParams(
            check_in=date.fromisoformat(raw["check_in"]),
            check_out=date.fromisoformat(raw["check_out"]),
            near=raw["near"],
            radius_km=float(raw["radius_km"]),
        )
        query = validate_query(params, now)
        policies = in_force(versions, query.kind, query.stay.check_in)
        filters = plan.filters_for(
            {code: stored.policy for code, stored in policies.items()},
            sex=None,
            needs=frozenset(),
            min_stage=0,
            home=None,
            origin=query.near,
        )
        wanted = max(query.limit + 1, ALTERNATIVES_BELOW + 1)  # as the service asks for
        built.append(Search(plan.page_statement(query, filters, wanted), query, filters))
    return built


# Load generators -----------------------------------------------------------------------------


async def _until(moment: float) -> None:
    """Wait until ``moment`` (perf_counter seconds). Event-loop timers step in milliseconds
    (uvloop's clock too), which would add up to a millisecond to every latency measured
    from a scheduled time; the last two are spent yielding instead."""
    early = moment - time.perf_counter() - 0.002
    if early > 0:
        await asyncio.sleep(early)
    while time.perf_counter() < moment:  # noqa: ASYNC110 (a deliberate, short spin)
        await asyncio.sleep(0)


async def open_loop(
    name: str,
    send: Send,
    slots: int,
    rate: float,
    seconds: float,
    drop_after: float,
    first: int = 0,
) -> Run:
    """Requests at fixed times whatever the answers do; latency from the scheduled time."""
    run = Run(name=name, latencies_ms=[])
    free = asyncio.Semaphore(slots)
    tasks = []

    async def one(i: int, due: float) -> None:
        try:
            await asyncio.wait_for(free.acquire(), max(0.0, due + drop_after - time.perf_counter()))
        except TimeoutError:
            run.dropped += 1
            return
        try:
            ok = await send(i)
        finally:
            free.release()
        run.latencies_ms.append((time.perf_counter() - due) * 1000)
        run.errors += not ok

    start = time.perf_counter() + 0.05
    for i in range(int(rate * seconds)):
        due = start + i / rate
        await _until(due)
        tasks.append(asyncio.create_task(one(first + i, due)))
    await asyncio.gather(*tasks)
    run.seconds = seconds
    return run


async def closed_loop(name: str, send: Send, clients: int, seconds: float, first: int = 0) -> Run:
    """``clients`` callers each sending the next request as soon as the last is answered."""
    run = Run(name=name, latencies_ms=[])
    end = time.perf_counter() + seconds
    counter = iter(range(first, first + 10**9))

    async def client() -> None:
        while time.perf_counter() < end:
            sent = time.perf_counter()
            ok = await send(next(counter))
            run.latencies_ms.append((time.perf_counter() - sent) * 1000)
            run.errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.seconds = time.perf_counter() - started
    return run


class HttpClient:
    """Keep-alive HTTP/1.1 over plain asyncio streams: far less CPU per request than a full
    client library, so the machine's two cores go to the server under test."""

    def __init__(self, port: int, paths: list[str]) -> None:
        self.port = port
        self.paths = paths
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self, connections: int) -> None:
        for _ in range(connections):
            self.idle.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()

    async def send(self, i: int) -> bool:
        reader, writer = await self.idle.get()
        try:
            path = self.paths[i % len(self.paths)]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            return status == 200
        except (OSError, asyncio.IncompleteReadError):
            # The server closed the connection: count an error and carry on with a new one.
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            return False
        finally:
            self.idle.put_nowait((reader, writer))


# Servers -------------------------------------------------------------------------------------


async def prepare(admin_url: str, size: Size, args: argparse.Namespace) -> str:
    name = f"bench_{size.beds}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = admin_url.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    layout = datagen.Plan(
        facilities=size.facilities,
        beds=size.beds,
        occupancy=args.occupancy,
        days=args.days,
        start=_today(),
    )
    figures = await datagen.generate(dsn, layout, log=lambda _: None)
    print(f"  data: {json.dumps({k: round(v, 3) for k, v in figures.items()})}", flush=True)
    return dsn


async def explain(dsn: str, statement: plan.Statement) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.args)
    finally:
        await conn.close()
    return "\n".join(r[0] for r in rows)


async def interleaved(
    sends: dict[str, Send], args: argparse.Namespace, before: Any, clients: int | None = None
) -> dict[str, Run]:
    """Run each side in turn, ``--slice`` seconds at a time, until each has had its duration:
    whatever else the machine does meanwhile falls on both sides alike. Open loop, or closed
    loop with ``clients`` callers."""
    total = args.duration if clients is None else args.closed_duration
    slices = max(1, round(total / args.slice))
    runs = {name: Run(name=name, latencies_ms=[]) for name in sends}
    for n in range(slices):
        for name, send in sends.items():
            await before(name)
            first, seconds = n * 100_000, total / slices
            if clients is None:
                part = await open_loop(
                    name, send, args.concurrency, args.rate, seconds, args.drop_after, first
                )
            else:
                part = await closed_loop(name, send, clients, seconds, first)
            run = runs[name]
            run.latencies_ms += part.latencies_ms
            run.dropped += part.dropped
            run.errors += part.errors
            run.seconds += part.seconds
    return runs


# One size ------------------------------------------------------------------------------------


async def measure(dsn: str, redis_url: str, size: Size, args: argparse.Namespace) -> dict[str, Any]:
    queries = searches(size, 2000, args.days, seed=size.beds)
    built = await statements(dsn, queries)
    paths = ["/v1/availability?" + urlencode(q) for q in queries]
    # The app's own pool factory and settings: same size, timeouts and codecs as the app's.
    settings = Settings(db_pool_min=args.pool, db_pool_max=args.pool)
    pool = await create_pool(settings, dsn)

    async def sql(i: int) -> bool:
        async with pool.acquire() as conn:
            await built[i % len(built)].run(conn)
        return True

    runs: dict[str, Run] = {}
    try:
        with app_server(dsn, redis_url) as app:
            http = HttpClient(app.port, paths)

            async def before(name: str) -> None:
                # Fresh connections: uvicorn closes those idle for 5 s (its keep-alive).
                if name == "http":
                    await http.close()
                    await http.open(args.concurrency)

            # Warm both paths (caches, prepared statements, connections) before timing.
            await before("http")
            await closed_loop("warm", http.send, args.concurrency, args.warmup)
            await closed_loop("warm", sql, args.concurrency, args.warmup)
            sides = {"sql": sql, "http": http.send}
            runs.update(
                {f"{n}_open": r for n, r in (await interleaved(sides, args, before)).items()}
            )
            for clients in args.clients:
                closed = await interleaved(sides, args, before, clients)
                for name, run in closed.items():
                    best = runs.get(f"{name}_closed")
                    if best is None or run.throughput() > best.throughput():
                        run.clients = clients
                        runs[f"{name}_closed"] = run
            await http.close()
            memory = app.memory_kib()
    finally:
        await pool.close()
    result: dict[str, Any] = {name: run.figures() for name, run in runs.items()}
    result["app_memory_kib"] = memory
    result["explain"] = await explain(dsn, built[0].page)
    result["search"] = paths[0]
    return result


def _run_like_the_app(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Measure on the event loop the app runs on (uvicorn picks uvloop when installed), so
    that the SQL side runs in the same process shape as the app."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def report(size: Size, result: dict[str, Any]) -> None:
    print(f"\n== {size.beds} beds in {size.facilities} facilities ==")
    header = f"{'run':<12}{'n':>7}{'p50':>9}{'p99':>9}{'p99.9':>9}{'max':>9}{'drop':>6}"
    print(header + f"{'err':>5}{'req/s':>9}{'clients':>9}")
    for name in ("sql_open", "http_open", "sql_closed", "http_closed"):
        f = result[name]
        print(
            f"{name:<12}{f['requests']:>7}{f['p50_ms']:>9}{f['p99_ms']:>9}{f['p99_9_ms']:>9}"
            f"{f['max_ms']:>9}{f['dropped']:>6}{f['errors']:>5}{f['per_second']:>9}"
            f"{f['clients'] or '-':>9}"
        )
    ratio = result["http_open"]["p50_ms"] / result["sql_open"]["p50_ms"]
    share = result["http_closed"]["per_second"] / result["sql_closed"]["per_second"]
    print(f"HTTP p50 / SQL p50 (open loop): {ratio:.2f}  (issue: <= 1.5)")
    print(f"HTTP / SQL max throughput (closed loop): {share:.0%}  (issue: >= 70%)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop requests/s")
    parser.add_argument("--duration", type=float, default=20.0, help="open-loop seconds")
    parser.add_argument("--closed-duration", type=float, default=6.0, help="per --clients")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8, help="open-loop connections")
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[2, 4, 8],
        help="closed-loop callers to try, e.g. 2,4,8",
    )
    parser.add_argument(
        "--pool", type=int, default=Settings().db_pool_max, help="SQL pool size, as the app's"
    )
    parser.add_argument("--drop-after", type=float, default=1.0)
    parser.add_argument(
        "--slice",
        type=float,
        help="seconds per turn when alternating sides (2; --quick 0.5, so that its short runs "
        "still alternate a dozen times)",
    )
    parser.add_argument("--occupancy", type=float, default=0.7)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--sizes", help="beds:facilities,... (default 10000:500,100000:5000; --quick smaller)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    default = "2000:100,20000:1000" if args.quick else "10000:500,100000:5000"
    sizes = [Size(*map(int, part.split(":"))) for part in (args.sizes or default).split(",")]
    if args.quick:
        args.duration, args.closed_duration, args.warmup = 6.0, 2.0, 1.0
    if args.slice is None:
        # A quick run's 6 s in 2 s turns alternated each side three times: one burst of other
        # work on the machine then fell on one side and moved the ratio by a third.
        args.slice = 0.5 if args.quick else 2.0
    print("command:", " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="respite-bench-"))
    folder.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must reach its data
    results: dict[str, Any] = {}
    try:
        with local_servers(folder, durable=False) as (postgres, redis):
            for size in sizes:
                print(f"\n-- loading {size.beds} beds in {size.facilities} facilities", flush=True)
                dsn = asyncio.run(prepare(postgres.url, size, args))
                result = _run_like_the_app(measure(dsn, redis.url, size, args))
                results[str(size.beds)] = result
                report(size, result)
                print("\nEXPLAIN (ANALYZE, BUFFERS) of", result["search"])
                print(result["explain"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if len(sizes) > 1:
        small, large = results[str(sizes[0].beds)], results[str(sizes[-1].beds)]
        growth = large["http_open"]["p50_ms"] / small["http_open"]["p50_ms"]
        print(
            f"\nHTTP p50 at {sizes[-1].beds} / at {sizes[0].beds} beds: {growth:.2f}"
            "  (issue: <= 1.5)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
