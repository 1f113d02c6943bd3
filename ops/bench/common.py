"""What the holds and soak benchmarks share: private servers, app processes, a lean HTTP
client, load loops and figures.

``availability.py`` keeps its own copies of the server start-up and of the GET-only client (it
was written first); these are the same ideas, with POST bodies, headers and the app process's
memory exposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen

from respite.db import migrate
from respite.dev.servers import LocalPostgres, LocalRedis, local_servers
from respite.eligibility.store import ensure_presets

__all__ = [
    "App",
    "Call",
    "HttpClient",
    "Run",
    "app_server",
    "closed_loop",
    "free_port",
    "load_city",
    "memory_kib",
    "migrated_database",
    "percentile",
    "private_servers",
]


ASSESSMENT_COLUMNS = [
    "care_recipient_id",
    "total",
    "base_level",
    "level",
    "assessed_on",
    "valid_until",
]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


class Run(msgspec.Struct, kw_only=True):
    name: str
    latencies_ms: list[float] = msgspec.field(default_factory=list)
    statuses: dict[str, int] = msgspec.field(default_factory=dict)
    seconds: float = 0.0
    clients: int = 0

    def count(self, status: int | str) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def figures(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "clients": self.clients,
            "requests": len(lat),
            "per_second": round(len(lat) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "p99_9_ms": round(percentile(lat, 99.9), 2),
            "statuses": dict(sorted(self.statuses.items())),
        }


Call = Callable[[int], Awaitable[int | str]]


async def closed_loop(name: str, call: Call, clients: int, seconds: float, jobs: int = 0) -> Run:
    """``clients`` callers, each sending its next call when the last is answered, for
    ``seconds`` (or until ``jobs`` calls were made, when given)."""
    run = Run(name=name, clients=clients)
    end = time.perf_counter() + seconds
    counter = iter(range(jobs or 10**12))

    async def client() -> None:
        for i in counter:
            if time.perf_counter() >= end:
                return
            sent = time.perf_counter()
            status = await call(i)
            run.latencies_ms.append((time.perf_counter() - sent) * 1000)
            run.count(status)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.seconds = time.perf_counter() - started
    return run


class HttpClient:
    """Keep-alive HTTP/1.1 over asyncio streams, one connection per caller: far less CPU per
    request than a client library, so the two cores go to the server under test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _connection(
        self, fresh: bool = False
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle and not fresh:
            return self.idle.pop()
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        payload = b"" if body is None else msgspec.json.encode(body)
        lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        for attempt in range(2):
            reader, writer = await self._connection(fresh=attempt > 0)
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                answer = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError):
                # uvicorn closes keep-alive connections idle for 5 s: retry once on a new one,
                # and drop the other idle ones, which are as old.
                writer.close()
                await self.close()
                if attempt:
                    raise
                continue
            self.idle.append((reader, writer))
            return status, answer
        raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and at its peak (VmHWM) of a process, in KiB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0])
    return figures


class App(msgspec.Struct):
    proc: Any
    port: int

    def memory_kib(self) -> dict[str, int]:
        return memory_kib(self.proc.pid)


@contextlib.contextmanager
def app_server(database_url: str, redis_url: str, **env: str) -> Iterator[App]:
    """``respite serve`` (uvicorn, one worker) in a subprocess, extra ``RESPITE_*`` settings
    from ``env`` (lower-case names); stopped on the way out whatever happened."""
    port = free_port()
    environ = {
        **os.environ,
        "RESPITE_DATABASE_URL": database_url,
        "RESPITE_REDIS_URL": redis_url,
        "RESPITE_PORT": str(port),
        "RESPITE_LOG_LEVEL": "WARNING",
        "RESPITE_SECRET_KEY": "bench-secret",
        # Servers of its own, but a test instance: the development secrets will do.
        "RESPITE_ENVIRONMENT": "development",
        "RESPITE_WEBHOOK_WORKER": "false",
        **{f"RESPITE_{k.upper()}": v for k, v in env.items()},
    }
    code = "import sys; from respite.cli import main; sys.exit(main(['serve']))"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code], env=environ, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.1)
        yield App(proc, port)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def private_servers() -> Iterator[tuple[LocalPostgres, LocalRedis]]:
    folder = Path(tempfile.mkdtemp(prefix="respite-bench-"))
    folder.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must reach its data
    try:
        with local_servers(folder, durable=False) as servers:
            yield servers
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def migrated_database(admin_url: str, name: str) -> str:
    """A new database ``name`` on the server of ``admin_url`` (dropped first if there),
    migrated and with the policy presets; its DSN."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = admin_url.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await ensure_presets(conn)
    finally:
        await conn.close()
    return dsn


async def load_city(
    admin_url: str, name: str, beds: int, facilities: int, days: int, recipients: int
) -> tuple[str, dict[str, float]]:
    """A fresh migrated database with ``datagen``'s city over ``days`` from today, plus
    ``recipients`` walk-in elders (alternating sex) with a level-2 assessment from today, so
    that stays in the following year are eligible under the default respite policy."""
    dsn = await migrated_database(admin_url, name)
    plan = datagen.Plan(
        facilities=facilities, beds=beds, occupancy=0.7, days=days, start=date.today()
    )
    figures = await datagen.generate(dsn, plan, log=lambda _: None)
    await _elders(dsn, recipients)
    return dsn, figures


async def _elders(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    rng = random.Random(2)
    try:
        fids = [r[0] for r in await conn.fetch("SELECT id FROM facilities ORDER BY id")]
        first = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM care_recipients")
        rows = [
            (first + i, rng.choice(fids), f"Bench elder {i}", ("female", "male")[i % 2])
            for i in range(count)
        ]
        await conn.copy_records_to_table(
            "care_recipients",
            columns=["id", "facility_id", "name", "sex", "birth_date"],
            records=[(*r, date(1940, 1, 1)) for r in rows],
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('care_recipients', 'id'), $1)", first + count
        )
        today = date.today()
        await conn.copy_records_to_table(
            "assessments",
            columns=ASSESSMENT_COLUMNS,
            records=[(r[0], 50, 2, 2, today, today + timedelta(days=365)) for r in rows],
        )
        await conn.execute("ANALYZE care_recipients, assessments")
    finally:
        await conn.close()
