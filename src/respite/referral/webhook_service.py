"""Use cases of a hospital's callbacks (webhooks): register, list, disable and rotate the
endpoints they are sent to; list deliveries with their attempts, ask for a redelivery, read
a referral's events.

A URL is checked before it is stored (``webhooks.parse_callback_url`` and
``resolve_target``): a refused one is a 422 naming ``url``, and nothing is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import asyncpg
import msgspec

from respite import audit, paging
from respite.auth.model import Principal
from respite.errors import InvalidInputError, NotFoundError
from respite.paging import Page
from respite.referral import queries as q
from respite.referral.errors import DeliveryInFlightError, EndpointLimitReachedError
from respite.referral.model import hospital_of
from respite.referral.webhook_model import (
    Attempt,
    Delivery,
    DeliveryDetail,
    DeliveryFilter,
    Endpoint,
    EndpointWithSecret,
    Event,
    NewEndpoint,
)
from respite.referral.webhook_security import (
    UnsafeUrlError,
    new_secret,
    parse_callback_url,
    resolve_target,
)

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "MAX_ENDPOINTS",
    "ROTATION_OVERLAP",
    "disable_endpoint",
    "get_delivery",
    "list_deliveries",
    "list_endpoints",
    "redeliver",
    "referral_events",
    "register_endpoint",
    "rotate_secret",
]

MAX_ENDPOINTS: Final = 10
# After a rotation the old secret keeps signing this long, so receivers can switch over.
ROTATION_OVERLAP: Final = timedelta(hours=24)
DELIVERY_PAGES: Final = "page:webhook-deliveries"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
        previous_secret_valid_until=row["previous_until"],
    )


def _with_secret(row: asyncpg.Record, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret(**msgspec.structs.asdict(_endpoint(row)), secret=secret)


async def register_endpoint(
    deps: Deps, principal: Principal, form: NewEndpoint
) -> EndpointWithSecret:
    """Send the hospital's callbacks to this URL too; the answer shows its secret once."""
    hospital_id = hospital_of(principal)
    try:
        target = parse_callback_url(
            form.url, allow_loopback_http=deps.settings.webhook_allow_loopback_http
        )
        await resolve_target(target)
    except UnsafeUrlError as exc:
        raise InvalidInputError.one("url", exc.text) from None
    secret = new_secret()
    async with deps.pool.acquire() as conn, conn.transaction():
        # Serialises registrations of one hospital, so the cap holds when two race.
        await conn.execute(q.LOCK_HOSPITAL, hospital_id)
        if await conn.fetchval(q.COUNT_ACTIVE_ENDPOINTS, hospital_id) >= MAX_ENDPOINTS:
            raise EndpointLimitReachedError(max_endpoints=MAX_ENDPOINTS)
        row = await conn.fetchrow(
            q.INSERT_ENDPOINT, hospital_id, form.url, form.description, secret, principal.id
        )
        assert row is not None  # INSERT ... RETURNING
        await audit.record(
            conn, principal, "create", "webhook_endpoint", row["id"], after={"url": form.url}
        )
    return _with_secret(row, secret)


async def list_endpoints(deps: Deps, principal: Principal) -> list[Endpoint]:
    rows = await deps.pool.fetch(q.LIST_ENDPOINTS, hospital_of(principal))
    return [_endpoint(row) for row in rows]


async def disable_endpoint(deps: Deps, principal: Principal, endpoint_id: int) -> Endpoint:
    """Stop sending to an endpoint; its pending deliveries stay pending, unsent."""
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.DISABLE_ENDPOINT, endpoint_id, hospital_of(principal))
        if row is None:
            raise NotFoundError("webhook endpoint", endpoint_id)
        await audit.record(conn, principal, "disable", "webhook_endpoint", endpoint_id)
    return _endpoint(row)


async def rotate_secret(deps: Deps, principal: Principal, endpoint_id: int) -> EndpointWithSecret:
    """A new secret; the current one keeps signing too until ``ROTATION_OVERLAP`` has passed."""
    secret = new_secret()
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            q.ROTATE_SECRET, endpoint_id, hospital_of(principal), secret, now + ROTATION_OVERLAP
        )
        if row is None:
            raise NotFoundError("webhook endpoint", endpoint_id)
        await audit.record(conn, principal, "rotate_secret", "webhook_endpoint", endpoint_id)
    return _with_secret(row, secret)


def _delivery(row: asyncpg.Record, now: datetime) -> Delivery:
    locked = row["locked_until"]
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        referral_id=row["referral_id"],
        endpoint_id=row["endpoint_id"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        in_flight=row["status"] == "pending" and locked is not None and locked > now,
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_deliveries(
    deps: Deps, principal: Principal, filters: DeliveryFilter
) -> Page[Delivery]:
    after = paging.decode(deps.settings, DELIVERY_PAGES, filters.cursor, int) or 0
    rows = await deps.pool.fetch(
        q.LIST_DELIVERIES,
        hospital_of(principal),
        filters.status,
        filters.referral_id,
        after,
        paging.fetch_size(filters.limit),
    )
    now = deps.clock.now()
    fetched = [_delivery(row, now) for row in rows]
    return paging.page(deps.settings, DELIVERY_PAGES, fetched, filters.limit, lambda d: d.id)


async def get_delivery(deps: Deps, principal: Principal, delivery_id: int) -> DeliveryDetail:
    """One delivery with every attempt made, oldest first."""
    async with deps.pool.acquire() as conn:
        row = await conn.fetchrow(q.SELECT_DELIVERY, delivery_id, hospital_of(principal))
        if row is None:
            raise NotFoundError("webhook delivery", delivery_id)
        attempts = await conn.fetch(q.SELECT_ATTEMPTS, delivery_id)
    delivery = _delivery(row, deps.clock.now())
    return DeliveryDetail(
        **msgspec.structs.asdict(delivery),
        attempts_made=[Attempt(**dict(a)) for a in attempts],
    )


async def redeliver(deps: Deps, principal: Principal, delivery_id: int) -> Delivery:
    """Send again now: a delivered or given-up delivery starts a new round of retries."""
    hospital_id = hospital_of(principal)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.REDELIVER, delivery_id, hospital_id, now)
        if row is None:
            if await conn.fetchrow(q.SELECT_DELIVERY, delivery_id, hospital_id) is None:
                raise NotFoundError("webhook delivery", delivery_id)
            raise DeliveryInFlightError(delivery_id=delivery_id)
        await audit.record(conn, principal, "redeliver", "webhook_delivery", delivery_id)
    return _delivery(row, now)


_decode_event = msgspec.json.Decoder(Event).decode


async def referral_events(deps: Deps, principal: Principal, referral_id: int) -> list[Event]:
    """Every event of a referral, in order: what the callbacks carried (or will carry)."""
    hospital_id = hospital_of(principal)
    async with deps.pool.acquire() as conn:
        if await conn.fetchval(q.SELECT_REFERRAL, referral_id, hospital_id) is None:
            raise NotFoundError("referral", referral_id)
        rows = await conn.fetch(q.LIST_REFERRAL_EVENTS, referral_id, hospital_id)
    return [_decode_event(row["body"]) for row in rows]
