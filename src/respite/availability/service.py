"""Use case: which beds are free for this stay, near here or in these facilities, for this person.

One connection, a fixed number of queries: the policies in force on check-in, the person (for
a care recipient: who they are and the nights they have used), one query for the page of
facilities with their free matching beds, and on the first page one more for the facilities
that eligibility excluded. When fewer than three facilities have a bed for the exact stay
(first page), the same stay shifted by up to a week is looked for too: at once, on the same
connection, when the page itself has fewer than three facilities, so that one Redis round trip
reads the holds of both; only when holds emptied a fuller page does it take a second pass.

Redis being down never fails a search and never shows a held bed as simply free: every bed is
then marked ``possibly_held`` and the page ``holds_unknown``.

Each facility judges the stay by its own today (in SQL, from the query's ``now``): one where
check-in is already past offers nothing, and a search whose check-in is past at every facility
it finds answers a field error on ``check_in``. The eligibility rules that do not depend on the
facility are judged once, at the earliest today on Earth (``Horizon.first``), so that they
never refuse a stay that some facility may still take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from redis.exceptions import RedisError

from respite.auth.model import Principal
from respite.availability import plan
from respite.availability.cursor import decode_cursor, encode_cursor
from respite.availability.explain import BedType, FacilitySite, bed_refusals, summarise
from respite.availability.locate import locate, nearest_home_providers
from respite.availability.model import (
    Alternative,
    AvailabilityPage,
    AvailabilityQuery,
    ExcludedFacility,
    FreeBed,
    Horizon,
    PageKey,
    PolicyRefusal,
    SearchParams,
    horizon,
    shifts_to_try,
    validate_query,
)
from respite.availability.offers import (
    AlternativeRow,
    HoldsView,
    PageRow,
    best_alternative,
    km,
    offer,
)
from respite.availability.policies import PolicyCache, cache_for, in_force
from respite.availability.searcher import (
    Searcher,
    anonymous,
    filters,
    home_of,
    judge_programmes,
    policy_ref,
    qualifying_shifts,
    resolve_where,
)
from respite.availability.where import NearestProvider
from respite.db import Conn, Pool
from respite.eligibility.store import StoredPolicy
from respite.eligibility.subject import Viewer, load_subject, used_stays
from respite.errors import AuthenticationError, InvalidInputError
from respite.holds.store import HoldStore, HoldsUnavailable, read_live_holds
from respite.i18n import t
from respite.places.model import CoordinateSystem, Place

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["ALTERNATIVES_BELOW", "MAX_ALTERNATIVES", "MAX_EXCLUDED", "search_availability"]

log = logging.getLogger("respite.availability")

ALTERNATIVES_BELOW = 3
MAX_ALTERNATIVES = 10
MAX_EXCLUDED = 10


class _Result(msgspec.Struct, frozen=True, kw_only=True):
    page: AvailabilityPage
    next_key: PageKey | None


class _Context(msgspec.Struct, frozen=True, kw_only=True):
    query: AvailabilityQuery
    policies: dict[str, StoredPolicy]
    """The policies of the programme under which the person qualifies for the stay."""
    refused: list[PolicyRefusal]
    searcher: Searcher
    filters: plan.Filters
    refused_filters: plan.Filters
    """The same person's filters under the policies that refuse them."""
    horizon: Horizon
    place: Place | None


_decode_beds = msgspec.json.Decoder(list[FreeBed]).decode
_decode_bed_types = msgspec.json.Decoder(list[BedType]).decode


async def search_availability(
    deps: Deps, principal: Principal | None, params: SearchParams
) -> AvailabilityPage:
    """One page of the search at the clock's now, and the cursor of the next one.

    Raises InvalidInputError for wrong parameters (every one named), a cursor not issued for
    this search, a check-in past at every facility found, or no place to look around;
    NotFoundError for a care recipient the principal may not see; AuthenticationError for a
    care recipient without a principal."""
    query = validate_query(params, deps.clock.now())
    if params.cursor is not None:
        after = decode_cursor(deps.settings, params.cursor, query.fingerprint())
        query = msgspec.structs.replace(query, after=after)
    policies = cache_for(deps.settings.database_url or "")
    viewer = None if principal is None else Viewer.of(principal, query.now, deps.settings)
    system = deps.settings.coordinate_system
    result = await _search(deps.pool, deps.holds, viewer, query, policies, system)
    if result.next_key is None:
        return result.page
    # The fingerprint leaves out where the page starts (``after``): the same as above.
    next_cursor = encode_cursor(deps.settings, query.fingerprint(), result.next_key)
    return msgspec.structs.replace(result.page, next_cursor=next_cursor)


