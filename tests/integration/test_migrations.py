import asyncio
import secrets
import shutil
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
