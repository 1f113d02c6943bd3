"""Generate a city of facilities and beds with a year of bookings and blocks, loaded with COPY.

    .venv/bin/python ops/bench/datagen.py postgresql://respite@127.0.0.1:5432/bench \\
        --facilities 500 --beds 10000 --occupancy 0.7 --days 365

Facilities are spread evenly over a square around Shanghai whose side grows with the square
root of their number, so the density stays the same (``--density`` facilities per km²): a
search of a given radius finds as many facilities at 100,000 beds as at 10,000. Each bed gets
back-to-back stays separated by gaps sized so that, on average, ``--occupancy`` of its nights
from ``--start`` on are claimed; about one stay in twenty is a block, the rest confirmed
bookings. Everything is written with COPY (asyncpg ``copy_records_to_table``) in chunks of
beds, ids are reserved from the tables' own sequences, and bed nights go in sorted by
(bed, night) as DESIGN.md §6 advises. The same seed gives the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

__all__ = ["Claims", "Plan", "Stay", "area", "claims_for", "generate", "main", "stays_for_bed"]

CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai
KM_PER_DEG_LAT = 111.195
CHUNK_BEDS = 2_000
CAPABILITY_ODDS = {
    "dementia_secure": 0.2,
    "oxygen": 0.3,
    "tube_feeding": 0.1,
    "catheter_care": 0.15,
    "tracheostomy_suction": 0.05,
    "wheelchair": 0.5,
    "bariatric": 0.05,
    "isolation": 0.05,
    "low_bed": 0.3,
}
SEX_RULES = (("any", 0.4), ("female", 0.3), ("male", 0.3))


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    facilities: int
    beds: int
    occupancy: float
    days: int
    start: date
    density: float = 0.4
    home_share: float = 0.2
    block_share: float = 0.05
    seed: int = 1


class Stay(msgspec.Struct, frozen=True):
    check_in: date
    check_out: date
    block: bool


def area(plan: Plan) -> tuple[float, float, float, float]:
    """(lat_min, lon_min, lat_max, lon_max) of the square the facilities are spread over."""
    side_km = math.sqrt(plan.facilities / plan.density)
    half_lat = side_km / 2 / KM_PER_DEG_LAT
    half_lon = half_lat / math.cos(math.radians(CENTRE[0]))
    return (CENTRE[0] - half_lat, CENTRE[1] - half_lon, CENTRE[0] + half_lat, CENTRE[1] + half_lon)


def stays_for_bed(rng: random.Random, plan: Plan, kind: str) -> list[Stay]:
    """Back-to-back stays with gaps: mean gap = mean stay * (1 - occupancy) / occupancy."""
    mean_stay = 7.0 if kind == "respite" else 60.0
    mean_gap = mean_stay * (1 - plan.occupancy) / plan.occupancy if plan.occupancy < 1 else 0
    end = plan.start + timedelta(days=plan.days)
    # Start in the middle of a cycle, so that the first night is as likely taken as any.
    day = plan.start - timedelta(days=int(rng.random() * (mean_stay + mean_gap)))
    stays: list[Stay] = []
    while day < end:
        gap = round(rng.expovariate(1 / mean_gap)) if mean_gap > 0 else 0
        day += timedelta(days=gap)
        length = max(1, min(round(rng.expovariate(1 / mean_stay)), 4 * int(mean_stay)))
        check_in, check_out = max(day, plan.start), min(day + timedelta(days=length), end)
        if check_in < check_out:
            stays.append(Stay(check_in, check_out, rng.random() < plan.block_share))
        day += timedelta(days=length)
    return stays


async def _reserve_ids(conn: Any, table: str, count: int) -> int:
    """The first of ``count`` consecutive ids taken from the table's identity sequence."""
    last = await conn.fetchval(
        "SELECT setval(pg_get_serial_sequence($1, 'id'),"
        " nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)",
        table,
        count,
    )
    return int(last) - count + 1


async def _facilities(conn: Any, rng: random.Random, plan: Plan) -> list[int]:
    lat_min, lon_min, lat_max, lon_max = area(plan)
    first = await _reserve_ids(conn, "facilities", plan.facilities)
    ids = list(range(first, first + plan.facilities))
    records = [
        (
            fid,
            f"Bench facility {fid}",
            rng.uniform(lat_min, lat_max),
            rng.uniform(lon_min, lon_max),
            rng.randrange(3_000, 8_001, 500),
        )
        for fid in ids
    ]
    await conn.copy_records_to_table(
        "facilities", columns=["id", "name", "lat", "lon", "service_radius_m"], records=records
    )
    return ids