async def _search(
    pool: Pool,
    store: HoldStore,
    viewer: Viewer | None,
    query: AvailabilityQuery,
    policies: PolicyCache,
    system: CoordinateSystem,
) -> _Result:
    now = query.now.timestamp()
    reading: asyncio.Task[HoldsView] | None = None
    try:
        async with pool.acquire() as conn:
            ctx = await _context(conn, viewer, query, policies, system)
            rows = await _page(conn, ctx)
            _refuse_if_past_everywhere(ctx, rows)
            nearest = await _nearest_if_unserved(conn, ctx, rows)
            # A page of fewer than three facilities cannot offer three, whatever Redis holds:
            # the shifted stays are read now, and one read of holds serves both.
            early = None
            if _wants_alternatives(ctx, len(rows)):
                early = await _alternative_rows(conn, ctx, skip=[], extra=len(rows))
            ids = list(
                dict.fromkeys([r.facility_id for r in rows] + [r.facility_id for r in early or ()])
            )
            # Redis answers while PostgreSQL explains exclusions, and while the connection
            # goes back to the pool.
            reading = asyncio.create_task(_read_holds(store, ids, now, False))
            excluded: list[ExcludedFacility] = []
            refused: list[PolicyRefusal] = []
            if _has_explanations(ctx):
                excluded, refused = await _explanations(conn, ctx)
    except BaseException:
        if reading is not None:
            reading.cancel()
        raise
    holds = await reading
    offers = [
        offer(r, policy_ref(ctx.policies[r.policy_code]), holds, query.stay) if r.bookable else None
        for r in rows
    ]
    available = [o.facility_id for o in offers if o is not None]
    alternatives: list[Alternative] = []
    if _wants_alternatives(ctx, len(available)):
        if early is None:  # holds took the beds that made the page full
            async with pool.acquire() as conn:
                early = await _alternative_rows(conn, ctx, skip=available, extra=0)
            ids = list(dict.fromkeys(r.facility_id for r in early))
            holds = await _read_holds(store, ids, now, holds.unknown)
        alternatives = _alternatives(ctx, early, available, holds)
    shown = [o for o in offers[: query.limit] if o is not None]
    page = AvailabilityPage(
        check_in=query.stay.check_in,
        check_out=query.stay.check_out,
        nights=query.stay.nights,
        kind=query.kind,
        sort=query.sort,
        facilities=shown,
        excluded=excluded,
        alternatives=alternatives,
        refused=refused,
        summary=summarise(excluded, shown) if query.sort == "distance" else None,
        coordinate_system=system,
        place=ctx.place,
        not_checked_against_elder=(
            t("places.not_checked_against_elder") if query.care_recipient_id is None else None
        ),
        nearest=nearest,
        nearest_note=t("places.outside_service_radius") if nearest else None,
        holds_unknown=holds.unknown,
    )
    return _Result(page=page, next_key=_next_key(query, rows))


async def _nearest_if_unserved(
    conn: Conn, ctx: _Context, rows: list[PageRow]
) -> list[NearestProvider]:
    """A first home-care page with no provider serving the home names the nearest ones."""
    home = home_of(ctx.searcher.person)
    if ctx.query.kind != "home" or rows or ctx.query.after is not None or home is None:
        return []
    if not ctx.filters.codes:  # refused by every policy: no provider would do
        return []
    return await nearest_home_providers(conn, home)


