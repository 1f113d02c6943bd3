"""Business figures for operators, read from PostgreSQL when ``/metrics`` is scraped.

They are facts of the database, not of the process answering the scrape: several app processes
behind a load balancer each report the same figures (aggregate them with ``max``, never
``sum``), and a restart loses none. One scrape runs a few aggregate queries in one read-only
snapshot, each served by an index (``sql/0014``), under a short statement timeout; when the
database does not answer in time, the scrape still answers everything the process knows of
itself, with ``respite_figures_up 0``.

Holds are counted from ``hold_starts`` and ``ended_holds`` (``holds/starts.py``, ``ends.py``)
plus ``hold_tally``, where the purge folds their old rows. A hold *expired* once its maximum
age (``RESPITE_HOLD_MAX_AGE_SECONDS``) passed without a confirm or a release: until then, an
expired hold may still be confirmed (DESIGN.md §6). It is counted as expired only a request's
time limit after that, so that a confirm begun at the last moment has ended either way and no
count ever goes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final, get_args

import asyncpg
import msgspec
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from respite.booking.model import Status
from respite.db import Pool

__all__ = ["Figures", "FiguresCollector", "read_figures"]

log = logging.getLogger("respite.figures")

# Well under a scraper's usual 10 s: a slow figure must not cost the process's own.
STATEMENT_TIMEOUT_MS: Final = 2_000
READ_TIMEOUT_SECONDS: Final = 3.0
BOOKING_STATUSES: Final[tuple[str, ...]] = get_args(Status)

COUNT_BOOKINGS: Final = "SELECT status, count(*) FROM bookings GROUP BY status"

COUNT_OVERRIDES: Final = """
SELECT o.rule ->> 'code' AS rule, count(*) AS n
FROM bookings b CROSS JOIN LATERAL jsonb_array_elements(b.overrides) AS o (rule)
WHERE b.override_reason IS NOT NULL
GROUP BY 1
"""

COUNT_OVERRIDDEN_BOOKINGS: Final = "SELECT count(*) FROM bookings WHERE override_reason IS NOT NULL"

# $1: holds whose maximum age passed before this, unended, are expired.
COUNT_HOLDS: Final = """
SELECT t.placed + h.placed AS placed, t.confirmed + h.confirmed AS confirmed,
       t.released + h.released AS released, t.expired + h.expired AS expired
FROM hold_tally t, (
    SELECT count(*) AS placed,
           count(*) FILTER (WHERE e.ended = 'confirmed') AS confirmed,
           count(*) FILTER (WHERE e.ended = 'released') AS released,
           count(*) FILTER (WHERE e.ended IS NULL AND s.max_expires_at < $1) AS expired
    FROM hold_starts s LEFT JOIN ended_holds e ON e.hold_id = s.hold_id
) h
"""

# A pending callback has waited since the first attempt of its round (a redelivery starts a
# new one), or, not attempted yet, since it was due. $1: now.
COUNT_DELIVERIES: Final = """
SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead') AS dead,
       coalesce(extract(epoch FROM $1::timestamptz - (
           SELECT min(coalesce(first_attempt_at, next_attempt_at))
           FROM webhook_deliveries WHERE status = 'pending')), 0)::float8 AS oldest_seconds
