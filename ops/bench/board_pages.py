"""The desk's board page beside the JSON board (issue 15): 300 beds × 31 nights.

    .venv/bin/python ops/bench/board_pages.py            # 30 turns of 20 requests a side
    .venv/bin/python ops/bench/board_pages.py --quick    # 6 turns of 10, well under a minute

Starts private PostgreSQL and Redis in a temporary folder, loads ``board.py``'s facility
(300 beds, stays at about 70 % of the nights, Chinese names, 20 live holds in Redis), and
serves the app in process (httpx over ASGI, in this event loop: no thread, no socket; the
lifespan runs as for a real server). One staff member asks, alternately:

- ``json``: ``GET /v1/facilities/{id}/board?start=..&end=..`` (bearer token);
- ``page``: ``GET /desk/board?start=..&nights=31`` (the same token as the session cookie),

both with ``Accept-Encoding: gzip`` and ``Accept-Language: zh-CN``, as a browser at a
Chinese desk sends. Before timing, the page must show every bed and the JSON's totals. The
sides take turns (``--turns`` of ``--per-turn`` requests each, the side going first
alternating) so that whatever else the machine does falls on both alike. Printed: each
side's median and p90 (ms, the whole request through the app: routing, authentication, the
use case, rendering or encoding, compression), their ratio (issue: page ≤ 1.5 × JSON), and
the page's size as sent, compressed (issue: ≤ 150 KB), and uncompressed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from board import START, prepare, put_holds

from respite.app import create_app
from respite.auth.guards import SESSION_COOKIE
from respite.dev.servers import local_servers
from respite.settings import Settings

PAGE_LIMIT_RATIO = 1.5
PAGE_LIMIT_KB = 150


async def check(http: httpx.AsyncClient, urls: dict[str, str], beds: int) -> int:
    """Both answer 200; the page has a row per bed and the JSON's free counts. Returns the
    page's compressed size in bytes, as it was sent."""
    api = await http.get(urls["json"])
    page = await http.get(urls["page"])
    assert api.status_code == 200, api.text
    assert page.status_code == 200, page.text[:2000]
    assert page.headers.get("content-encoding") == "gzip", page.headers
    assert page.text.count('<th role="rowheader" scope="row">B-') == beds
    free = re.search(r"<tr role=\"row\"><th[^>]*>空闲</th>(.*?)</tr>", page.text)
    assert free is not None
    shown = re.findall(r"<td>(\d+)</td>", free[1])
    assert shown == [str(n["free"]) for n in api.json()["totals"]], "the totals differ"
    print(
        f"JSON: {len(api.content) / 1024:.0f} KiB ({api.num_bytes_downloaded / 1024:.0f} KiB "
        f"gzip); page: {len(page.content) / 1024:.0f} KiB "
        f"({page.num_bytes_downloaded / 1024:.1f} KiB gzip)"
    )
    return page.num_bytes_downloaded


async def turns(http: httpx.AsyncClient, urls: dict[str, str], args: Any) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"json": [], "page": []}
    for turn in range(args.turns):
        for side in ("json", "page") if turn % 2 == 0 else ("page", "json"):
            for _ in range(args.per_turn):
                began = time.perf_counter()
                answer = await http.get(urls[side])
                samples[side].append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.status_code
    return samples


async def bench(database_url: str, redis_url: str, args: argparse.Namespace) -> bool:
    staff, token = await prepare(database_url, args.beds, args.nights)
    facility = staff.facility_id
    client = redis.Redis.from_url(redis_url)
    try:
        await put_holds(client, facility or 0, args.beds, 20)
    finally:
        await client.aclose()
    settings = Settings(
        database_url=database_url, redis_url=redis_url, log_format="text", log_level="WARNING"
    )
    app = create_app(settings, configure_logs=False)
    end = START + timedelta(days=args.nights)
    urls = {
        "json": f"/v1/facilities/{facility}/board?start={START}&end={end}",
        "page": f"/desk/board?start={START}&nights={args.nights}",
    }
    headers = {"Accept-Encoding": "gzip", "Accept-Language": "zh-CN"}
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            http.cookies.set(SESSION_COOKIE, token)  # the page's session; the API's bearer:
            http.headers["Authorization"] = f"Bearer {token}"
            size = await check(http, urls, args.beds)
            warm = argparse.Namespace(turns=2, per_turn=5)
            await turns(http, urls, warm)
            samples = await turns(http, urls, args)
    medians = {side: statistics.median(ms) for side, ms in samples.items()}
    for side, ms in samples.items():
        p90 = statistics.quantiles(ms, n=10)[8]
        print(f"{side:5} median {medians[side]:7.2f} ms   p90 {p90:7.2f} ms   (n={len(ms)})")
    ratio = medians["page"] / medians["json"]
    kb = size / 1000
    print(f"page / JSON median: {ratio:.2f} (limit {PAGE_LIMIT_RATIO})")
    print(f"page compressed: {kb:.1f} KB (limit {PAGE_LIMIT_KB} KB)")
    return ratio <= PAGE_LIMIT_RATIO and kb <= PAGE_LIMIT_KB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="6 turns of 10 requests a side")
    parser.add_argument("--beds", type=int, default=300)
    parser.add_argument("--nights", type=int, default=31)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--per-turn", type=int, default=20)
    args = parser.parse_args(argv)
    if args.quick:
        args.turns, args.per_turn = 6, 10
    folder = Path(tempfile.mkdtemp(prefix="respite-bench-board-pages-"))
    folder.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must reach its folder
    try:
        with local_servers(folder, durable=False) as (postgres, redis_server):
            within = asyncio.run(bench(postgres.url, redis_server.url, args))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
