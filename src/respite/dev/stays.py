"""The demo city's stays: bookings and blocks around the day it is loaded, and both ledgers.

Every bed gets stays back to back with short gaps, now and then a block. Each stay goes to an
elder with no other stay on any of its nights nor the nights next to them — one elder, one bed
a night (invariant 7, which ``recipient_nights`` holds in the database), and no made-up runs
of nights — or, when none is free, the bed stays empty.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import msgspec

from respite.db import Conn
from respite.eligibility.store import current_policy

__all__ = ["Stock", "load_stays", "reserve_ids"]

BOOKING_COLUMNS = [
    "id",
    "bed_id",
    "facility_id",
    "care_recipient_id",
    "check_in",
    "check_out",
    "status",
    "nightly_price",
    "total_price",
    "policy_id",
    "booked_by",
]


async def reserve_ids(conn: Conn, table: str, count: int) -> list[int]:
    """``count`` ids of ``table``'s identity, for rows loaded with COPY that others refer to."""
    rows = await conn.fetch(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
        table,
        count,
    )
    return [r["id"] for r in rows]


class Stock(msgspec.Struct, frozen=True, kw_only=True):
    """What the stays are made of: beds (id, row), elders, and who booked them."""

    beds: list[tuple[int, tuple[Any, ...]]]
    elders: list[int]
    booked_by: int


class _Stays(msgspec.Struct, kw_only=True):
    """The city's bookings and blocks (rows to COPY), and the nights each elder is booked."""

    bookings: list[tuple[Any, ...]] = msgspec.field(default_factory=list)
    blocks: list[tuple[Any, ...]] = msgspec.field(default_factory=list)
    elder_nights: set[tuple[int, date]] = msgspec.field(default_factory=set)


# How many elders a stay tries, at random, before its bed stays empty for those nights.
ELDER_TRIES = 40


def _free_elder(
    rng: random.Random, stays: _Stays, elders: list[int], nights: list[date]
) -> int | None:
    """An elder with no other stay on any of ``nights`` (one elder, one bed a night), nor on
    the night before or after them: stays back to back count as one run against a policy's
    consecutive limit, and the demo would otherwise make up runs that refuse its own elders
    (one was refused for "97 consecutive nights")."""
    around = [nights[0] - timedelta(days=1), *nights, nights[-1] + timedelta(days=1)]
    for _ in range(ELDER_TRIES):
        elder = rng.choice(elders)
        if not any((elder, night) in stays.elder_nights for night in around):
            return elder
    return None


def _plan_stays(rng: random.Random, stock: Stock, today: date, policies: dict[str, int]) -> _Stays:
    """Each bed's stays from about ten days ago to 90 days ahead, back to back with short
    gaps, now and then a block; a stay for which no elder is free leaves its bed empty."""
    stays = _Stays()
    for bed_id, (facility_id, kind, *_rest, price) in stock.beds:
        day = today - timedelta(days=rng.randint(0, 10))
        while day < today + timedelta(days=90):
            day += timedelta(days=rng.choice([0, 1, 2, 3, 5, 8]))
            length = rng.randint(3, 21) if kind == "respite" else rng.randint(14, 60)
            if rng.random() < 0.05:
                stays.blocks.append(
                    (bed_id, facility_id, day, day + timedelta(days=rng.randint(1, 4)))
                )
                day = stays.blocks[-1][3]
                continue
            end = day + timedelta(days=length)
            nights = [day + timedelta(days=k) for k in range(length)]
            elder = _free_elder(rng, stays, stock.elders, nights)
            if elder is not None:
                stays.elder_nights.update((elder, night) for night in nights)
                # Whoever arrived before today is in (leaving today included); today's
                # arrivals wait for the desk to check them in.
                status = "checked_in" if day < today <= end else "confirmed"
                row = (bed_id, facility_id, elder, day, end, status, price, price * length)
                stays.bookings.append((*row, policies[kind], stock.booked_by))
            day = end
    return stays


async def load_stays(conn: Conn, rng: random.Random, stock: Stock, today: date) -> None:
    """Plan the city's stays and COPY them, with both ledgers, in the caller's transaction."""
    respite = await current_policy(conn, "cn-respite", today)
    home = await current_policy(conn, "cn-home-bed", today)
    assert respite is not None
    assert home is not None
    stays = _plan_stays(rng, stock, today, {"respite": respite.id, "home": home.id})
    bookings, blocks = stays.bookings, stays.blocks
    booking_ids = await reserve_ids(conn, "bookings", len(bookings))
    block_ids = await reserve_ids(conn, "blocks", len(blocks))
    await conn.copy_records_to_table(
        "bookings",
        columns=BOOKING_COLUMNS,
        records=[(bid, *b) for bid, b in zip(booking_ids, bookings, strict=True)],
    )
    await conn.copy_records_to_table(
        "blocks",
        columns=["id", "bed_id", "facility_id", "check_in", "check_out", "reason"],
        records=[(kid, *k, "maintenance") for kid, k in zip(block_ids, blocks, strict=True)],
    )
    await _copy_nights(conn, stays, booking_ids, block_ids)


async def _copy_nights(
    conn: Conn, stays: _Stays, booking_ids: list[int], block_ids: list[int]
) -> None:
    """Both ledgers, each sorted by its key as every bulk load of one is (DESIGN §6): the
    bed's nights of bookings and blocks, and the elder's nights of the live bookings (all of
    the demo's are)."""
    bed_nights: list[tuple[int, date, int | None, int | None]] = []
    elder_nights: list[tuple[int, date, int]] = []
    for bid, b in zip(booking_ids, stays.bookings, strict=True):
        for k in range((b[4] - b[3]).days):
            bed_nights.append((b[0], b[3] + timedelta(days=k), bid, None))
            elder_nights.append((b[2], b[3] + timedelta(days=k), bid))
    for kid, block in zip(block_ids, stays.blocks, strict=True):
        for d in range((block[3] - block[2]).days):
            bed_nights.append((block[0], block[2] + timedelta(days=d), None, kid))
    bed_nights.sort(key=lambda n: (n[0], n[1]))
    elder_nights.sort(key=lambda n: (n[0], n[1]))
    await conn.copy_records_to_table(
        "bed_nights", columns=["bed_id", "night", "booking_id", "block_id"], records=bed_nights
    )
    await conn.copy_records_to_table(
        "recipient_nights",
        columns=["care_recipient_id", "night", "booking_id"],
        records=elder_nights,
    )
