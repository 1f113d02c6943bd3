"""A hold anywhere in a facility: the same few SQL statements whatever the number of beds, each
bed judged in Python, the tightest eligible one chosen."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from asyncpg.connection import LoggedQuery

from respite.auth.model import Principal
from respite.booking.errors import IneligibleError
from respite.cache import create_redis
from respite.clock import ManualClock
from respite.db import create_pool
from respite.deps import Deps
from respite.errors import NotFoundError
from respite.holds.errors import NoFreeBedError
from respite.holds.model import Hold, HoldRequest, PlaceHold
from respite.holds.service import place_hold
from respite.holds.store import HoldStore
from respite.settings import Settings
from tests import builders


class Counted(msgspec.Struct):
    deps: Deps
    statements: list[str]


@pytest.fixture
async def counted(settings: Settings, clock: ManualClock) -> AsyncIterator[Counted]:
    """Deps over a pool of one connection whose every statement is logged."""
    assert settings.database_url is not None and settings.redis_url is not None
    one = msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=1)
    pool = await create_pool(one, settings.database_url)
    redis = create_redis(settings, settings.redis_url)
    statements: list[str] = []

    def log(query: LoggedQuery) -> None:
        statements.append(query.query)

    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(log)
        deps = Deps(pool=pool, redis=redis, holds=HoldStore(redis), clock=clock, settings=settings)
        yield Counted(deps, statements)
    finally:
        await redis.aclose()
        await pool.close()


async def family_elder(db: Any) -> tuple[Principal, int]:
    owner = await builders.principal(db, "family")
    return Principal(id=owner, role="family", name="family"), await builders.recipient(
        db, family_id=owner
    )


async def hold_in(counted: Counted, principal: Principal, elder: int, facility: int) -> Hold:
    check_in = builders.today() + timedelta(days=4)
    request = HoldRequest(
        care_recipient_id=elder,
        check_in=check_in,
        check_out=check_in + timedelta(days=3),
        facility_id=facility,
        kind="respite",
    )
    counted.statements.clear()
    hold = await place_hold(counted.deps, principal, PlaceHold(request=request))
    await asyncio.sleep(0)  # query loggers are called soon after each statement
    return hold


async def test_one_bed_or_twelve_the_same_statements(db: Any, counted: Counted) -> None:
    principal, elder = await family_elder(db)  # a woman
    alone = await builders.facility(db)
    only = await builders.bed(db, alone)
    assert (await hold_in(counted, principal, elder, alone)).bed.id == only
    with_one = list(counted.statements)

    crowded = await builders.facility(db)
    # Eleven men's rooms come first (lowest ids, equal gaps): each is judged and refused.
    for _ in range(11):
        await builders.bed(db, crowded, sex_rule="male")
    last = await builders.bed(db, crowded)
    assert (await hold_in(counted, principal, elder, crowded)).bed.id == last
    with_twelve = list(counted.statements)

    assert len(with_one) == len(with_twelve) == 7, with_twelve
    assert [q.split()[0] for q in with_twelve] == [
        "BEGIN;",
        "SELECT",  # the free beds, their policy and the facility's timezone
        "SELECT",  # the elder as this family sees them
        "SELECT",  # the nights they have used
        "INSERT",  # the audit entry
        "INSERT",  # the hold's start, which the operators' figures count
        "COMMIT;",
    ]
    assert with_one == with_twelve
    assert not any("timezone FROM" in q for q in with_twelve)


async def test_when_every_bed_refuses_the_tightest_ones_reasons_are_given(
    db: Any, counted: Counted
) -> None:
    principal, elder = await family_elder(db)
    facility = await builders.facility(db)
    for _ in range(3):
        await builders.bed(db, facility, sex_rule="male")
    with pytest.raises(IneligibleError) as refused:
        await hold_in(counted, principal, elder, facility)
    assert refused.value.extensions["refused"] == ["sex_rule"]


async def test_no_facility_and_no_free_bed_are_told_apart(db: Any, counted: Counted) -> None:
    principal, elder = await family_elder(db)
    with pytest.raises(NotFoundError) as missing:
        await hold_in(counted, principal, elder, 10**12)
    assert missing.value.extensions == {"entity": "facility"}
    full = await builders.facility(db)
    bed = await builders.bed(db, full)
    today = builders.today()
    await builders.booking(db, bed, today, today + timedelta(days=30))
    with pytest.raises(NoFreeBedError) as none_free:
        await hold_in(counted, principal, elder, full)
    assert none_free.value.extensions == {
        "facility_id": full,
        "kind": "respite",
        "reason": "no_free_bed",
    }
