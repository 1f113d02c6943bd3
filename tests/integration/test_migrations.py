import asyncio
import json
import secrets
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
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


def _copy_migrations(sql_dir: Path, folder: Path, numbers: range) -> None:
    folder.mkdir(exist_ok=True)
    for path in sorted(sql_dir.glob("*.sql")):
        if int(path.stem.partition("_")[0]) in numbers:
            shutil.copy(path, folder / path.name)


class Tenants(msgspec.Struct):
    hospital: int
    facility: int
    production: int
    standby: int
    staff: int
    family: int
    admin: int


async def _tenants(conn: Any) -> Tenants:
    hospital = await conn.fetchval("INSERT INTO hospitals (name) VALUES ('H') RETURNING id")
    facility = await conn.fetchval(
        "INSERT INTO facilities (name, lat, lon) VALUES ('F', 31.2, 121.4) RETURNING id"
    )

    async def principal(
        role: str, facility_id: int | None = None, hospital_id: int | None = None
    ) -> int:
        return int(
            await conn.fetchval(
                "INSERT INTO principals (role, email, password_hash, facility_id, hospital_id)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                role,
                f"{secrets.token_hex(4)}@example.test" if role == "family" else None,
                "x" if role == "family" else None,
                facility_id,
                hospital_id,
            )
        )

    return Tenants(
        hospital=hospital,
        facility=facility,
        production=await principal("hospital", hospital_id=hospital),
        standby=await principal("hospital", hospital_id=hospital),
        staff=await principal("staff", facility_id=facility),
        family=await principal("family"),
        admin=await principal("admin"),
    )


async def _overridden_booking(conn: Any, t: Tenants, reason: str | None) -> int:
    """A booking of before 0008: its decision refused on two rules, its reason overrode both."""
    bed = await conn.fetchval(
        "INSERT INTO beds (facility_id, kind, label, sex_rule, nightly_price)"
        " VALUES ($1, 'respite', $2, 'female', 100) RETURNING id",
        t.facility,
        f"B-{secrets.token_hex(3)}",
    )
    elder = await conn.fetchval(
        "INSERT INTO care_recipients (facility_id, name, sex, birth_date)"
        " VALUES ($1, 'E', 'male', DATE '1940-01-01') RETURNING id",
        t.facility,
    )
    decision = {
        "eligible": False,
        "reasons": [
            {"code": "no_assessment", "ok": False},
            {"code": "within_quota", "ok": True},
            {"code": "sex_rule", "ok": False},
        ],
    }
    return int(
        await conn.fetchval(
            "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
            " status, nightly_price, total_price, booked_by, decision, override_reason)"
            " VALUES ($1, $2, $3, DATE '2030-01-01', DATE '2030-01-03', 'cancelled', 100, 200,"
            " $4, $5::jsonb, $6) RETURNING id",
            bed,
            t.facility,
            elder,
            t.admin,
            json.dumps(decision),
            reason,
        )
    )


async def _before_and_after_0008(empty_db: str, tmp_path: Path, sql_dir: Path) -> Any:
    """A connection to a database migrated up to 0007; ``upgrade()`` applies 0008."""
    folder = tmp_path / "sql"
    _copy_migrations(sql_dir, folder, range(8))
    conn = await asyncpg.connect(empty_db)
    await migrate(conn, folder)

    async def upgrade() -> None:
        _copy_migrations(sql_dir, folder, range(8, 9))
        assert await migrate(conn, folder) == [8]

    return conn, upgrade


