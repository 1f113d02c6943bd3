"""Where the results page's time goes beyond the JSON search's: ``pages.py``'s searches
through the app in this process, one request at a time, timed and profiled.

    .venv/bin/python ops/bench/pages_profile.py               # 10,000 beds, 5 rounds of 400
    .venv/bin/python ops/bench/pages_profile.py --top 40 --sort cumtime --dump /tmp/pages

One private PostgreSQL and Redis and ``pages.py``'s city and gazetteer; the app is built with
``create_app`` and called as an ASGI app (no server, no client: no socket or HTTP parsing on
either side, so the difference is the page's own cost). Each round is ``--per-round`` new
searches asked of both sides in turn, the side going first alternating; as in ``pages.py``
no search is asked twice of a side, so nothing one search leaves in a cache serves another.
The figures: each side's CPU time per request, measured for each search on both sides one
right after the other (the page's own: the median of those differences), and, under cProfile
(CPU time), over a round more for each side, the functions that cost the page most beyond
what the JSON side spent in them (the same function on both sides: the search itself cancels
out). cProfile weighs many small calls (templates) far more than they cost: read it
for what to cut, the first line for how much was cut.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import availability
import datagen
from common import private_servers

import pages
from respite.app import create_app
from respite.settings import Settings

__all__ = ["main"]

SECRET: Final = "bench-secret"

Call = Callable[[], Any]


def _caller(app: Any, target: str, search: pages.Search, gzip: bool = True) -> Call:
    """One GET of ``target`` for ``search`` straight through the ASGI app."""
    query = urlencode(search.query).encode()
    headers = [(b"host", b"bench"), (b"accept-language", search.language.encode())]
    if gzip:
        headers.append((b"accept-encoding", b"gzip"))

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": target,
            "raw_path": target.encode(),
            "root_path": "",
            "query_string": query,
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()
            return {}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def _cpu(call: Call) -> float:
    """CPU seconds of one call (process time: what the app spent, not what it waited)."""
    start = time.process_time()
    status = await call()
    spent = time.process_time() - start
    if status != 200:
        raise RuntimeError(f"answered {status}")
    return spent


async def _paired(api: list[Call], page: list[Call]) -> list[tuple[float, float]]:
    """Each search's CPU seconds on both sides, one right after the other (the side going
    first alternating), so that whatever else the machine does weighs on both alike."""
    pairs = []
    for i, (one, other) in enumerate(zip(api, page, strict=True)):
        if i % 2 == 0:
            spent = await _cpu(one), await _cpu(other)
        else:
            page_first = await _cpu(other)
            spent = await _cpu(one), page_first
        pairs.append(spent)
    return pairs


async def _profiled(calls: list[Call]) -> pstats.Stats:
    profile = cProfile.Profile(time.process_time)
    for call in calls:
        profile.enable()
        await call()
        profile.disable()
    return pstats.Stats(profile)


def _by_function(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[int, float, float]]:
    table: dict[tuple[str, int, str], tuple[int, float, float]] = {}
    for func, (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        table[func] = (calls, tottime, cumtime)
    return table


def _name(func: tuple[str, int, str]) -> str:
    path, line, name = func
    for marker in ("site-packages/", "/src/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def report(page: pstats.Stats, api: pstats.Stats, n: int, top: int, sort: str) -> None:
    """The functions whose time (``sort``: tottime or cumtime) the page spends beyond the
    JSON side's, per request."""
    ours, theirs = _by_function(page), _by_function(api)
    column = 1 if sort == "tottime" else 2
    rows = []
    for func, figures in ours.items():
        other = theirs.get(func, (0, 0.0, 0.0))
        rows.append((figures[column] - other[column], func, figures, other))
    rows.sort(reverse=True)
    total_page = sum(f[1] for f in ours.values()) / n * 1e6
    total_api = sum(f[1] for f in theirs.values()) / n * 1e6
    print(f"\nprofiled µs/request: page {total_page:.0f}, JSON {total_api:.0f}")
    print(f"{'extra µs':>9} {'page calls':>10} {'json calls':>10}  function ({sort})")
    for extra, func, figures, other in rows[:top]:
        print(f"{extra / n * 1e6:9.1f} {figures[0] / n:10.1f} {other[0] / n:10.1f}  {_name(func)}")


async def measure(args: argparse.Namespace) -> None:
    plan = datagen.Plan(
        facilities=args.beds // 20,
        beds=args.beds,
        occupancy=0.7,
        days=args.days,
        start=availability._today(),
    )
    # A search is asked once of each side (as in pages.py): what either side keeps of one
    # search (said words, prices, distances) does not serve the next.
    size = args.per_round * (args.rounds + 2)
    found = pages.searches(plan, pages.places_inside(plan), size + 100)
    with private_servers() as (postgres, redis_server):
        dsn, _, _ = await pages.load(postgres.url, plan)
        settings = Settings(
            database_url=dsn,
            redis_url=redis_server.url,
            secret_key=SECRET,
            environment="development",
            webhook_worker=False,
            log_level="WARNING",
        )
        app = create_app(settings)
        async with app.lifespan():
            calls = {
                side: [_caller(app, target, s) for s in found]
                for side, target in (("api", pages.API), ("page", pages.PAGE))
            }
            await _paired(calls["api"][-100:], calls["page"][-100:])  # warm: pool, statements
            rounds = []
            for n in range(args.rounds):
                part = slice(n * args.per_round, (n + 1) * args.per_round)
                rounds.append(await _paired(calls["api"][part], calls["page"][part]))
            every = [pair for one in rounds for pair in one]
            api_ms = statistics.median(a for a, _ in every) * 1000
            page_ms = statistics.median(p for _, p in every) * 1000
            own = [(p - a) * 1000 for a, p in every]
            print(
                f"CPU ms per request, {len(every)} searches: JSON {api_ms:.3f}, page"
                f" {page_ms:.3f} (medians; ratio {page_ms / api_ms:.3f}); the page's own, paired:"
                f" median {statistics.median(own):.3f}, mean {statistics.mean(own):.3f}"
            )
            print(
                "  by round, the page's own (median): "
                + ", ".join(
                    f"{statistics.median((p - a) * 1000 for a, p in one):.3f}" for one in rounds
                )
            )
            if args.top or args.dump:
                # Each side on searches of its own: neither finds the other's in a cache.
                first = args.rounds * args.per_round
                page_stats = await _profiled(calls["page"][first : first + args.per_round])
                api_stats = await _profiled(calls["api"][first + args.per_round : size])
                report(page_stats, api_stats, args.per_round, args.top, args.sort)
                if args.dump:
                    page_stats.dump_stats(f"{args.dump}.page")
                    api_stats.dump_stats(f"{args.dump}.api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beds", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-round", type=int, default=400, help="searches per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--top", type=int, default=30, help="functions listed; 0: none")
    parser.add_argument("--sort", choices=("tottime", "cumtime"), default="tottime")
    parser.add_argument("--dump", help="also write both sides' pstats to DUMP.page, DUMP.api")
    args = parser.parse_args(argv)
    asyncio.run(measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
