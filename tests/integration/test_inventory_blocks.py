"""Blocks against real PostgreSQL: races with bookings and other blocks, and the ledger always
matching the block after it is shortened, lengthened, moved or lifted."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from respite.auth.model import Principal
from respite.clock import ManualClock
from respite.deps import Deps
from respite.errors import ConflictError
from respite.inventory.blocks import create_block, lift_block, update_block
from respite.inventory.commands import BlockCreation, BlockLift, BlockUpdate
from respite.inventory.errors import NightBookedError
from respite.inventory.model import BlockChanges, NewBlock
from respite.nights import NightTaken, claim_nights
from respite.settings import Settings
from tests import builders
from tests.domain_deps import opened_deps

D0 = date(2031, 5, 1)


def d(offset: int) -> date:
    return D0 + timedelta(offset)


@pytest.fixture
async def deps(settings: Settings, clock: ManualClock) -> AsyncIterator[Deps]:
    async with opened_deps(settings, clock) as opened:
        yield opened


async def _create(deps: Deps, staff: Principal, bed: int, new: NewBlock) -> int:
    return (await create_block(deps, staff, BlockCreation(bed_id=bed, block=new))).id


async def _update(deps: Deps, staff: Principal, block: int, changes: BlockChanges) -> Any:
    return await update_block(deps, staff, BlockUpdate(block_id=block, changes=changes))


class Ward(msgspec.Struct):
    facility: int
    bed: int
    staff: Principal


@pytest.fixture
async def ward(db: Any) -> Ward:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    staff_id = await builders.principal(db, "staff", facility_id=facility)
    return Ward(facility, bed, Principal(id=staff_id, role="staff", name="s", facility_id=facility))


async def _ledger(db: Any, bed: int) -> dict[date, tuple[int | None, int | None]]:
    rows = await db.fetch(
        "SELECT night, booking_id, block_id FROM bed_nights WHERE bed_id = $1 ORDER BY night", bed
    )
    return {r["night"]: (r["booking_id"], r["block_id"]) for r in rows}


async def _book(
    database_url: str,
    bed: int,
    nights: tuple[date, date],
    barrier: asyncio.Barrier,
    delay: float = 0.0,
) -> int | None:
    """A booking as the booking service makes one: its row, then its nights, in one transaction."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            facility = await conn.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed)
            recipient = await builders.recipient(conn, facility_id=facility, level=None)
            booker = await builders.principal(conn, "admin")
            booking = await conn.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
                " nightly_price, total_price, booked_by) VALUES ($1, $2, $3, $4, $5, 1, 1, $6)"
                " RETURNING id",
                bed,
                facility,
                recipient,
                *nights,
                booker,
            )
            await barrier.wait()
            await asyncio.sleep(delay)
            await claim_nights(conn, bed, *nights, booking_id=booking)
            return int(booking)
    except NightTaken:
        return None
    finally:
        await conn.close()


async def _block(
    deps: Deps,
    staff: Principal,
    bed: int,
    nights: tuple[date, date],
    barrier: asyncio.Barrier,
    refusals: list[dict[str, Any]],
) -> int | None:
    new = NewBlock(check_in=nights[0], check_out=nights[1], reason="maintenance")
    await barrier.wait()
    try:
        return await _create(deps, staff, bed, new)
    except ConflictError as conflict:
        refusals.append(conflict.extensions)
        return None


async def test_a_block_and_a_booking_racing_for_a_night_never_both_win(
    database_url: str, db: Any, deps: Deps, ward: Ward
) -> None:
    # The booking claims at once or a little later, so that either side may get there first
    # and the two transactions' claims overlap in time.
    for round_, delay in enumerate([0, 0.0005, 0.001, 0.002, 0.003, 0.005] * 2):
        base = 4 * round_
        barrier = asyncio.Barrier(2)
        refusals: list[dict[str, Any]] = []
        booking, block = await asyncio.gather(
            _book(database_url, ward.bed, (d(base), d(base + 2)), barrier, delay),
            _block(deps, ward.staff, ward.bed, (d(base + 1), d(base + 3)), barrier, refusals),
        )
        assert (booking is None) != (block is None), f"round {round_}: {booking=} {block=}"
        if block is None:
            assert refusals == [{"conflicting_booking": booking, "night": d(base + 1).isoformat()}]
        ledger = await _ledger(db, ward.bed)
        expected: dict[date, tuple[int | None, int | None]]
        if booking is not None:
            expected = {d(base): (booking, None), d(base + 1): (booking, None)}
        else:
            expected = {d(base + 1): (None, block), d(base + 2): (None, block)}
        assert {k: v for k, v in ledger.items() if d(base) <= k < d(base + 4)} == expected
    # Refused blocks leave no row behind, not even a block without nights.
    blocks = await db.fetchval("SELECT count(*) FROM blocks WHERE bed_id = $1", ward.bed)
    assert blocks == len({v[1] for v in (await _ledger(db, ward.bed)).values()} - {None})


