"""Bed imports against real PostgreSQL: one transaction for a big file, nothing for a bad one,
nothing new for the same file twice; and the same through ``respite import-beds``."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from respite.auth.model import Principal
from respite.cli import main
from respite.clock import ManualClock
from respite.deps import Deps
from respite.inventory.commands import BedImport
from respite.inventory.errors import BedsChangedDuringImportError, ImportRejectedError
from respite.inventory.importing import ImportResult, import_beds
from respite.settings import Settings
from tests import builders
from tests.domain_deps import opened_deps

HEADER = "label,kind,sex_rule,nightly_price,capabilities,pressure_care_stage,active\n"


def beds_file(count: int, price: int = 28000, kind_of: Any = None) -> bytes:
    lines = [HEADER]
    for i in range(count):
        kind = kind_of(i) if kind_of else ("home" if i % 5 == 0 else "respite")
        caps = "oxygen;low_bed" if i % 3 == 0 else ""
        lines.append(
            f"B-{i:04d},{kind},{('female', 'male', 'any')[i % 3]},{price},{caps},{i % 5},\n"
        )
    return "".join(lines).encode()


@pytest.fixture
async def deps(settings: Settings, clock: ManualClock) -> AsyncIterator[Deps]:
    async with opened_deps(settings, clock) as opened:
        yield opened


async def _import(
    deps: Deps, principal: Principal | None, facility: int, data: bytes
) -> ImportResult:
    return await import_beds(deps, principal, BedImport(facility_id=facility, data=data))


@pytest.fixture
async def facility(db: Any) -> int:
    return await builders.facility(db)


async def _beds(db: Any, facility: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT xmin::text AS xmin, * FROM beds WHERE facility_id = $1 ORDER BY label", facility
    )
    return [dict(r) for r in rows]


async def _audits(db: Any) -> int:
    return int(await db.fetchval("SELECT count(*) FROM audit_log"))


async def test_2000_rows_import_in_one_transaction_and_again_change_nothing(
    db: Any, deps: Deps, facility: int
) -> None:
    admin = Principal(id=await builders.principal(db, "admin"), role="admin", name="a")
    result = await _import(deps, admin, facility, beds_file(2000))
    assert (result.rows, result.created, result.updated, result.unchanged) == (2000, 2000, 0, 0)
    beds = await _beds(db, facility)
    assert len(beds) == 2000
    assert len({b["xmin"] for b in beds}) == 1, "every bed was written by one transaction"
    assert beds[3]["capabilities"] == ["oxygen", "low_bed"] and beds[3]["pressure_care_stage"] == 3
    assert beds[0]["kind"] == "home" and beds[1]["sex_rule"] == "male"
    audit = await db.fetchrow("SELECT principal_id, action, after FROM audit_log")
    assert (audit["principal_id"], audit["action"]) == (admin.id, "import")
    assert len(audit["after"]["created"]) == 2000

    audits = await _audits(db)
    again = await _import(deps, admin, facility, beds_file(2000))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2000)
    assert await _beds(db, facility) == beds
    assert await _audits(db) == audits


async def test_a_changed_file_updates_and_adds_by_label(db: Any, deps: Deps, facility: int) -> None:
    await _import(deps, None, facility, beds_file(10))
    before = {b["label"]: b for b in await _beds(db, facility)}
    result = await _import(deps, None, facility, beds_file(12, price=30000))
    assert (result.created, result.updated, result.unchanged) == (2, 10, 0)
    after = {b["label"]: b for b in await _beds(db, facility)}
    assert {b["nightly_price"] for b in after.values()} == {30000}
    assert all(after[label]["id"] == bed["id"] for label, bed in before.items())
    audit = await db.fetchrow("SELECT before, after FROM audit_log ORDER BY id DESC LIMIT 1")
    some_id = str(before["B-0001"]["id"])
    assert audit["before"][some_id]["nightly_price"] == 28000
    assert audit["after"]["updated"][some_id]["nightly_price"] == 30000


async def test_a_file_that_would_change_a_kind_or_revive_a_retired_bed_imports_nothing(
    db: Any, deps: Deps, facility: int
) -> None:
    await _import(deps, None, facility, beds_file(50))
    await db.execute(
        "UPDATE beds SET active = false, retired_at = now() WHERE facility_id = $1 AND label = $2",
        facility,
        "B-0007",
    )
    before, audits = await _beds(db, facility), await _audits(db)
    flipped = beds_file(60, kind_of=lambda i: "home" if i % 5 == 0 or i == 41 else "respite")
    with pytest.raises(ImportRejectedError) as refused:
        await _import(deps, None, facility, flipped)
    assert [(e.line, e.column) for e in refused.value.errors] == [(9, "label"), (43, "kind")]
    assert await _beds(db, facility) == before
    assert await _audits(db) == audits


async def test_imports_into_another_facility_do_not_touch_this_one(
    db: Any, deps: Deps, facility: int
) -> None:
    other = await builders.facility(db)
    await _import(deps, None, facility, beds_file(5))
    result = await _import(deps, None, other, beds_file(5))
    assert result.created == 5
    assert len(await _beds(db, facility)) == len(await _beds(db, other)) == 5


async def test_two_imports_of_one_facility_at_once_both_land_without_errors(
    db: Any, deps: Deps, facility: int
) -> None:
    results = await asyncio.gather(
        _import(deps, None, facility, beds_file(300)),
        _import(deps, None, facility, beds_file(300, price=1)),
    )
    assert sorted(r.created for r in results) == [0, 300]
    assert len(await _beds(db, facility)) == 300


async def test_the_command_line_imports_and_reports_every_bad_row(
    db: Any,
    facility: int,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", database_url)
    monkeypatch.setenv("RESPITE_REDIS_URL", redis_url)
    good = tmp_path / "beds.csv"
    good.write_bytes(beds_file(20))
    args = ["import-beds", str(good), "--facility", str(facility)]
    assert await asyncio.to_thread(main, args) == 0
    assert "20 created" in capsys.readouterr().out
    assert len(await _beds(db, facility)) == 20

    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER.encode() + b"X1,castle,any,1,,,\nX2,respite,any,-3,,,\n")
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(main, ["import-beds", str(bad), "--facility", str(facility)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "line 2, column kind" in err and "line 3, column nightly_price" in err
    assert len(await _beds(db, facility)) == 20

    with pytest.raises(SystemExit):
        await asyncio.to_thread(main, ["import-beds", str(good), "--facility", "999999"])
    assert "no facility with id 999999" in capsys.readouterr().err


async def _until_someone_waits_on_a_lock(db: Any) -> None:
    for _ in range(1000):
        if await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waited on a lock")


async def test_a_label_created_while_importing_refuses_the_whole_file(
    db: Any, deps: Deps, facility: int, database_url: str
) -> None:
    other = await asyncpg.connect(database_url)
    try:
        racer = other.transaction()
        await racer.start()
        await builders.bed(other, facility, label="B-0003")  # not committed yet
        importing = asyncio.create_task(_import(deps, None, facility, beds_file(5)))
        await _until_someone_waits_on_a_lock(db)  # the import, on the racer's label
        await racer.commit()
        with pytest.raises(BedsChangedDuringImportError):
            await importing
    finally:
        await other.close()
    assert [b["label"] for b in await _beds(db, facility)] == ["B-0003"]


async def test_the_command_line_imports_a_workbook_and_refuses_an_old_xls(
    db: Any,
    facility: int,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.bed_files import CHINESE_ROWS, workbook

    monkeypatch.setenv("RESPITE_DATABASE_URL", database_url)
    monkeypatch.setenv("RESPITE_REDIS_URL", redis_url)
    sheet = tmp_path / "床位.xlsx"
    sheet.write_bytes(workbook(CHINESE_ROWS))
    assert (
        await asyncio.to_thread(main, ["import-beds", str(sheet), "--facility", str(facility)]) == 0
    )
    assert "3 created" in capsys.readouterr().out
    old = tmp_path / "beds.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(main, ["import-beds", str(old), "--facility", str(facility)])
    assert exited.value.code == 2 and ".xls" in capsys.readouterr().err
    assert len(await _beds(db, facility)) == 3
