"""The policies a search applies: the version of each code in force on check-in.

Every search needs them (the needs → capabilities mapping, the home-radius rule, the version
to show), and they change only when an admin publishes a version. So each app keeps the few
rows of the ``policies`` table for a few seconds instead of reading them on every search; a
newly published version reaches searches within ``ttl`` seconds. Holds and bookings judge
eligibility on their own, from the database, and never through this cache.

The cache is a property of the database it copies, so there is one per database URL in a
process (``cache_for``): every app on that database shares it, and an app on another database
(each test has its own) never sees its rows. Its time to live runs on the monotonic clock: it
decides when to read again, never what is true on a date.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import date

import msgspec

from respite.availability import queries as q
from respite.db import Conn
from respite.eligibility.model import Programme
from respite.eligibility.policy import Policy
from respite.eligibility.store import StoredPolicy
from respite.places.model import Bounds
from respite.places.service import gazetteer_bounds

__all__ = ["DEFAULT_TTL", "PolicyCache", "cache_for", "in_force", "load_versions"]

DEFAULT_TTL = 10.0


def in_force(
    versions: Sequence[StoredPolicy], programme: Programme, on: date
) -> dict[str, StoredPolicy]:
    """Per code of the programme, the latest version effective on or before ``on`` (of two
    effective the same day, the later published), as ``eligibility.store`` decides it."""
    chosen: dict[str, StoredPolicy] = {}
    for stored in versions:
        if stored.policy.programme != programme or stored.effective_from > on:
            continue
        current = chosen.get(stored.policy.code)
        rank = (stored.effective_from, stored.version)
        if current is None or rank > (current.effective_from, current.version):
            chosen[stored.policy.code] = stored
    return chosen


class PolicyCache:
    """What a search reads of the deployment that changes rarely: the policies' versions and
    the box its gazetteer covers (a search checks its points against it), each for ``ttl``."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._versions: list[StoredPolicy] = []
        self._expires = float("-inf")
        self._bounds: Bounds | None = None
        self._bounds_expire = float("-inf")

    async def versions(self, conn: Conn) -> list[StoredPolicy]:
        if self._clock() >= self._expires:
            self._versions = await load_versions(conn)
            self._expires = self._clock() + self._ttl
        return self._versions

    async def bounds(self, conn: Conn) -> Bounds | None:
        if self._clock() >= self._bounds_expire:
            self._bounds = await gazetteer_bounds(conn)
            self._bounds_expire = self._clock() + self._ttl
        return self._bounds


@functools.lru_cache(maxsize=32)
def cache_for(database_url: str) -> PolicyCache:
    return PolicyCache()


async def load_versions(conn: Conn) -> list[StoredPolicy]:
    return [
        StoredPolicy(
            id=row["id"],
            version=row["version"],
            effective_from=row["effective_from"],
            policy=msgspec.json.decode(row["document"], type=Policy),
        )
        for row in await conn.fetch(q.SELECT_POLICY_VERSIONS)
    ]