async def _page(conn: Conn, ctx: _Context) -> list[PageRow]:
    if not ctx.filters.codes:
        return []
    # One row past the page says whether there is a next one; a few more tell whether
    # alternatives are wanted even when the page is smaller than that.
    wanted = max(ctx.query.limit + 1, ALTERNATIVES_BELOW + 1)
    return await _page_rows(conn, plan.page_statement(ctx.query, ctx.filters, wanted))


def _refuse_if_past_everywhere(ctx: _Context, rows: list[PageRow]) -> None:
    """A first page that saw every facility with matching beds, and found check-in before
    the today of each one, refuses the check-in as the request's fault."""
    if ctx.query.after is not None or not rows or len(rows) > ctx.query.limit:
        return
    if any(r.bookable for r in rows):
        return
    today = min(r.today for r in rows)
    raise InvalidInputError.one("check_in", t("availability.check_in_past_there", today=today))


def _explains_exclusions(ctx: _Context) -> bool:
    return ctx.query.after is None and bool(ctx.filters.codes) and ctx.filters.narrows


def _has_explanations(ctx: _Context) -> bool:
    return _explains_exclusions(ctx) or bool(ctx.refused)


async def _explanations(
    conn: Conn, ctx: _Context
) -> tuple[list[ExcludedFacility], list[PolicyRefusal]]:
    """On the first page, the facilities eligibility excluded; the programmes' refusals."""
    excluded = await _excluded(conn, ctx) if _explains_exclusions(ctx) else []
    refused = await _refusals_in_range(conn, ctx) if ctx.refused else []
    return excluded, refused


def _next_key(query: AvailabilityQuery, rows: list[PageRow]) -> PageKey | None:
    """Where the next page starts: after the last row this page looked at, offered or not
    (a facility whose beds are all held is skipped, never shown on a later page)."""
    if len(rows) <= query.limit:
        return None
    last = rows[query.limit - 1]
    key = last.sort_distance if query.sort == "distance" else last.price_from
    return PageKey(float(key), last.facility_id)


async def _context(
    conn: Conn,
    viewer: Viewer | None,
    query: AvailabilityQuery,
    cache: PolicyCache,
    system: CoordinateSystem,
) -> _Context:
    query, place = await locate(conn, query, system, cache)
    policies = await _policies_in_force(conn, query, cache)
    if query.care_recipient_id is None:
        searcher = anonymous(query)
    else:
        if viewer is None:
            raise AuthenticationError(t("availability.recipient_needs_token"))
        subject = await load_subject(conn, viewer, query.care_recipient_id)
        used = await used_stays(conn, query.care_recipient_id, query.kind)
        searcher = Searcher(
            person=subject.person,
            assessment=subject.assessment,
            used=used,
            sex_known=True,
            recipient=True,
        )
    query = resolve_where(query, searcher)
    bounds = horizon(query.now)
    eligible, refused = judge_programmes(policies, searcher, query.stay, bounds.first)
    refusing = {r.policy.code: policies[r.policy.code] for r in refused}
    return _Context(
        query=query,
        policies=eligible,
        refused=refused,
        searcher=searcher,
        filters=filters(query, searcher, eligible),
        refused_filters=filters(query, searcher, refusing),
        horizon=bounds,
        place=place,
    )


async def _policies_in_force(
    conn: Conn, query: AvailabilityQuery, cache: PolicyCache
) -> dict[str, StoredPolicy]:
    return in_force(await cache.versions(conn), query.kind, query.stay.check_in)


async def _page_rows(conn: Conn, statement: plan.Statement) -> list[PageRow]:
    records = await conn.fetch(statement.sql, *statement.args)
    return [
        PageRow(
            facility_id=r["id"],
            name=r["name"],
            currency=r["currency"],
            distance_m=r["distance_m"],
            policy_code=r["policy_code"],
            beds=[] if r["beds"] is None else _decode_beds(r["beds"]),
            sort_distance=r["sort_distance"],
            price_from=r["price_from"],
            today=r["today"],
            bookable=r["bookable"],
        )
        for r in records
    ]


