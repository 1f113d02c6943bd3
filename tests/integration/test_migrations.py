import asyncio
import secrets
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from respite.db import MigrationError, applied_migrations, load_migrations, migrate


@pytest.fixture
async def empty_db(servers: Any) -> Any:
    name = f"m_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(servers.postgres.url)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield servers.database_url(name)
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


async def test_migrate_is_idempotent(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        first = await migrate(conn)
        assert first == [m.version for m in load_migrations()]
        assert await migrate(conn) == []
        assert sorted(await applied_migrations(conn)) == first
    finally:
        await conn.close()


async def test_an_edited_applied_migration_is_refused(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    copy = tmp_path / "sql"
    shutil.copytree(sql_dir, copy)
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, copy)
        first = sorted(copy.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="was edited after it was applied"):
            await migrate(conn, copy)
    finally:
        await conn.close()


async def test_a_missing_applied_migration_is_refused(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    copy = tmp_path / "sql"
    shutil.copytree(sql_dir, copy)
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, copy)
        sorted(copy.glob("*.sql"))[-1].unlink()
        with pytest.raises(MigrationError, match="its file is missing"):
            await migrate(conn, copy)
    finally:
        await conn.close()


async def test_concurrent_migrate_applies_each_file_once(empty_db: str) -> None:
    conns = [await asyncpg.connect(empty_db) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [v for result in results for v in result]
        assert sorted(applied) == [m.version for m in load_migrations()]
    finally:
        for conn in conns:
            await conn.close()


# 0007: one elder, one bed a night -------------------------------------------------------------


def _migrations_before(version: int, sql_dir: Path, folder: Path) -> Path:
    folder.mkdir()
    for path in sql_dir.glob("*.sql"):
        if int(path.name[:4]) < version:
            shutil.copy(path, folder / path.name)
    return folder


async def _up_to_0006(db_url: str, tmp_path: Path, sql_dir: Path) -> Any:
    """A connection to a database migrated up to 0006, the last one before the elder ledger."""
    conn = await asyncpg.connect(db_url)
    await migrate(conn, _migrations_before(7, sql_dir, tmp_path / "before-0007"))
    return conn


async def _stays(conn: Any, stays: list[tuple[int, str, str, str]]) -> tuple[int, list[int]]:
    """One elder and a booking for each (bed number, check-in, check-out, status), each bed
    new; the elder's id and the bookings' ids."""
    facility = await conn.fetchval(
        "INSERT INTO facilities (name, lat, lon) VALUES ('F', 31.2, 121.4) RETURNING id"
    )
    elder = await conn.fetchval(
        "INSERT INTO care_recipients (facility_id, name, sex, birth_date)"
        " VALUES ($1, 'Wang', 'female', '1940-01-01') RETURNING id",
        facility,
    )
    booker = await conn.fetchval(
        "INSERT INTO principals (role, name) VALUES ('admin', 'a') RETURNING id"
    )
    ids = []
    for bed_number, check_in, check_out, status in stays:
        bed = await conn.fetchval(
            "INSERT INTO beds (facility_id, kind, label, sex_rule, nightly_price)"
            " VALUES ($1, 'respite', $2, 'any', 100)"
            " ON CONFLICT (facility_id, label) DO UPDATE SET label = excluded.label RETURNING id",
            facility,
            f"B{bed_number}",
        )
        ids.append(
            await conn.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in,"
                " check_out, status, nightly_price, total_price, booked_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, 100, 100, $7) RETURNING id",
                bed,
                facility,
                elder,
                date.fromisoformat(check_in),
                date.fromisoformat(check_out),
                status,
                booker,
            )
        )
    return elder, ids


async def test_0007_stops_with_a_report_on_an_elder_in_two_beds_and_changes_nothing(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn = await _up_to_0006(empty_db, tmp_path, sql_dir)
    try:
        elder, (first, second, _, _) = await _stays(
            conn,
            [
                (1, "2030-03-01", "2030-03-06", "confirmed"),
                (2, "2030-03-04", "2030-03-09", "checked_in"),  # shares 4 and 5 March
                (3, "2030-03-02", "2030-03-04", "cancelled"),  # not live: no clash
                (1, "2030-03-09", "2030-03-11", "confirmed"),  # arrives as the second leaves
            ],
        )
        bookings = await conn.fetch("SELECT * FROM bookings ORDER BY id")
        with pytest.raises(MigrationError) as stopped:
            await migrate(conn, sql_dir)
        report = str(stopped.value)
        assert "0007_" in report and "was not applied" in report
        assert "pairs of such bookings: 1. Nothing was changed." in report
        assert (
            f"care recipient {elder}: bookings {first} and {second} share the nights "
            "2030-03-04 to 2030-03-05"
        ) in report
        assert "elder_night_clashes" in report, "the hint says how to list every pair"
        assert max(await applied_migrations(conn)) == 6
        for table in ("recipient_nights", "ended_holds", "elder_night_clashes"):
            assert await conn.fetchval("SELECT to_regclass($1)", table) is None
        assert await conn.fetch("SELECT * FROM bookings ORDER BY id") == bookings
    finally:
        await conn.close()


async def test_0007_fills_the_elder_ledger_from_the_live_bookings(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn = await _up_to_0006(empty_db, tmp_path, sql_dir)
    try:
        elder, (live, _, on_site) = await _stays(
            conn,
            [
                (1, "2030-03-01", "2030-03-03", "confirmed"),
                (2, "2030-03-01", "2030-03-05", "no_show"),
                (1, "2030-03-03", "2030-03-05", "checked_in"),
            ],
        )
        await migrate(conn, sql_dir)
        ledger = await conn.fetch(
            "SELECT care_recipient_id, night, booking_id FROM recipient_nights ORDER BY night"
        )
        assert [tuple(row) for row in ledger] == [
            (elder, date(2030, 3, 1), live),
            (elder, date(2030, 3, 2), live),
            (elder, date(2030, 3, 3), on_site),
            (elder, date(2030, 3, 4), on_site),
        ]
        assert await conn.fetchval("SELECT count(*) FROM elder_night_clashes") == 0
    finally:
        await conn.close()


async def test_0007_lists_the_first_two_hundred_pairs_and_counts_the_rest(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn = await _up_to_0006(empty_db, tmp_path, sql_dir)
    try:
        # 21 stays of one elder on the same nights: 210 pairs.
        await _stays(conn, [(bed, "2030-03-01", "2030-03-03", "confirmed") for bed in range(21)])
        with pytest.raises(MigrationError) as stopped:
            await migrate(conn, sql_dir)
        report = str(stopped.value)
        assert "pairs of such bookings: 210." in report
        assert report.count("share the nights 2030-03-01 to 2030-03-02") == 200
        assert "... and 10 more pairs" in report
    finally:
        await conn.close()
