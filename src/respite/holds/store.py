"""The Redis hold store: short claims on (bed, stay), kept atomic by one Lua script per operation.

Layout. Every key of a facility carries the hash tag ``{f:<id>}`` and every key of a principal
``{p:<id>}``, so each script touches one cluster slot and runs unchanged on Redis Cluster:

- ``{f:<id>}:holds`` — hash, field = hold id, value = JSON of the hold (``StoredHold``). One
  HGETALL per facility shows every hold of it. The key expires a minute after its last hold.
- ``{p:<id>}:holds`` — sorted set of that principal's hold ids scored by expiry: the cap on
  live holds per principal (no hoarding), and the index of "my holds". A hold id starts with
  its facility's id (``<facility>-<random>``), so the id alone finds the hash that holds it.

A hold is live while ``expires_at`` (unix seconds by the app's clock) is after the app's
``now``: liveness is checked on every read and in every script, never left to keyspace
notifications. Keys only expire to clean up, a minute after their last hold, and their time to
live is set RELATIVE to the app's ``now`` (``PEXPIRE expires_at - now``), never as an absolute
instant: Redis's clock may be a little off the app's (or a test's clock may stand still), and
an absolute instant read by the other clock would drop live holds early. Redis may lose a hold
at any moment; the worst outcome is a failed confirm, never an overbooking (confirm re-checks
in PostgreSQL).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Literal

import msgspec
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from respite.cache import RedisClient
from respite.holds.errors import HoldsUnavailable
from respite.holds.tracking import TrackedHolds

__all__ = [
    "ExtendResult",
    "HoldLimits",
    "HoldStore",
    "HoldsUnavailable",
    "LiveHold",
    "PlaceResult",
    "StoredHold",
    "facility_key",
    "hold_facility",
    "is_offer_hold",
    "offer_hold_id",
    "principal_key",
    "read_live_holds",
]


log = logging.getLogger("respite.holds")
# How long a key outlives its last hold (milliseconds): only to clean up.
GRACE_MS = 60_000


class LiveHold(msgspec.Struct, frozen=True, kw_only=True):
    hold_id: str = ""
    bed_id: int
    check_in: date
    check_out: date
    expires_at: float


class StoredHold(msgspec.Struct, frozen=True, kw_only=True):
    """What Redis keeps of a hold. ``check_in``/``check_out`` are ISO dates, so the scripts
    compare them as strings."""

    bed_id: int
    check_in: str
    check_out: str
    expires_at: float
    created_at: float
    principal_id: int
    care_recipient_id: int
    token_hash: str
    extensions: int = 0
    nightly_price: int | None = None
    """The price the hold showed; absent from holds placed before it was kept here."""


class PlaceResult(msgspec.Struct, frozen=True):
    placed: bool
    conflicting_hold: str | None = None


class ExtendResult(msgspec.Struct, frozen=True):
    status: Literal["ok", "missing", "limit", "max_age"]
    """``missing``: no live hold with this token; ``limit``: no extension left;
    ``max_age``: the hold already lives as long as it may."""
    hold: StoredHold | None = None


class HoldLimits(msgspec.Struct, frozen=True, kw_only=True):
    ttl: int
    max_extensions: int
    max_age: int


_decode_live = msgspec.json.Decoder(LiveHold).decode
_decode_stored = msgspec.json.Decoder(StoredHold).decode


def facility_key(facility_id: int) -> str:
    return f"{{f:{facility_id}}}:holds"


def principal_key(principal_id: int) -> str:
    return f"{{p:{principal_id}}}:holds"


def hold_facility(hold_id: str) -> int | None:
    """The facility a hold id names, or None for a string that is no hold id."""
    facility, dash, rest = hold_id.partition("-")
    if not dash or not rest or not facility.isascii() or not facility.isdigit():
        return None
    if len(facility) > 18:  # beyond a bigint: no facility has that id
        return None
    return int(facility)


def offer_hold_id(facility_id: int, job_id: int) -> str:
    """The id of the hold a waiting-list offer keeps (``<facility>-offer-<job>``): its offer,
    in PostgreSQL, says whether it stands; the holds API neither shows nor releases it."""
    return f"{facility_id}-offer-{job_id}"


def is_offer_hold(hold_id: str) -> bool:
    return hold_id.partition("-")[2].startswith("offer-")


def _stored(hold_id: str, raw: bytes | str | None) -> StoredHold | None:
    if raw is None:
        return None
    try:
        return _decode_stored(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        # Only our scripts write here; a value they did not write holds no bed.
        log.error("unreadable hold %r ignored", hold_id)
        return None


# KEYS: facility hashes. The HGETALL of each, in one command: a pipeline of HGETALLs costs
# the client as much per key as one command does, and a search reads a page of facilities.
READ = """
local replies = {}
for i, key in ipairs(KEYS) do replies[i] = redis.call('HGETALL', key) end
return replies
"""
_READ_SHA = hashlib.sha1(READ.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)


async def read_live_holds(
    client: RedisClient,
    facility_ids: Sequence[int],
    now: float,
    tracked: TrackedHolds | None = None,
) -> dict[int, list[LiveHold]]:
    """Every live hold of the given facilities: those ``tracked`` keeps (``holds.tracking``),
    and the others in one round trip, kept in turn: one script on a single Redis; on a
    cluster, whose keys of several facilities lie in several slots, a pipeline of HGETALLs
    that the client sends to each node at once."""
    if not facility_ids:
        return {}
    kept = {} if tracked is None else tracked.kept(facility_ids)
    missing = [f for f in facility_ids if f not in kept]
    if missing:
        mark = None if tracked is None else tracked.mark()
        read = dict(zip(missing, await _read_hashes(client, missing), strict=True))
        if tracked is not None and mark is not None:
            tracked.keep(mark, read)
        kept |= read
    live: dict[int, list[LiveHold]] = {}
    for facility_id in facility_ids:
        holds = []
        for hold_id, raw in kept[facility_id]:
            try:
                hold = _decode_live(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                # Only our scripts write here; a value they did not write holds no bed.
                log.error("unreadable hold %r in facility %s ignored", hold_id, facility_id)
                continue
            if hold.expires_at > now:
                holds.append(msgspec.structs.replace(hold, hold_id=hold_id.decode()))
        if holds:
            live[facility_id] = holds
    return live


async def _read_hashes(
    client: RedisClient, facility_ids: Sequence[int]
) -> list[list[tuple[bytes, bytes]]]:
    keys = [facility_key(f) for f in facility_ids]
    try:
        if isinstance(client, RedisCluster):
            async with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(key)
                return [list(reply.items()) for reply in await pipe.execute()]
        try:
            flat = await client.evalsha(_READ_SHA, len(keys), *keys)
        except NoScriptError:  # a restarted or flushed Redis forgot the script
            flat = await client.eval(READ, len(keys), *keys)
        return [list(zip(r[::2], r[1::2], strict=True)) for r in flat]
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise HoldsUnavailable from exc


# Keeps a key at least ``ms`` milliseconds more, never less: GT alone would leave a key
# without a time to live as it is (no expiry counts as the longest).
_KEEP = f"""
local function keep(key, ms)
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ms)
  else
    redis.call('PEXPIRE', key, ms, 'GT')
  end
