import asyncio
import json
import secrets
import shutil
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
