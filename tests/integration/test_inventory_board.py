"""The occupancy board against real PostgreSQL and Redis: one query, one pipeline, the claims at
the window's edges, live holds in the holds module's layout, and an answer without Redis."""

import socket
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
import redis.asyncio as redis

from respite.auth.model import Principal
from respite.cache import RedisClient
from respite.clock import ManualClock
from respite.db import Pool
from respite.deps import Deps
from respite.errors import InvalidInputError, NotFoundError
from respite.holds.store import HoldStore
from respite.inventory.board import BlockedCell, BoardQuery, occupancy_board
from respite.settings import Settings
from tests import builders
from tests.domain_deps import opened_deps

START = date(2031, 7, 1)


def d(offset: int) -> date:
    return START + timedelta(offset)


class CountingPool:
    """Lets through ``fetch`` only, and counts it: the board may make one query, no more."""

    def __init__(self, pool: Pool) -> None:
        self.pool, self.fetches = pool, 0

    async def fetch(self, *args: Any) -> Any:
        self.fetches += 1
        return await self.pool.fetch(*args)


@pytest.fixture
async def deps(settings: Settings, clock: ManualClock) -> AsyncIterator[Deps]:
    async with opened_deps(settings, clock) as opened:
        yield opened


def replaced(deps: Deps, *, pool: Any = None, redis: RedisClient | None = None) -> Deps:
    """``deps`` with another pool or Redis client."""
    client = redis or deps.redis
    return Deps(
        pool=pool or deps.pool,
        redis=client,
        holds=HoldStore(client),
        clock=deps.clock,
        settings=deps.settings,
    )


ADMIN = Principal(id=1, role="admin", name="a")


async def put_hold(
    deps: Deps, facility: int, hold_id: str, bed: int, nights: tuple[int, int], ttl: float
) -> None:
    """A hold exactly as the holds module stores it, placed at the clock's now."""
    now = deps.clock.now().timestamp()
    value = {
        "bed_id": bed,
        "check_in": d(nights[0]).isoformat(),
        "check_out": d(nights[1]).isoformat(),
        "expires_at": now + ttl,
        "created_at": now,
        "principal_id": 1,
        "care_recipient_id": 1,
        "token_hash": "x",
    }
    await deps.redis.hset(f"{{f:{facility}}}:holds", hold_id, msgspec.json.encode(value))


def grid(board: Any) -> dict[str, str]:
    marks = {"free": ".", "held": "h", "booked": "B", "blocked": "X"}
    return {
        b.label: "".join(marks[type(c).__struct_config__.tag] for c in b.cells) for b in board.beds
    }


async def test_claims_at_the_edges_of_the_window_and_live_holds(db: Any, deps: Deps) -> None:
    facility = await builders.facility(db)
    a = await builders.bed(db, facility, label="A")
    b = await builders.bed(db, facility, label="B")
    c = await builders.bed(db, facility, label="C", kind="home")
    retired = await builders.bed(db, facility, label="D")
    gone = await builders.bed(db, facility, label="E")
    first = await builders.booking(db, a, d(-3), d(2))  # began before the window
    second = await builders.booking(db, a, d(2), d(4))  # starts the morning the first ends
    await builders.booking(db, a, d(5), d(9))  # runs past the window's end
    block = await builders.block(db, b, d(1), d(3), reason="cleaning")
    await builders.booking(db, b, d(-5), d(0))  # ends the night the window starts: not shown
    await builders.booking(db, retired, d(0), d(1))
    await builders.booking(db, gone, d(-9), d(-2))
    await db.execute(
        "UPDATE beds SET active = false, retired_at = now() WHERE id = any($1)", [retired, gone]
    )
    await put_hold(deps, facility, "h-live", c, (3, 7), ttl=300)
    await put_hold(deps, facility, "h-over-booking", a, (4, 6), ttl=300)  # DB wins on night 5
    await put_hold(deps, facility, "h-expired", b, (4, 6), ttl=-1)
    await put_hold(deps, await builders.facility(db), "h-elsewhere", b, (0, 6), ttl=300)

    counting = CountingPool(deps.pool)
    query = BoardQuery(facility_id=facility, start=START, end=d(6))
    board = await occupancy_board(replaced(deps, pool=counting), ADMIN, query)
    assert counting.fetches == 1
    assert grid(board) == {"A": "BBBBhB", "B": ".XX...", "C": "...hhh", "D": "B....."}
    cells = board.beds[0].cells
    assert [getattr(x, "booking_id", None) for x in cells[:4]] == [first, first, second, second]
    assert msgspec.structs.asdict(cells[0]) == {
        "booking_id": first,
        "status": "confirmed",
        "initials": "王*",
    }
    assert board.beds[1].cells[1] == BlockedCell(block_id=block, reason="cleaning")
    assert [b.retired for b in board.beds] == [False, False, False, True]
    assert board.holds_unknown is False
    night4 = board.totals[4]
    assert (night4.free, night4.held, night4.booked, night4.blocked) == (1, 2, 0, 0)
    assert "秀英" not in msgspec.json.encode(board).decode()


async def test_kind_filter_and_a_facility_without_beds(db: Any, deps: Deps) -> None:
    facility = await builders.facility(db)
    await builders.bed(db, facility, label="R1")
    await builders.bed(db, facility, label="H1", kind="home")
    homes = await occupancy_board(
        deps, ADMIN, BoardQuery(facility_id=facility, start=START, end=d(2), kind="home")
    )
    assert [b.label for b in homes.beds] == ["H1"]
    empty = await builders.facility(db)
    board = await occupancy_board(deps, ADMIN, BoardQuery(facility_id=empty, start=START, end=d(2)))
    assert board.beds == [] and [t.free for t in board.totals] == [0, 0]


async def test_unknown_facility_and_bad_windows_are_refused(db: Any, deps: Deps) -> None:
    facility = await builders.facility(db)
    with pytest.raises(NotFoundError):
        await occupancy_board(
            deps, ADMIN, BoardQuery(facility_id=facility + 1, start=START, end=d(1))
        )
    staff = Principal(id=2, role="staff", name="s", facility_id=facility + 1)
    with pytest.raises(NotFoundError):
        await occupancy_board(deps, staff, BoardQuery(facility_id=facility, start=START, end=d(1)))
    for end in (START, d(-1), d(93)):
        with pytest.raises(InvalidInputError):
            await occupancy_board(
                deps, ADMIN, BoardQuery(facility_id=facility, start=START, end=end)
            )
    assert (
        await occupancy_board(deps, ADMIN, BoardQuery(facility_id=facility, start=START, end=d(92)))
    ).end == d(92)


async def test_without_redis_the_board_answers_from_postgresql(db: Any, deps: Deps) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, label="A")
    await builders.booking(db, bed, d(1), d(2))
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
    try:
        board = await occupancy_board(
            replaced(deps, redis=dead),
            ADMIN,
            BoardQuery(facility_id=facility, start=START, end=d(3)),
        )
    finally:
        await dead.aclose()
    assert board.holds_unknown is True
    assert grid(board) == {"A": ".B."}


async def test_a_claim_whose_nights_have_a_gap_shows_only_its_nights(db: Any, deps: Deps) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, label="A")
    await builders.booking(db, bed, d(0), d(5))
    await db.execute("DELETE FROM bed_nights WHERE bed_id = $1 AND night = $2", bed, d(2))
    board = await occupancy_board(
        deps, ADMIN, BoardQuery(facility_id=facility, start=START, end=d(5))
    )
    assert grid(board) == {"A": "BB.BB"}