async def test_overlapping_blocks_racing_leave_exactly_one(db: Any, deps: Deps, ward: Ward) -> None:
    barrier = asyncio.Barrier(6)
    refusals: list[dict[str, Any]] = []
    results = await asyncio.gather(
        *(_block(deps, ward.staff, ward.bed, (d(i), d(i + 3)), barrier, refusals) for i in range(6))
    )
    won = [r for r in results if r is not None]
    assert len(refusals) == 6 - len(won)
    assert all(r["conflicting_block"] in won for r in refusals)
    assert won, "some block must win"
    ledger = await _ledger(db, ward.bed)
    assert len(ledger) == 3 * len(won)
    assert {block for _, block in ledger.values()} == set(won)


async def _assert_ledger_matches_block(db: Any, bed: int, block: int) -> None:
    row = await db.fetchrow(
        "SELECT check_in, check_out, lifted_at FROM blocks WHERE id = $1", block
    )
    nights = {n for n, (_, b) in (await _ledger(db, bed)).items() if b == block}
    if row["lifted_at"] is not None:
        assert nights == set()
    else:
        days = (row["check_out"] - row["check_in"]).days
        assert nights == {row["check_in"] + timedelta(i) for i in range(days)}


@pytest.mark.parametrize(
    "changes",
    [
        {"check_out": "2031-05-04"},  # shorten at the end
        {"check_in": "2031-05-03"},  # shorten at the start
        {"check_in": "2031-04-28", "check_out": "2031-05-09"},  # lengthen both ways
        {"check_in": "2031-05-20", "check_out": "2031-05-22"},  # move away entirely
        {"check_in": "2031-05-04", "check_out": "2031-05-08"},  # slide later
        {"reason": "other", "note": "asbestos survey"},  # nights untouched
    ],
)
async def test_a_changed_block_holds_exactly_its_new_nights(
    db: Any, deps: Deps, ward: Ward, changes: dict[str, str]
) -> None:
    block = await _create(
        deps, ward.staff, ward.bed, NewBlock(check_in=d(0), check_out=d(5), reason="cleaning")
    )
    updated = await _update(
        deps, ward.staff, block, msgspec.convert(changes, BlockChanges, strict=False)
    )
    for field, value in changes.items():
        assert str(getattr(updated, field)) == value
    await _assert_ledger_matches_block(db, ward.bed, block)


async def test_lengthening_into_a_booking_is_refused_and_changes_nothing(
    db: Any, deps: Deps, ward: Ward
) -> None:
    booking = await builders.booking(db, ward.bed, d(5), d(7))
    block = await _create(
        deps, ward.staff, ward.bed, NewBlock(check_in=d(0), check_out=d(5), reason="cleaning")
    )
    before = await _ledger(db, ward.bed)
    with pytest.raises(NightBookedError) as refused:
        await _update(deps, ward.staff, block, BlockChanges(check_in=d(2), check_out=d(6)))
    assert refused.value.extensions == {"conflicting_booking": booking, "night": "2031-05-06"}
    assert await _ledger(db, ward.bed) == before
    row = await db.fetchrow("SELECT check_in, check_out FROM blocks WHERE id = $1", block)
    assert (row["check_in"], row["check_out"]) == (d(0), d(5))


async def test_concurrent_changes_of_one_block_keep_the_ledger_consistent(
    db: Any, deps: Deps, ward: Ward
) -> None:
    block = await _create(
        deps, ward.staff, ward.bed, NewBlock(check_in=d(0), check_out=d(5), reason="cleaning")
    )
    ranges = [(i, i + 1 + i % 4) for i in range(8)]
    await asyncio.gather(
        *(
            _update(deps, ward.staff, block, BlockChanges(check_in=d(a), check_out=d(b)))
            for a, b in ranges
        )
    )
    await _assert_ledger_matches_block(db, ward.bed, block)


async def test_lifting_frees_the_nights_for_a_booking(
    database_url: str, db: Any, deps: Deps, ward: Ward
) -> None:
    block = await _create(
        deps, ward.staff, ward.bed, NewBlock(check_in=d(0), check_out=d(3), reason="isolation")
    )
    assert await _book(database_url, ward.bed, (d(1), d(2)), asyncio.Barrier(1)) is None
    lifted = await lift_block(deps, ward.staff, BlockLift(block_id=block))
    assert lifted.lifted_at is not None
    await _assert_ledger_matches_block(db, ward.bed, block)
    assert await _book(database_url, ward.bed, (d(1), d(2)), asyncio.Barrier(1)) is not None
    again = await lift_block(deps, ward.staff, BlockLift(block_id=block))
    assert again.lifted_at == lifted.lifted_at
    audits = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'block' AND action = 'lift'"
    )
    assert audits == 1