def _bed(rng: random.Random, plan: Plan, bed_id: int, facility_id: int) -> tuple[Any, ...]:
    kind = "home" if rng.random() < plan.home_share else "respite"
    sex_rule = rng.choices([r for r, _ in SEX_RULES], [w for _, w in SEX_RULES])[0]
    capabilities = [c for c, odds in CAPABILITY_ODDS.items() if rng.random() < odds]
    stage = rng.choices(range(5), [40, 20, 20, 10, 10])[0]
    price = rng.randrange(12_000, 40_001, 500)
    label = f"{'H' if kind == 'home' else 'R'}-{bed_id}"
    return (bed_id, facility_id, kind, label, sex_rule, capabilities, stage, price)


async def _people(conn: Any, facility_ids: Sequence[int]) -> tuple[int, list[int]]:
    """An admin who booked everything, and two walk-in elders per facility to book for."""
    admin = await conn.fetchval(
        "INSERT INTO principals (role, name) VALUES ('admin', 'datagen') RETURNING id"
    )
    first = await _reserve_ids(conn, "care_recipients", 2 * len(facility_ids))
    records = [
        (first + i, fid, f"Elder {first + i}", "female" if i % 2 else "male", date(1940, 1, 1))
        for i, fid in enumerate(fid for fid in facility_ids for _ in range(2))
    ]
    await conn.copy_records_to_table(
        "care_recipients",
        columns=["id", "facility_id", "name", "sex", "birth_date"],
        records=records,
    )
    return int(admin), [r[0] for r in records]


def _nights(bed_id: int, stays: list[tuple[Stay, int]]) -> Iterator[tuple[Any, ...]]:
    for stay, claim_id in stays:
        night = stay.check_in
        while night < stay.check_out:
            yield (bed_id, night, None, claim_id) if stay.block else (bed_id, night, claim_id, None)
            night += timedelta(days=1)


BED_COLUMNS = [
    "id",
    "facility_id",
    "kind",
    "label",
    "sex_rule",
    "capabilities",
    "pressure_care_stage",
    "nightly_price",
]
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
BLOCK_COLUMNS = ["id", "bed_id", "facility_id", "check_in", "check_out", "reason"]


class Claims(msgspec.Struct):
    """Rows for COPY: bookings, blocks and the bed nights they claim, in (bed, night) order."""

    bookings: list[tuple[Any, ...]]
    blocks: list[tuple[Any, ...]]
    nights: list[tuple[Any, ...]]


def claims_for(
    rng: random.Random,
    beds: list[tuple[Any, ...]],
    per_bed: list[list[Stay]],
    first_ids: tuple[int, int],
    people: tuple[int, list[int]],
) -> Claims:
    """Rows of each bed's stays; ``first_ids`` are the first booking and block ids reserved,
    ``people`` the admin who booked and the elders booked for."""
    next_booking, next_block = first_ids
    admin, elders = people
    claims = Claims([], [], [])
    for bed, stays in zip(beds, per_bed, strict=True):
        bed_id, facility_id, price = bed[0], bed[1], bed[7]
        claimed = []
        for stay in stays:
            if stay.block:
                row = (next_block, bed_id, facility_id, stay.check_in, stay.check_out)
                claims.blocks.append((*row, "maintenance"))
                claimed.append((stay, next_block))
                next_block += 1
                continue
            nights = (stay.check_out - stay.check_in).days
            elder = elders[rng.randrange(len(elders))]
            total = price * nights
            booking = (next_booking, bed_id, facility_id, elder, stay.check_in, stay.check_out)
            claims.bookings.append((*booking, price, total, admin))
            claimed.append((stay, next_booking))
            next_booking += 1
        # Beds come in id order and each bed's stays in date order: the nights are sorted.
        claims.nights.extend(_nights(bed_id, claimed))
    return claims