end
local function ms_until(instant, now)
  return math.ceil((instant - now) * 1000) + {GRACE_MS}
end
"""

# KEYS[1] facility hash; ARGV: hold id, stored JSON, now. Drops expired (and unreadable)
# holds on the way.
# Returns {1} when placed, {0, id} naming a live hold of the same bed whose stay overlaps.
PLACE = (
    _KEEP
    + """
local new = cjson.decode(ARGV[2])
local now = tonumber(ARGV[3])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local ok, other = pcall(cjson.decode, entries[i + 1])
  if not ok or type(other) ~= 'table' or type(other.expires_at) ~= 'number'
      or other.expires_at <= now then
    redis.call('HDEL', KEYS[1], entries[i])
  elseif other.bed_id == new.bed_id and other.check_in < new.check_out
      and new.check_in < other.check_out then
    return {0, entries[i]}
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
keep(KEYS[1], ms_until(new.expires_at, now))
return {1}
"""
)

# KEYS[1] principal set; ARGV: hold id, expiry, now, cap. Counts only live holds.
RESERVE = (
    _KEEP
    + """
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
keep(KEYS[1], ms_until(tonumber(ARGV[2]), now))
return 1
"""
)

# KEYS[1] principal set; ARGV: hold id, new expiry, now. An extended hold counts
# against the cap until its new expiry.
RESCORE = (
    _KEEP
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
keep(KEYS[1], ms_until(tonumber(ARGV[2]), tonumber(ARGV[3])))
return 1
"""
)

# KEYS[1] facility hash; ARGV: hold id, token hash, now, ttl, max extensions, max age.
# Returns {status, hold JSON}: status 'ok', 'missing', 'limit' or 'max_age'.
EXTEND = (
    _KEEP
    + """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'missing', ''} end
local ok, hold = pcall(cjson.decode, raw)
if not ok or type(hold) ~= 'table' then return {'missing', ''} end
local now = tonumber(ARGV[3])
if hold.token_hash ~= ARGV[2] or hold.expires_at <= now then return {'missing', ''} end
if hold.extensions >= tonumber(ARGV[5]) then return {'limit', raw} end
local oldest = hold.created_at + tonumber(ARGV[6])
if hold.expires_at >= oldest then return {'max_age', raw} end
local until_ = math.min(now + tonumber(ARGV[4]), oldest)
-- Asked again at once, an extension would gain nothing: it is not spent.
if until_ <= hold.expires_at then return {'ok', raw} end
hold.expires_at = until_
hold.extensions = hold.extensions + 1
raw = cjson.encode(hold)
redis.call('HSET', KEYS[1], ARGV[1], raw)
keep(KEYS[1], ms_until(until_, now))
return {'ok', raw}
"""
)

# KEYS[1] facility hash; ARGV: hold id, token hash. Deletes the hold if the token matches.
RELEASE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, hold = pcall(cjson.decode, raw)
if not ok or type(hold) ~= 'table' or hold.token_hash ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


