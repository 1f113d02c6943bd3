"""The floor of ``holds.py``: one hold and one confirm as the statements and scripts they run,
without the app around them, and the check that keeps it so.

``Floor.hold`` and ``Floor.confirm`` run, for one (bed, elder, stay) of their own with a fresh
idempotency key and hold id, what ``POST /v1/holds`` and ``POST /v1/holds/{id}/confirm`` run
against PostgreSQL and Redis, in the same order and the same transactions: the bearer token's
lookup (every authenticated request makes it), then the use case's statements (the SQL
constants and one-statement helpers of the respite modules, never SQL typed here) and its Lua
scripts (through ``HoldStore`` and ``read_live_holds``). What they leave out is what is neither
a statement nor a script: HTTP, routing, DI, decoding the body, the pure eligibility decision
(confirm inserts the decision that the checked confirm recorded) and signing the hold token (a
random token of the same length stands in).

``check`` keeps that true. It calls ``authenticate`` + ``place_hold`` and ``authenticate`` +
``confirm_hold`` in-process on a ``Deps`` wired as ``create_app`` wires it, then the floor's hold
and confirm of another slot, each recorded by asyncpg's query logger and by a wrapper around the
Redis client's ``execute_command``; when the two sequences differ, the benchmark stops naming
the first step that differs.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import msgspec

from respite import audit, idempotency, nights
from respite.auth import queries as auth_queries
from respite.auth.model import Principal, hash_token
from respite.auth.service import authenticate
from respite.booking import queries as booking_queries
from respite.booking import store as bookings
from respite.booking.model import stay_price
from respite.cache import RedisClient, create_redis
from respite.clock import SystemClock
from respite.db import Pool, create_pool
from respite.deps import Deps
from respite.eligibility import subject
from respite.holds import ends as hold_ends
from respite.holds import starts as hold_starts
from respite.holds import store as hold_store
from respite.holds.model import ConfirmHold, HeldBed, Hold, HoldRequest, PlaceHold, instant
from respite.holds.service import confirm_hold, place_hold
from respite.holds.store import HoldStore, StoredHold, read_live_holds
from respite.holds.token import token_hash
from respite.referral.listener import ReferralListener
from respite.settings import Settings

__all__ = [
    "Caller",
    "Floor",
    "FloorDriftError",
    "FloorHold",
    "Slot",
    "Template",
    "check",
    "floor_settings",
]

Slot = tuple[Any, int, date, date]  # (bed row, elder id, check-in, check-out), as Scene deals
SQL_MODULES: tuple[ModuleType, ...] = (
    idempotency,
    audit,
    nights,
    booking_queries,
    subject,
    auth_queries,
    hold_ends,
)
SCRIPTS = ("READ", "PLACE", "RESERVE", "RESCORE", "EXTEND", "RELEASE")


class FloorDriftError(RuntimeError):
    """The floor no longer runs what the use case runs: mend ``holds_floor.py``."""


class Caller(msgspec.Struct, frozen=True):
    principal: Principal
    token: str
    """The bearer token the HTTP side sends for this principal."""


class Template(msgspec.Struct, frozen=True):
    """What the floor takes from the checked use cases rather than computing it."""

    decision: Any
    """The eligibility decision the real confirm inserted (the pure engine is not a statement)."""
    token_length: int
    """The length of a signed hold token, for the random token that stands in for it."""


class FloorHold(msgspec.Struct, frozen=True):
    """A hold the floor placed, for the floor's confirm."""

    caller: Caller
    slot: Slot
    hold_id: str
    token: str
    placed_at: datetime


def floor_settings(pool_size: int) -> Settings:
    """The settings of the benchmark's app that the use cases read (the pool's size, the hold
    cap of its admin principals)."""
    return Settings(
        db_pool_min=pool_size,
        db_pool_max=pool_size,
        hold_cap_staff=1_000_000,
    )