async def _chunk(
    conn: Any,
    rng: random.Random,
    plan: Plan,
    beds: list[tuple[Any, ...]],
    people: tuple[int, list[int]],
) -> int:
    """COPY one chunk of beds with their bookings, blocks and nights; the nights it claimed."""
    await conn.copy_records_to_table("beds", columns=BED_COLUMNS, records=beds)
    per_bed = [stays_for_bed(rng, plan, bed[2]) for bed in beds]
    n_blocks = sum(s.block for stays in per_bed for s in stays)
    n_bookings = sum(len(stays) for stays in per_bed) - n_blocks
    first_ids = (
        await _reserve_ids(conn, "bookings", max(n_bookings, 1)),
        await _reserve_ids(conn, "blocks", max(n_blocks, 1)),
    )
    claims = claims_for(rng, beds, per_bed, first_ids, people)
    await conn.copy_records_to_table("bookings", columns=BOOKING_COLUMNS, records=claims.bookings)
    await conn.copy_records_to_table("blocks", columns=BLOCK_COLUMNS, records=claims.blocks)
    await conn.copy_records_to_table(
        "bed_nights", columns=["bed_id", "night", "booking_id", "block_id"], records=claims.nights
    )
    return len(claims.nights)


async def _skip_foreign_key_checks(conn: Any) -> None:
    """Rows are consistent by construction: skip the per-row foreign-key triggers if allowed.

    PostgreSQL fires one trigger per row and foreign key; for millions of bed nights that is
    most of the load time. Needs a superuser (the private benchmark server's role is one);
    otherwise the checks simply run.
    """
    try:
        # A savepoint, so that a refusal leaves the load's transaction usable; SET LOCAL
        # outlives the savepoint's release and lasts until the load commits.
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        pass


async def generate(dsn: str, plan: Plan, *, log: Any = print) -> dict[str, float]:
    """Load ``plan`` into an empty, migrated database; return counts and the seconds taken."""
    rng = random.Random(plan.seed)
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        # VACUUM below marks pages all-visible (for index-only scans) only once the load's
        # commit is flushed; a server running with synchronous_commit=off would not have yet.
        await conn.execute("SET synchronous_commit = on")
        async with conn.transaction():
            await _skip_foreign_key_checks(conn)
            facility_ids = await _facilities(conn, rng, plan)
            admin, elders = await _people(conn, facility_ids)
            first_bed = await _reserve_ids(conn, "beds", plan.beds)
            # Beds are dealt round-robin, then grouped by facility so that a facility's beds
            # sit together on disk, as they would after years of a facility adding its own.
            owners = sorted(facility_ids[i % len(facility_ids)] for i in range(plan.beds))
            nights = 0
            for offset in range(0, plan.beds, CHUNK_BEDS):
                chunk = [
                    _bed(rng, plan, first_bed + i, owners[i])
                    for i in range(offset, min(offset + CHUNK_BEDS, plan.beds))
                ]
                nights += await _chunk(conn, rng, plan, chunk, (admin, elders))
                log(f"  beds {offset + len(chunk):>7}/{plan.beds}  bed nights {nights:>10}")
        loaded = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) facilities, beds, bookings, blocks, bed_nights")
    finally:
        await conn.close()
    done = time.perf_counter()
    capacity = plan.beds * plan.days
    return {
        "facilities": plan.facilities,
        "beds": plan.beds,
        "bed_nights": nights,
        "occupancy": nights / capacity if capacity else 0.0,
        "load_seconds": loaded - started,
        "vacuum_seconds": done - loaded,
    }


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", help="a migrated, empty respite database")
    parser.add_argument("--facilities", type=int, default=500)
    parser.add_argument("--beds", type=int, default=10_000)
    parser.add_argument("--occupancy", type=float, default=0.7)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    parser.add_argument("--density", type=float, default=0.4, help="facilities per km²")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 < args.occupancy <= 1 or args.facilities < 1 or args.beds < 1 or args.days < 1:
        parser.error("need facilities, beds and days >= 1 and 0 < occupancy <= 1")
    plan = Plan(
        facilities=args.facilities,
        beds=args.beds,
        occupancy=args.occupancy,
        days=args.days,
        start=args.start or _today(),
        density=args.density,
        seed=args.seed,
    )
    figures = asyncio.run(generate(args.database_url, plan))
    print(msgspec.json.encode(figures).decode())


if __name__ == "__main__":
    sys.exit(main())
