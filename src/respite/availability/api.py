"""HTTP route of availability search: ``GET /v1/availability``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from respite.auth import optional_principal
from respite.availability import examples
from respite.availability.model import (
    DEFAULT_PAGE_SIZE,
    MAX_FACILITY_IDS,
    MAX_PAGE_SIZE,
    MAX_RADIUS_KM,
    AvailabilityPage,
    SearchParams,
    SortOrder,
)
from respite.availability.service import search_availability
from respite.deps import Deps
from respite.eligibility.model import NEEDS, Programme, Sex
from respite.paging import Cursor, limit_parameter
from respite.params import MAX_ID
from respite.reference import BEARER_OPTIONAL, documented

__all__ = ["AvailabilityController"]

_IN_SYSTEM = (
    "in decimal degrees, in the deployment's coordinate system (RESPITE_COORDINATE_SYSTEM,"
    " GCJ-02 unless set to WGS-84; the answer's coordinate_system names it)"
)


class AvailabilityController(Controller):
    path = "/v1/availability"
    tags = ["availability"]

    @get(
        "/",
        summary="Search free beds",
        response_description="Facilities with beds free for the stay",
        security=BEARER_OPTIONAL,
        operation_class=documented(answers={200: [examples.FOUND]}),
    )
    async def search(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        check_in: Annotated[
            date,
            QueryParameter(
                description="The first night of the stay (YYYY-MM-DD), in each facility's "
                "local calendar; not before its today.",
                examples=[examples.CHECK_IN],
            ),
        ],
        check_out: Annotated[
            date,
            QueryParameter(
                description="The morning the stay ends (YYYY-MM-DD): the nights are "
                "[check_in, check_out).",
                examples=[examples.CHECK_OUT],
            ),
        ],
        kind: Annotated[
            Programme,
            QueryParameter(
                description="respite: a bed in a facility, up to 90 nights; home: a home-care "
                "bed in the elder's home, up to 366 nights."
            ),
        ] = "respite",
        near: Annotated[
            str | None,
            QueryParameter(
                description="Search around this place: latitude,longitude in decimal degrees "
                f"{_IN_SYSTEM}. Without near, place or facility_id, a search for an elder looks "
                "around their home.",
                max_length=64,
                examples=[examples.NEAR],
            ),
        ] = None,
        radius_km: Annotated[
            float | None,
            QueryParameter(
                gt=0,
                le=MAX_RADIUS_KM,
                description="How far around near (10 km by default) or place (its reach), in km.",
            ),
        ] = None,
        facility_id: Annotated[
            list[int] | None,
            QueryParameter(
                description="Search these facilities (repeat it) instead of around near.",
                max_items=MAX_FACILITY_IDS,
            ),
        ] = None,
        place: Annotated[
            str | None,
            QueryParameter(
                description=(
                    "Instead of near: a district, street or community of the gazetteer, by its"
                    " Chinese or English name (徐汇区, Xuhui, 天平路街道, Tianping Lu) or its id."
                    " Several places of the name: 422 listing the candidates."
                ),
                min_length=1,
                max_length=100,
            ),
        ] = None,
        near_home: Annotated[
            bool,
            QueryParameter(description="Instead of near: around the care recipient's home."),
        ] = False,
        care_recipient_id: Annotated[
            int | None,
            QueryParameter(
                ge=1,
                le=MAX_ID,
                description="Search for this elder (needs a token that may see them): their "
                "sex, needs and home are used and their eligibility is checked.",
            ),
        ] = None,
        sex: Annotated[
            Sex | None,
            QueryParameter(description="Without care_recipient: the elder's sex (room rules)."),
        ] = None,
        needs: Annotated[
            list[str] | None,
            QueryParameter(
                description="Without care_recipient: care needs (codes), repeated or "
                "comma-separated; only beds equipped for all of them.",
                max_items=len(NEEDS),
            ),
        ] = None,
        pressure_stage: Annotated[
            int | None,
            QueryParameter(
                ge=0,
                le=4,
                description="Without care_recipient: the elder's pressure-injury stage (0-4).",
            ),
        ] = None,
        home: Annotated[
            str | None,
            QueryParameter(
                description="kind=home without care_recipient_id: latitude,longitude of the "
                f"home {_IN_SYSTEM} (near by default), which must be in the facility's service "
                "radius.",
                max_length=64,
            ),
        ] = None,
        sort: Annotated[
            SortOrder,
            QueryParameter(description="distance: nearest first; price: cheapest first."),
        ] = "distance",
        limit: Annotated[int, limit_parameter(MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
    ) -> AvailabilityPage:
        """Free beds for a stay, grouped by facility, nearest or cheapest first. No token is
        needed.

        Anonymous searches give sex, needs and pressure_stage themselves; a search for a
        care recipient takes them from the recipient and also applies the eligibility rules,
        explaining each facility it excludes. Pages follow ``next_cursor``. Each facility
        judges check-in by its own date: one where it is already past offers nothing.
        """
        params = SearchParams(
            check_in=check_in,
            check_out=check_out,
            kind=kind,
            near=near,
            radius_km=radius_km,
            facility_ids=tuple(facility_id or ()),
            place=place,
            near_home=near_home,
            checks_area=True,
            care_recipient_id=care_recipient_id,
            sex=sex,
            needs=tuple(needs or ()),
            pressure_stage=pressure_stage,
            home=home,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        # Anyone may search; a bearer token is needed only to search for a care recipient. The
        # principal is read from the request, not injected: with two dependencies to resolve,
        # Litestar starts a task group and two tasks per request (~0.1 ms of a search).
        return await search_availability(deps, optional_principal(request), params)