@contextmanager
def _answering() -> Iterator[None]:
    """A Redis that does not answer (or answers too late) is HoldsUnavailable (503)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise HoldsUnavailable from exc


class HoldStore:
    """The hold scripts bound to one Redis client. Times are unix seconds by the app's clock;
    a Redis that does not answer raises HoldsUnavailable."""

    def __init__(self, client: RedisClient, tracked: TrackedHolds | None = None) -> None:
        self.client = client
        self.tracked = tracked
        """The facilities' holds kept in process (``holds.tracking``); None: read each time."""
        self._place = client.register_script(PLACE)
        self._reserve = client.register_script(RESERVE)
        self._rescore = client.register_script(RESCORE)
        self._extend = client.register_script(EXTEND)
        self._release = client.register_script(RELEASE)

    def _changed(self, facility_id: int) -> None:
        # What this process wrote, it reads back at once, before Redis's word arrives.
        if self.tracked is not None:
            self.tracked.changed(facility_id)

    async def reserve(
        self, principal_id: int, hold_id: str, expires_at: float, now: float, cap: int
    ) -> bool:
        """Count a new hold against its principal's cap; False when the cap is reached."""
        args: list[str | float] = [hold_id, expires_at, now, cap]
        with _answering():
            return bool(await self._reserve(keys=[principal_key(principal_id)], args=args))

    async def unreserve(self, principal_id: int, hold_id: str) -> None:
        with _answering():
            await self.client.zrem(principal_key(principal_id), hold_id)

    async def place(
        self, facility_id: int, hold_id: str, hold: StoredHold, now: float
    ) -> PlaceResult:
        args: list[str | bytes | float] = [hold_id, msgspec.json.encode(hold), now]
        with _answering():
            reply = await self._place(keys=[facility_key(facility_id)], args=args)
        self._changed(facility_id)
        if reply[0] == 1:
            return PlaceResult(placed=True)
        return PlaceResult(placed=False, conflicting_hold=reply[1].decode())

    async def extend(
        self, facility_id: int, hold_id: str, token_hash: str, now: float, limits: HoldLimits
    ) -> ExtendResult:
        args: list[str | float] = [
            hold_id,
            token_hash,
            now,
            limits.ttl,
            limits.max_extensions,
            limits.max_age,
        ]
        with _answering():
            status, raw = await self._extend(keys=[facility_key(facility_id)], args=args)
        self._changed(facility_id)
        result = ExtendResult(status=status.decode(), hold=_decode_stored(raw) if raw else None)
        if result.status == "ok" and result.hold is not None:
            # The principal's set lies in another slot: a call of its own.
            rescore: list[str | float] = [hold_id, result.hold.expires_at, now]
            with _answering():
                await self._rescore(keys=[principal_key(result.hold.principal_id)], args=rescore)
        return result

    async def held(self, facility_id: int, hold_id: str) -> StoredHold | None:
        """The hold as Redis keeps it, live or not (the caller judges), or None."""
        with _answering():
            raw = await self.client.hget(facility_key(facility_id), hold_id)
        return _stored(hold_id, raw)

    async def holds_of(
        self, principal_id: int, now: float, limit: int
    ) -> list[tuple[str, StoredHold]]:
        """The principal's live holds, soonest to end first, at most ``limit``: the ids from its
        set, then the holds from their facilities' hashes in one pipeline (on a cluster, the
        client sends each node its part at once)."""
        key = principal_key(principal_id)
        with _answering():
            ids = await self.client.zrangebyscore(key, f"({now!r}", "+inf", start=0, num=limit)
        wanted: dict[int, list[str]] = {}
        for raw_id in ids:
            hold_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            facility_id = hold_facility(hold_id)
            if facility_id is not None:
                wanted.setdefault(facility_id, []).append(hold_id)
        if not wanted:
            return []
        with _answering():
            async with self.client.pipeline(transaction=False) as pipe:
                for facility_id, hold_ids in wanted.items():
                    pipe.hmget(facility_key(facility_id), hold_ids)
                replies = await pipe.execute()
        found = []
        for hold_ids, values in zip(wanted.values(), replies, strict=True):
            for hold_id, raw in zip(hold_ids, values, strict=True):
                stored = _stored(hold_id, raw)
                # Redis may have lost the hold, or kept an id whose hold was confirmed.
                if stored and stored.expires_at > now and stored.principal_id == principal_id:
                    found.append((hold_id, stored))
        return sorted(found, key=lambda held: (held[1].expires_at, held[0]))

    async def release(
        self, facility_id: int, hold_id: str, token_hash: str, principal_id: int
    ) -> bool:
        """Delete the hold if the token is its own, and free its slot."""
        with _answering():
            released = bool(
                await self._release(keys=[facility_key(facility_id)], args=[hold_id, token_hash])
            )
            self._changed(facility_id)
            # A different slot, so a separate call: at worst the cap counts a released hold
            # until its expiry.
            await self.client.zrem(principal_key(principal_id), hold_id)
        return released
