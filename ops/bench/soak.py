"""Soak: mixed traffic at half the measured capacity, then a look for leaks.

    .venv/bin/python ops/bench/soak.py              # 10 minutes of traffic (~13 minutes)
    .venv/bin/python ops/bench/soak.py --quick      # 60 s of traffic (~3 minutes)

One app process (uvicorn, one worker) on a private city (``datagen``, 90 nights of bookings).
The mix, by operation: 4 in 10 are searches (``GET /v1/availability``), 3 in 10 holds left to
expire, 2 in 10 a hold then its confirm, 1 in 10 a hold, its confirm and a cancel. Holds live
``RESPITE_HOLD_TTL_SECONDS=30`` (the least allowed), so that expiry is exercised throughout.

1. capacity: 16 closed-loop callers of the mix for ``--probe`` seconds: operations/s;
2. the soak: open loop at half that rate for ``--seconds``; the app's resident memory
   (VmRSS) is sampled every 5 s;
3. afterwards, once every hold has expired and its keys' 60 s of grace have passed: hold keys
   left in Redis, hold entries left in them, and the app's PostgreSQL connections by state.

Passes when RSS grew by less than 10 % from the end of minute 2 (or 20 % of the run, when
shorter) to the end, no hold key is left, and no connection is active or idle in a
transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import availability
import holds
from common import HttpClient, app_server, closed_loop, load_city, percentile, private_servers

__all__ = ["main", "soak"]

HOLD_TTL = 30
KEY_GRACE = 60  # the hold scripts keep a facility's key a minute past its last hold


class Mix:
    """One operation of the mix per call; returns a label of what happened."""

    def __init__(self, http: HttpClient, scene: holds.Scene, searches: list[str]) -> None:
        self.http = http
        self.scene = scene
        self.searches = searches

    async def __call__(self, i: int) -> str:
        kind = i % 10
        if kind < 4:
            status, _ = await self.http.request("GET", self.searches[i % len(self.searches)])
            return f"search {status}"
        auth = self.scene.auth(i)
        body = holds.stay_body(*self.scene.slot())
        status, answer = await self.http.request("POST", "/v1/holds", body, auth)
        if status != 201 or kind < 7:
            return f"hold {status}"
        hold = json.loads(answer)
        headers = {**auth, "Idempotency-Key": f"s-{hold['hold_id']}"}
        path = f"/v1/holds/{hold['hold_id']}/confirm"
        status, answer = await self.http.request("POST", path, {"token": hold["token"]}, headers)
        if status != 201 or kind < 9:
            return f"confirm {status}"
        path = f"/v1/bookings/{json.loads(answer)['id']}/cancel"
        # A key of its own: one key names one request, and a cancel is not a confirm.
        headers["Idempotency-Key"] = f"x-{hold['hold_id']}"
        status, _ = await self.http.request("POST", path, {"reason": "soak"}, headers)
        return f"cancel {status}"


async def open_loop(mix: Mix, rate: float, seconds: float, sample: Any) -> dict[str, Any]:
    """Operations at fixed times (latency from the scheduled time); ``sample`` every 5 s."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    tasks = []

    async def one(i: int, due: float) -> None:
        label = await mix(i)
        latencies.append((time.perf_counter() - due) * 1000)
        outcomes[label] = outcomes.get(label, 0) + 1

    start = time.perf_counter()
    next_sample = start
    for i in range(int(rate * seconds)):
        due = start + i / rate
        if due >= next_sample:
            sample(due - start)
            next_sample += 5
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
        if len(tasks) > 1000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)
    sample(time.perf_counter() - start)
    return {
        "operations": len(latencies),
        "rate": rate,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "p99_9_ms": round(percentile(latencies, 99.9), 2),
        "outcomes": dict(sorted(outcomes.items())),
    }


async def leaks(dsn: str, redis_url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match="*:holds", count=1000)]
        entries = 0
        for key in keys:
            if await client.type(key) == b"hash":
                entries += await client.hlen(key)
            else:
                entries += await client.zcard(key)
        total_keys = await client.dbsize()
    finally:
        await client.aclose()
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT coalesce(state, '?') AS state, count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1"
        )
    finally:
        await conn.close()
    return {
        "hold_keys_left": len(keys),
        "hold_entries_left": entries,
        "redis_keys_total": total_keys,
        "app_connections": {r["state"]: r["n"] for r in rows},
    }


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"settings": vars(args).copy()}
    size = availability.Size(beds=args.beds, facilities=args.beds // 20)
    queries = availability.searches(size, 2000, 60, seed=5)
    searches = ["/v1/availability?" + urlencode(q) for q in queries]
    with private_servers() as (postgres, redis_server):
        dsn, result["data"] = await load_city(
            postgres.url, "bench_soak", args.beds, args.beds // 20, 90, args.elders
        )
        scene = await holds.scene(dsn, 64)
        env = {"hold_cap_staff": "1000000", "hold_ttl_seconds": str(HOLD_TTL)}
        with app_server(dsn, redis_server.url, **env) as app:
            http = HttpClient(app.port)
            mix = Mix(http, scene, searches)
            probe = await closed_loop("capacity", mix, 16, args.probe)
            capacity = probe.figures()["per_second"]
            result["capacity"] = probe.figures()
            samples: list[tuple[float, int]] = []

            def sample(at: float) -> None:
                samples.append((round(at, 1), app.memory_kib()["VmRSS"]))

            result["soak"] = await open_loop(mix, capacity / 2, args.seconds, sample)
            await http.close()
            mark = 120.0 if args.seconds >= 600 else args.seconds * 0.2
            early = next(rss for at, rss in samples if at >= mark)
            late = samples[-1][1]
            result["memory"] = {
                "rss_kib_at_mark": early,
                "mark_seconds": mark,
                "rss_kib_at_end": late,
                "growth": round(late / early - 1, 4),
                "peak_kib": app.memory_kib()["VmHWM"],
                "samples": samples,
            }
            await asyncio.sleep(HOLD_TTL + KEY_GRACE + 5)  # every hold and key past its expiry
            result["after"] = await leaks(dsn, redis_server.url)
    after, memory = result["after"], result["memory"]
    result["passed"] = {
        "rss_growth_below_10pct": memory["growth"] < 0.10,
        "no_hold_left": after["hold_keys_left"] == 0 and after["hold_entries_left"] == 0,
        "pool_idle": not {"active", "idle in transaction"} & set(after["app_connections"]),
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 beds, 60 s of traffic")
    parser.add_argument("--beds", type=int, default=10_000)
    parser.add_argument("--elders", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=600.0, help="of soak traffic")
    parser.add_argument("--probe", type=float, default=15.0, help="seconds of capacity probe")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.beds, args.elders, args.seconds, args.probe = 2_000, 6_000, 60.0, 6.0
    result = asyncio.run(soak(args))
    printable = {k: v for k, v in result.items() if k != "memory"}
    printable["memory"] = {k: v for k, v in result["memory"].items() if k != "samples"}
    print(json.dumps(printable, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