async def _excluded(conn: Conn, ctx: _Context) -> list[ExcludedFacility]:
    statement = plan.excluded_statement(ctx.query, ctx.filters, MAX_EXCLUDED)
    excluded = []
    for r in await conn.fetch(statement.sql, *statement.args):
        stored = ctx.policies[r["policy_code"]]
        site = FacilitySite(lat=r["lat"], lon=r["lon"], service_radius_m=r["service_radius_m"])
        reasons = bed_refusals(
            stored.policy,
            ctx.searcher,
            ctx.query.kind,
            site,
            _decode_bed_types(r["profiles"]),
            ctx.query.stay,
            r["today"],
        )
        # SQL and the engine agree by construction; should they ever not, say nothing
        # rather than a facility "excluded" for no reason.
        if reasons:
            excluded.append(
                ExcludedFacility(
                    facility_id=r["id"],
                    name=r["name"],
                    distance_km=km(r["distance_m"]),
                    policy=policy_ref(stored),
                    reasons=reasons,
                )
            )
    return excluded


async def _refusals_in_range(conn: Conn, ctx: _Context) -> list[PolicyRefusal]:
    """Refusals under the policies of facilities in range with beds the person could
    otherwise take, not under every policy of the programme."""
    statement = plan.codes_in_range_statement(ctx.query, ctx.refused_filters)
    codes = {r["policy_code"] for r in await conn.fetch(statement.sql, *statement.args)}
    return [r for r in ctx.refused if r.policy.code in codes]


async def _read_holds(
    store: HoldStore, facility_ids: Sequence[int], now: float, known_down: bool
) -> HoldsView:
    if known_down:
        return HoldsView({}, True)
    try:
        live = await read_live_holds(store.client, facility_ids, now, store.tracked)
        return HoldsView(live, False)
    except (HoldsUnavailable, RedisError) as exc:
        log.warning("holds unavailable, beds shown as possibly held: %s", type(exc).__name__)
    except msgspec.MsgspecError:
        log.exception("a hold in Redis does not decode; beds shown as possibly held")
    return HoldsView({}, True)


def _wants_alternatives(ctx: _Context, offered: int) -> bool:
    return ctx.query.after is None and bool(ctx.filters.codes) and offered < ALTERNATIVES_BELOW


async def _alternative_rows(
    conn: Conn, ctx: _Context, *, skip: list[int], extra: int
) -> list[AlternativeRow]:
    """The matching beds, free for the stay and for each shift of it, of the nearest
    facilities not in ``skip``: ``MAX_ALTERNATIVES + extra`` of them."""
    statement = plan.alternatives_statement(
        ctx.query,
        ctx.filters,
        skip=skip,
        shifts=[0, *shifts_to_try(ctx.query.stay, ctx.horizon)],
        rows=MAX_ALTERNATIVES + extra,
    )
    return [
        AlternativeRow(
            facility_id=r["id"],
            name=r["name"],
            currency=r["currency"],
            distance_m=r["distance_m"],
            policy_code=r["policy_code"],
            beds=_decode_beds(r["beds"]),
            shift=r["shift"],
        )
        for r in await conn.fetch(statement.sql, *statement.args)
    ]


def _alternatives(
    ctx: _Context, rows: list[AlternativeRow], available: list[int], holds: HoldsView
) -> list[Alternative]:
    """Per nearby facility without a bed for the exact stay, nearest first: the nearest
    shifted stay, for at most ``MAX_ALTERNATIVES`` facilities."""
    shifts = shifts_to_try(ctx.query.stay, ctx.horizon)
    qualifying = qualifying_shifts(
        ctx.policies, ctx.searcher, ctx.query.stay, shifts, ctx.horizon.first
    )
    offered = set(available)
    ids = [f for f in dict.fromkeys(r.facility_id for r in rows) if f not in offered]
    found = []
    for facility_id in ids[:MAX_ALTERNATIVES]:
        options = {r.shift: r for r in rows if r.facility_id == facility_id}
        code = options[next(iter(options))].policy_code
        best = best_alternative(
            options,
            [0, *shifts],
            ctx.query.stay,
            policy_ref(ctx.policies[code]),
            holds,
            qualifying[code],
        )
        if best is not None:
            found.append(best)
    return found