class Floor:
    """One hold and one confirm as raw statements and scripts (see the module's docstring)."""

    def __init__(
        self, pool: Pool, store: HoldStore, settings: Settings, template: Template
    ) -> None:
        self.pool = pool
        self.store = store
        self.settings = settings
        self.template = template
        self.clock = SystemClock()

    async def hold(self, caller: Caller, slot: Slot) -> FloorHold:
        bed, elder, check_in, check_out = slot
        p, settings = caller.principal, self.settings
        now = self.clock.now()
        at = now.timestamp()
        await self.pool.fetchrow(
            auth_queries.SELECT_PRINCIPAL_BY_TOKEN, hash_token(caller.token), now
        )
        request = HoldRequest(
            care_recipient_id=elder, bed_id=bed["id"], check_in=check_in, check_out=check_out
        )
        key = f"h-{secrets.token_hex(8)}"
        hold_id = f"{bed['facility_id']}-{secrets.token_hex(10)}"
        length = self.template.token_length
        token = secrets.token_hex(length // 2 + 1)[:length]
        async with self.pool.acquire() as conn, conn.transaction():
            await idempotency.claim(conn, p, key, "hold", idempotency.body_hash("hold", request))
            row = await conn.fetchrow(booking_queries.SELECT_BED_TO_HOLD, bed["id"], check_in)
            viewer = subject.Viewer.of(p, now, settings)
            await conn.fetchrow(subject.SELECT_SUBJECT, elder, *viewer.params())
            await conn.fetch(subject.SELECT_USED_STAYS, elder, row["kind"], None)
            await nights.first_claim(conn, bed["id"], check_in, check_out)
            stay = {"bed_id": bed["id"], "check_in": check_in, "check_out": check_out}
            facility_id = row["facility_id"]
            await audit.record(
                conn, p, "hold", "hold", hold_id, facility_id=facility_id, after=stay
            )
            price = row["nightly_price"]
            answer = Hold(
                hold_id=hold_id,
                token=token,
                expires_at=instant(at + settings.hold_ttl_seconds),
                seconds_left=settings.hold_ttl_seconds,
                max_expires_at=instant(at + settings.hold_max_age_seconds),
                extensions_left=settings.hold_max_extensions,
                bed=HeldBed(
                    id=bed["id"], label=row["label"], facility_id=facility_id, kind=row["kind"]
                ),
                care_recipient_id=elder,
                check_in=check_in,
                check_out=check_out,
                nights=(check_out - check_in).days,
                nightly_price=price,
                total_price=stay_price(price, check_in, check_out),
            )
            await hold_starts.start_hold(
                conn,
                hold_id,
                max_expires_at=answer.max_expires_at,
                expires_at=answer.expires_at,
                bed_id=bed["id"],
                check_in=check_in,
                check_out=check_out,
            )
            await idempotency.remember(conn, p, key, 201, answer)
            expires = answer.expires_at.timestamp()
            await self.store.reserve(p.id, hold_id, expires, at, settings.hold_cap_staff)
            stored = StoredHold(
                bed_id=bed["id"],
                check_in=check_in.isoformat(),
                check_out=check_out.isoformat(),
                expires_at=expires,
                created_at=at,
                principal_id=p.id,
                care_recipient_id=elder,
                token_hash=token_hash(token),
                nightly_price=price,
            )
            await self.store.place(facility_id, hold_id, stored, at)
        return FloorHold(caller, slot, hold_id, token, datetime.fromtimestamp(at, UTC))

    async def confirm(self, held: FloorHold) -> None:
        bed, elder, check_in, check_out = held.slot
        p, facility_id = held.caller.principal, bed["facility_id"]
        decision, settings = self.template.decision, self.settings
        now = self.clock.now()
        await self.pool.fetchrow(
            auth_queries.SELECT_PRINCIPAL_BY_TOKEN, hash_token(held.caller.token), now
        )
        await read_live_holds(self.store.client, [facility_id], now.timestamp())
        key = f"c-{held.hold_id}"
        async with self.pool.acquire() as conn, conn.transaction():
            request_hash = idempotency.body_hash("confirm", held.hold_id, held.token)
            await idempotency.claim(conn, p, key, "confirm", request_hash)
            max_age = timedelta(seconds=self.settings.hold_max_age_seconds)
            await hold_ends.end_hold(conn, held.hold_id, "confirmed", held.placed_at + max_age)
            await bookings.lock_recipient(conn, elder)
            row = await conn.fetchrow(booking_queries.SELECT_BED_TO_BOOK, bed["id"], check_in)
            viewer = subject.Viewer.of(p, now, settings)
            await conn.fetchrow(subject.SELECT_SUBJECT, elder, *viewer.params())
            await conn.fetch(subject.SELECT_USED_STAYS, elder, row["kind"], None)
            price = row["nightly_price"]
            booking_id = await conn.fetchval(
                booking_queries.INSERT_BOOKING,
                *(bed["id"], facility_id, elder, check_in, check_out, price),
                *(stay_price(price, check_in, check_out), row["policy_id"], decision),
                *(None, p.id, p.hospital_id, held.hold_id, []),
            )
            await nights.claim_elder_nights(conn, elder, check_in, check_out, booking_id=booking_id)
            await nights.claim_nights(conn, bed["id"], check_in, check_out, booking_id=booking_id)
            booking = await bookings.load_booking(conn, booking_id)
            after = {
                **bookings.audit_state(booking),
                "bed_id": bed["id"],
                "care_recipient_id": elder,
                "hold_id": held.hold_id,
                "policy_id": row["policy_id"],
                "eligible": decision.eligible,
                "refused": [r.code for r in decision.reasons if not r.ok],
                "override_reason": None,
            }
            await audit.record(
                conn, p, "create", "booking", booking_id, facility_id=facility_id, after=after
            )
            await idempotency.remember(conn, p, key, 201, booking)
        await self.store.release(facility_id, held.hold_id, token_hash(held.token), p.id)


# The honesty check ---------------------------------------------------------------------------


class Step(msgspec.Struct, frozen=True):
    name: str
    args: tuple[Any, ...] = ()


class Recorder:
    """Every statement of one connection and every command of one Redis client, in order,
    while ``on``. Both are noted through ``call_soon``: asyncpg's query logger calls back that
    way when a statement ends, so a command noted when it starts lands after the statement
    before it."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.on = False
        self.sql_names = {
            " ".join(value.split()): name
            for module in SQL_MODULES
            for name, value in vars(module).items()
            if name.isupper() and isinstance(value, str)
        }
        scripts = {getattr(hold_store, name): name for name in SCRIPTS}
        self.script_names = {hashlib.sha1(s.encode()).hexdigest(): n for s, n in scripts.items()}  # noqa: S324

    def statement(self, record: Any) -> None:
        if self.on:
            text = " ".join(record.query.split())
            self.steps.append(Step(f"SQL {self.sql_names.get(text, text[:60])}", record.args))

    def command(self, args: tuple[Any, ...]) -> None:
        if self.on:
            name = str(args[0]).upper()
            if name in ("EVALSHA", "EVAL"):
                sha = args[1] if name == "EVALSHA" else hashlib.sha1(args[1].encode()).hexdigest()  # noqa: S324
                name = f"script {self.script_names.get(sha, sha)}"
            asyncio.get_running_loop().call_soon(self.steps.append, Step(f"Redis {name}"))

    async def take(self) -> list[Step]:
        await asyncio.sleep(0.01)  # let the last callbacks of the query logger run
        steps, self.steps = self.steps, []
        return steps

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.on = True
        try:
            yield
        finally:
            self.on = False

    def watch(self, client: RedisClient) -> None:
        plain = client.execute_command

        async def execute_command(*args: Any, **options: Any) -> Any:
            self.command(args)
            return await plain(*args, **options)

        client.execute_command = execute_command  # type: ignore[method-assign]


def _compare(what: str, real: list[Step], floor: list[Step]) -> None:
    names = [s.name for s in real], [s.name for s in floor]
    if names[0] == names[1]:
        return
    n = next((i for i, (a, b) in enumerate(zip(*names, strict=False)) if a != b), None)
    if n is None:
        n = min(map(len, names))
        runs = "nothing" if n == len(names[0]) else names[0][n]
        floor_runs = "nothing" if n == len(names[1]) else names[1][n]
    else:
        runs, floor_runs = names[0][n], names[1][n]
    raise FloorDriftError(
        f"the {what} floor differs at step {n + 1}: {what} runs {runs}, the floor runs "
        f"{floor_runs}\n  {what}: {names[0]}\n  floor: {names[1]}"
    )


class Checked(msgspec.Struct, frozen=True):
    hold: list[Step]
    confirm: list[Step]
    template: Template


async def check(
    dsn: str, redis_url: str, caller: Caller, slots: list[Slot], settings: Settings
) -> tuple[Template, dict[str, list[str]]]:
    """Run a hold and its confirm through the use cases, then through the floor (each twice,
    the first time to prepare statements and load scripts), compare the second runs, and
    answer the floor's template and the steps of one hold and one confirm."""
    recorder = Recorder()
    one = msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=1)
    pool = await create_pool(one, dsn)  # one connection: its logger sees every statement
    client = create_redis(one, redis_url)
    recorder.watch(client)
    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(recorder.statement)
        clock = SystemClock()
        store = HoldStore(client)
        deps = Deps(
            pool=pool,
            redis=client,
            holds=store,
            clock=clock,
            settings=one,
            listeners=(ReferralListener(clock),),
        )
        for slot in slots[:2]:
            real = await _real(deps, recorder, caller, slot)
        floor = Floor(pool, store, one, real.template)
        for slot in slots[2:4]:
            with recorder.recording():
                held = await floor.hold(caller, slot)
                hold = await recorder.take()
                await floor.confirm(held)
                confirm = await recorder.take()
        _compare("hold", real.hold, hold)
        _compare("confirm", real.confirm, confirm)
    finally:
        await pool.close()
        await client.aclose()
    return real.template, {
        "hold": [s.name for s in real.hold],
        "confirm": [s.name for s in real.confirm],
    }


async def _real(deps: Deps, recorder: Recorder, caller: Caller, slot: Slot) -> Checked:
    bed, elder, check_in, check_out = slot
    request = HoldRequest(
        care_recipient_id=elder, bed_id=bed["id"], check_in=check_in, check_out=check_out
    )
    with recorder.recording():
        principal = await authenticate(deps, caller.token)
        assert principal == caller.principal, "the benchmark's token acts for someone else"
        key = f"h-{secrets.token_hex(8)}"
        hold = await place_hold(deps, principal, PlaceHold(request=request, idempotency_key=key))
        placed = await recorder.take()
        await authenticate(deps, caller.token)
        command = ConfirmHold(
            hold_id=hold.hold_id, token=hold.token, idempotency_key=f"c-{hold.hold_id}"
        )
        await confirm_hold(deps, principal, command)
        confirmed = await recorder.take()
    inserted = next(s for s in confirmed if s.name == "SQL INSERT_BOOKING")
    template = Template(decision=inserted.args[8], token_length=len(hold.token))
    return Checked(hold=placed, confirm=confirmed, template=template)
