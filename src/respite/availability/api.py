"""HTTP route of availability search: ``GET /v1/availability``."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from respite.auth.guards import optional_principal
from respite.availability.cursor import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from respite.availability.model import (
    DEFAULT_PAGE_SIZE,
    MAX_BIGINT,
    MAX_PAGE_SIZE,
    MAX_RADIUS_KM,
    AvailabilityPage,
    SearchParams,
    SortOrder,
    validate_query,
)
from respite.availability.policies import PolicyCache
from respite.availability.service import Clock, search_availability, search_today
from respite.eligibility.model import Programme, Sex

__all__ = ["AvailabilityController"]

_POLICY_CACHE = "availability_policies"


def _policy_cache(state: State) -> PolicyCache:
    """One cache per app, made on first use (the app's state outlives every request)."""
    cache = state.get(_POLICY_CACHE)
    if not isinstance(cache, PolicyCache):
        cache = state[_POLICY_CACHE] = PolicyCache()
    return cache


class AvailabilityController(Controller):
    path = "/v1/availability"
    tags = ["availability"]

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        check_in: Annotated[
            date, QueryParameter(description="First night of the stay (ISO date).")
        ],
        check_out: Annotated[
            date,
            QueryParameter(description="Morning of departure: the stay is [check_in, check_out)."),
        ],
        kind: Annotated[
            Programme, QueryParameter(description="respite: up to 90 nights; home: up to 366.")
        ] = "respite",
        near: Annotated[
            str | None, QueryParameter(description="lat,lon in decimal degrees.", max_length=64)
        ] = None,
        radius_km: Annotated[
            float | None, QueryParameter(gt=0, le=MAX_RADIUS_KM, description="Around near; 10 km.")
        ] = None,
        facility_id: Annotated[
            list[int] | None, QueryParameter(description="Search these facilities instead of near.")
        ] = None,
        care_recipient: Annotated[
            int | None,
            QueryParameter(
                ge=1, le=MAX_BIGINT, description="Search for this elder (needs a token)."
            ),
        ] = None,
        sex: Annotated[Sex | None, QueryParameter(description="Anonymous searches.")] = None,
        needs: Annotated[
            list[str] | None, QueryParameter(description="Care needs, repeated or comma-separated.")
        ] = None,
        pressure_stage: Annotated[int | None, QueryParameter(ge=0, le=4)] = None,
        home: Annotated[
            str | None,
            QueryParameter(
                description="kind=home, anonymous: lat,lon of the home (default near).",
                max_length=64,
            ),
        ] = None,
        sort: Annotated[SortOrder, QueryParameter(description="Nearest or cheapest first.")] = (
            "distance"
        ),
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
    ) -> AvailabilityPage:
        """Free beds for a stay, grouped by facility, nearest or cheapest first.

        Anonymous searches give sex, needs and pressure_stage themselves; a search for a
        care recipient takes them from the recipient and also applies the eligibility rules,
        explaining each facility it excludes. Pages follow ``next_cursor``.
        """
        state = request.app.state
        today = search_today(datetime.now(UTC))
        params = SearchParams(
            check_in=check_in,
            check_out=check_out,
            kind=kind,
            near=near,
            radius_km=radius_km,
            facility_ids=tuple(facility_id or ()),
            care_recipient=care_recipient,
            sex=sex,
            needs=tuple(needs or ()),
            pressure_stage=pressure_stage,
            home=home,
            sort=sort,
            limit=limit,
        )
        query = validate_query(params, today)
        secret, fingerprint = state.settings.secret_key, query.fingerprint()
        if cursor is not None:
            after = decode_cursor(secret, cursor, fingerprint)
            query = msgspec.structs.replace(query, after=after)
        result = await search_availability(
            state.pool,
            state.redis,
            optional_principal(request),
            query,
            Clock(today, time.time()),
            policies=_policy_cache(state),
        )
        if result.next_key is None:
            return result.page
        next_cursor = encode_cursor(secret, fingerprint, result.next_key)
        return msgspec.structs.replace(result.page, next_cursor=next_cursor)