async def test_0008_scopes_existing_keys_by_organisation(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn, upgrade = await _before_and_after_0008(empty_db, tmp_path, sql_dir)
    try:
        t = await _tenants(conn)
        # The bug: two credentials of one hospital each used key "k", one minute apart.
        rows = [(t.production, "k", 0), (t.standby, "k", 1), (t.standby, "only", 0)]
        rows += [(t.staff, "k", 0), (t.family, "k", 0), (t.admin, "k", 0)]
        for owner, key, minutes in rows:
            await conn.execute(
                "INSERT INTO idempotency_keys (principal_id, key, operation, request_hash,"
                " status_code, response, created_at) VALUES ($1, $2, 'referral.create', '\\x00',"
                " 201, '{}', now() + make_interval(mins => $3))",
                owner,
                key,
                minutes,
            )
        await upgrade()
        kept = await conn.fetch("SELECT scope, key, principal_id FROM idempotency_keys")
        assert sorted(tuple(r) for r in kept) == sorted(
            [
                (f"admin:{t.admin}", "k", t.admin),
                (f"facility:{t.facility}", "k", t.staff),
                (f"family:{t.family}", "k", t.family),
                (f"hospital:{t.hospital}", "k", t.production),
                (f"hospital:{t.hospital}", "only", t.standby),
            ]
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO idempotency_keys (scope, key, principal_id, operation, request_hash)"
                " VALUES ($1, 'k', $2, 'x', '\\x00')",
                f"hospital:{t.hospital}",
                t.standby,
            )
    finally:
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


async def test_0008_names_the_rules_an_earlier_override_overrode(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn, upgrade = await _before_and_after_0008(empty_db, tmp_path, sql_dir)
    try:
        t = await _tenants(conn)
        overridden = await _overridden_booking(conn, t, "assessor visit booked for Monday")
        eligible = await _overridden_booking(conn, t, None)
        await upgrade()
        stored = "SELECT overrides::text FROM bookings WHERE id = $1"
        assert json.loads(await conn.fetchval(stored, overridden)) == [
            {"code": "no_assessment", "acknowledged": False},
            {"code": "sex_rule", "acknowledged": False},
        ]
        assert json.loads(await conn.fetchval(stored, eligible)) == []
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


# 0013: the facility's contact in kept answers ------------------------------------------------


async def test_0013_gives_kept_booking_and_referral_answers_the_facilitys_contact(
    empty_db: str, tmp_path: Path, sql_dir: Path
) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, _migrations_before(13, sql_dir, tmp_path / "before-0013"))
        facility = await conn.fetchval(
            "INSERT INTO facilities (name, lat, lon, address, phone)"
            " VALUES ('F', 31.2, 121.4, '愚园路 1 号', '021-6222 0000') RETURNING id"
        )
        admin = await conn.fetchval(
            "INSERT INTO principals (role, name) VALUES ('admin', 'a') RETURNING id"
        )
        hospital = await conn.fetchval("INSERT INTO hospitals (name) VALUES ('H') RETURNING id")
        elder = await conn.fetchval(
            "INSERT INTO care_recipients (hospital_id, name, sex, birth_date)"
            " VALUES ($1, 'Wang', 'female', '1940-01-01') RETURNING id",
            hospital,
        )
        placed, unplaced = [
            await conn.fetchval(
                "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date,"
                " nights, contact_name, facility_id, created_by)"
                " VALUES ($1, $2, 'respite', '2030-01-01', 5, 'Li', $3, $4) RETURNING id",
                hospital,
                elder,
                at,
                admin,
            )
            for at in (facility, None)
        ]
        kept = {
            "confirm": {"id": 1, "bed_label": "B1", "booked_by": admin, "facility_id": facility},
            "bed-taken": {"type": "/problems/bed-taken", "bed_label": "B1", "bed_id": 3},
            "cancel-placed": {"id": placed, "contact": {"name": "Li"}},
            "cancel-unplaced": {"id": unplaced, "contact": {"name": "Li"}},
        }
        for key, response in kept.items():
            operation = "referral.cancel" if key.startswith("cancel") else key
            await conn.execute(
                "INSERT INTO idempotency_keys (scope, principal_id, key, operation, request_hash,"
                " status_code, response) VALUES ($1, $2, $3, $4, '\\x00', 200, $5)",
                f"admin:{admin}",
                admin,
                key,
                operation,
                json.dumps(response),
            )
        assert 13 in await migrate(conn)
        rows = await conn.fetch("SELECT key, response FROM idempotency_keys")
        answers = {r["key"]: json.loads(r["response"]) for r in rows}
        contact = {"id": facility, "name": "F", "address": "愚园路 1 号", "phone": "021-6222 0000"}
        assert answers["confirm"] == {**kept["confirm"], "facility": contact}
        assert answers["bed-taken"] == kept["bed-taken"]
        assert answers["cancel-placed"] == {**kept["cancel-placed"], "facility": contact}
        assert answers["cancel-unplaced"] == {**kept["cancel-unplaced"], "facility": None}
    finally:
        await conn.close()
