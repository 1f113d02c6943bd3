"""Use cases of blocks: take a bed out of service for some nights, change or lift the block.

A block claims its nights in the per-night ledger (``respite.nights``) exactly like a booking,
so the ledger's primary key refuses a block and a booking on the same night whoever commits
first; no lock on the bed is needed for that. A refused night becomes a 409 naming the booking
or block that holds it. The block's row references the bed (a key-share lock on it), so a
block waits for a retirement of the same bed under way, up to the lock timeout (then 503).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from respite import audit, paging
from respite.auth.model import Principal
from respite.db import Conn
from respite.errors import InvalidInputError, NotFoundError
from respite.inventory import queries as q
from respite.inventory.access import (
    check_facility_exists,
    facility_scope,
    own_facility,
    scoped_bed,
)
from respite.inventory.commands import BlockCreation, BlockFilter, BlockLift, BlockUpdate
from respite.inventory.errors import (
    BedRetiredError,
    BlockLiftedError,
    NightAlreadyBlockedError,
    NightBookedError,
)
from respite.inventory.model import (
    Block,
    NightRange,
    block_terms_problem,
    changed_terms,
    nights_outside,
)
from respite.nights import Claim, NightTaken, claim_nights, free_nights
from respite.paging import Page

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["create_block", "get_block", "lift_block", "list_blocks", "update_block"]

BLOCK_PAGES = "page:blocks"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""


def _block(row: asyncpg.Record | None) -> Block:
    assert row is not None, "the statement returns the row it wrote"
    return Block(**dict(row))


def _night_taken(bed_id: int, claim: Claim) -> NightBookedError | NightAlreadyBlockedError:
    """The 409 for a night that a booking or another block already claims."""
    if claim.booking_id is not None:
        return NightBookedError(bed=bed_id, night=claim.night, conflicting_booking=claim.booking_id)
    assert claim.block_id is not None, "a claim is a booking's or a block's"
    return NightAlreadyBlockedError(bed=bed_id, night=claim.night, conflicting_block=claim.block_id)


async def _claim(conn: Conn, bed_id: int, nights: NightRange, block_id: int) -> None:
    try:
        await claim_nights(conn, bed_id, nights.start, nights.end, block_id=block_id)
    except NightTaken as taken:
        # Raising out of the transaction rolls back the nights claimed before the refusal.
        raise _night_taken(bed_id, taken.claim) from None


async def create_block(deps: Deps, principal: Principal, creation: BlockCreation) -> Block:
    bed_id, new = creation.bed_id, creation.block
    async with deps.pool.acquire() as conn, conn.transaction():
        bed = await scoped_bed(conn, q.SELECT_BED, bed_id, principal)
        if bed.retired_at is not None:
            raise BedRetiredError(bed=bed_id, doing="block")
        block = _block(
            await conn.fetchrow(
                q.INSERT_BLOCK,
                bed_id,
                bed.facility_id,
                new.check_in,
                new.check_out,
                new.reason,
                new.note,
                principal.id,
            )
        )
        await _claim(conn, bed_id, NightRange(new.check_in, new.check_out), block.id)
        await audit.record(
            conn, principal, "create", "block", block.id, facility_id=bed.facility_id, after=block
        )
        return block


async def _locked_block(conn: Conn, principal: Principal, block_id: int) -> Block:
    row = await conn.fetchrow(q.SELECT_BLOCK_FOR_UPDATE, block_id, facility_scope(principal))
    if row is None:
        raise NotFoundError("block", block_id)
    return _block(row)


async def get_block(deps: Deps, principal: Principal, block_id: int) -> Block:
    """One block of the principal's facility (any, for an admin)."""
    row = await deps.pool.fetchrow(q.SELECT_BLOCK, block_id, facility_scope(principal))
    if row is None:
        raise NotFoundError("block", block_id)
    return _block(row)


async def update_block(deps: Deps, principal: Principal, update: BlockUpdate) -> Block:
    """Shorten (frees the nights no longer covered), lengthen (claims the added nights), or
    change the reason or note of a block that has not been lifted."""
    block_id = update.block_id
    async with deps.pool.acquire() as conn, conn.transaction():
        block = await _locked_block(conn, principal, block_id)
        if block.lifted_at is not None:
            raise BlockLiftedError(block=block_id)
        terms = changed_terms(block, update.changes)
        problem = block_terms_problem(terms)
        if problem is not None:
            raise InvalidInputError.one(problem.field, problem.message)
        if terms == block.terms:
            return block
        old = NightRange(block.check_in, block.check_out)
        new = NightRange(terms.check_in, terms.check_out)
        for run in nights_outside(old, new):
            await free_nights(
                conn, block.bed_id, run.start, run.end, cause="block_shortened", block_id=block_id
            )
        for run in nights_outside(new, old):
            await _claim(conn, block.bed_id, run, block_id)
        updated = _block(
            await conn.fetchrow(
                q.UPDATE_BLOCK, block_id, terms.check_in, terms.check_out, terms.reason, terms.note
            )
        )
        await audit.record(
            conn,
            principal,
            "update",
            "block",
            block_id,
            facility_id=block.facility_id,
            before=block,
            after=updated,
        )
        return updated


async def lift_block(deps: Deps, principal: Principal, lift: BlockLift) -> Block:
    """Free every night of the block; lifting a lifted block changes nothing."""
    block_id = lift.block_id
    async with deps.pool.acquire() as conn, conn.transaction():
        block = await _locked_block(conn, principal, block_id)
        if block.lifted_at is not None:
            return block
        await free_nights(
            conn,
            block.bed_id,
            block.check_in,
            block.check_out,
            cause="block_lifted",
            block_id=block_id,
        )
        lifted = _block(await conn.fetchrow(q.LIFT_BLOCK, block_id))
        await audit.record(
            conn,
            principal,
            "lift",
            "block",
            block_id,
            facility_id=block.facility_id,
            before=block,
            after=lifted,
        )
        return lifted


async def list_blocks(deps: Deps, principal: Principal, blocks: BlockFilter) -> Page[Block]:
    """The facility's blocks by id."""
    own_facility(principal, blocks.facility_id)
    after = paging.decode(deps.settings, BLOCK_PAGES, blocks.cursor, int) or 0
    async with deps.pool.acquire() as conn:
        await check_facility_exists(conn, blocks.facility_id)
        rows = await conn.fetch(
            q.SELECT_BLOCKS,
            blocks.facility_id,
            blocks.bed_id,
            blocks.start,
            blocks.end,
            blocks.include_lifted,
            after,
            paging.fetch_size(blocks.limit),
        )
    fetched = [_block(r) for r in rows]
    return paging.page(deps.settings, BLOCK_PAGES, fetched, blocks.limit, lambda b: b.id)