"""


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    """The figures of one scrape."""

    bookings: dict[str, int]
    overridden_bookings: int
    overridden_rules: dict[str, int]
    holds_placed: int
    holds_confirmed: int
    holds_released: int
    holds_expired: int
    deliveries_pending: int
    deliveries_dead: int
    oldest_pending_seconds: float
    read_seconds: float


async def read_figures(pool: Pool, now: datetime, expiry_grace: timedelta) -> Figures | None:
    """The figures as of ``now`` (the app's clock), or None when the database does not answer
    within ``READ_TIMEOUT_SECONDS``."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            return await _read(pool, now, expiry_grace, started)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        log.warning("figures not read: %s", type(exc).__name__, extra={"error": type(exc).__name__})
        return None


async def _read(pool: Pool, now: datetime, grace: timedelta, started: float) -> Figures:
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        await conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        bookings = dict.fromkeys(BOOKING_STATUSES, 0)
        bookings.update({r["status"]: r["count"] for r in await conn.fetch(COUNT_BOOKINGS)})
        rules = {r["rule"]: r["n"] for r in await conn.fetch(COUNT_OVERRIDES)}
        overridden = await conn.fetchval(COUNT_OVERRIDDEN_BOOKINGS)
        holds = await conn.fetchrow(COUNT_HOLDS, now - grace)
        deliveries = await conn.fetchrow(COUNT_DELIVERIES, now)
    assert holds is not None and deliveries is not None  # aggregates always answer a row
    return Figures(
        bookings=bookings,
        overridden_bookings=overridden,
        overridden_rules=rules,
        holds_placed=holds["placed"],
        holds_confirmed=holds["confirmed"],
        holds_released=holds["released"],
        holds_expired=holds["expired"],
        deliveries_pending=deliveries["pending"],
        deliveries_dead=deliveries["dead"],
        oldest_pending_seconds=max(0.0, deliveries["oldest_seconds"]),
        read_seconds=time.perf_counter() - started,
    )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class FiguresCollector(Collector):
    """The figures of one scrape as Prometheus metrics (only ``respite_figures_up 0`` when
    they could not be read)."""

    def __init__(self, figures: Figures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        yield _gauge(
            "respite_figures_up",
            "1 when this scrape read the business figures from PostgreSQL, 0 when it could not",
            0 if figures is None else 1,
        )
        if figures is None:
            return
        yield _gauge(
            "respite_figures_read_seconds",
            "Time this scrape took to read the business figures",
            figures.read_seconds,
        )
        yield from _booking_metrics(figures)
        yield from _hold_metrics(figures)
        yield from _delivery_metrics(figures)


def _booking_metrics(figures: Figures) -> Iterator[Metric]:
    bookings = GaugeMetricFamily(
        "respite_bookings",
        "Bookings now in each status (all time, from PostgreSQL)",
        labels=["status"],
    )
    for status, count in sorted(figures.bookings.items()):
        bookings.add_metric([status], count)
    yield bookings
    yield _counter(
        "respite_overridden_bookings_total",
        "Bookings made with an eligibility override by staff or an admin (walk-ins)",
        figures.overridden_bookings,
    )
    rules = CounterMetricFamily(
        "respite_overridden_rules_total",
        "Eligibility rules overridden when booking, by rule code: one per rule per booking",
        labels=["rule"],
    )
    for rule, count in sorted(figures.overridden_rules.items()):
        rules.add_metric([rule], count)
    yield rules


def _hold_metrics(figures: Figures) -> Iterator[Metric]:
    yield _counter(
        "respite_holds_placed_total",
        "Holds placed (every process, from PostgreSQL; counted since migration 0014)",
        figures.holds_placed,
    )
    yield _counter(
        "respite_holds_confirmed_total",
        "Holds placed that were confirmed into a booking",
        figures.holds_confirmed,
    )
    yield _counter(
        "respite_holds_released_total",
        "Holds placed that their holder released",
        figures.holds_released,
    )
    yield _counter(
        "respite_holds_expired_total",
        "Holds placed that ended neither confirmed nor released: counted once their maximum age"
        " (RESPITE_HOLD_MAX_AGE_SECONDS) and a request's time limit have passed, when their"
        " token can confirm nothing any more",
        figures.holds_expired,
    )


def _delivery_metrics(figures: Figures) -> Iterator[Metric]:
    deliveries = GaugeMetricFamily(
        "respite_webhook_deliveries",
        "Hospital callbacks still being tried (pending) and given up (dead)",
        labels=["status"],
    )
    deliveries.add_metric(["pending"], figures.deliveries_pending)
    deliveries.add_metric(["dead"], figures.deliveries_dead)
    yield deliveries
    yield _gauge(
        "respite_webhook_oldest_pending_age_seconds",
        "How long the oldest pending callback has waited: since the first attempt of its round,"
        " or since it was due if not attempted yet (0 when none is pending)",
        figures.oldest_pending_seconds,
    )
