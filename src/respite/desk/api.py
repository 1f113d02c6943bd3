"""HTTP routes of the desk: ``desk_router`` (``/v1``), for staff of a facility and admins."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.deps import Deps
from respite.desk import contact, service
from respite.desk.model import (
    MAX_PAGE,
    ContactReveal,
    DayPage,
    DayQuery,
    EmergencyContact,
    FoundBookings,
    PlacedReferral,
    ReferralListing,
    RevealContact,
    Search,
    Which,
)
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.i18n import t
from respite.paging import Cursor, Page, limit_parameter
from respite.params import CareRecipientPathId, FacilityPathId

__all__ = ["ContactController", "DeskController", "desk_router"]

ON_SITE = requires("staff", "admin")
Limit = Annotated[int, limit_parameter(MAX_PAGE)]
Day = Annotated[
    str | None,
    QueryParameter(
        name="date",
        schema_extra={"format": "date"},
        description="A facility-local date, YYYY-MM-DD; default: the facility's today.",
    ),
]
SearchText = Annotated[
    str,
    QueryParameter(
        min_length=1,
        max_length=100,
        description="Part of the elder's name, or the emergency contact's phone number: its "
        "last 4 digits, or the whole number in any spelling (+86 138 0013 8000, 13800138000).",
    ),
]


def _day(value: str | None) -> date | None:
    # Parsed here so that the error names the query parameter `date`.
    if value is None:
        return None
    try:
        return msgspec.convert(value, date)
    except msgspec.ValidationError:
        raise InvalidInputError.one("date", t("input.date")) from None


class DeskController(Controller):
    path = "/facilities/{facility_id:int}"
    tags = ["desk"]
    guards = [ON_SITE]

    @get(
        "/arrivals",
        summary="A day's arrivals",
        description="Stays checking in at the facility on a facility-local date (default its "
        "today), by bed label: the elder, the bed, the status and the care needs in words. "
        "Staff of the facility and admins; another facility's staff get 404.",
    )
    async def arrivals(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        day: Day = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> DayPage:
        return await _stays(deps, principal, facility_id, "arrivals", day, limit, cursor)

    @get(
        "/departures",
        summary="A day's departures",
        description="Stays checking out of the facility on a facility-local date (default its "
        "today), by bed label, including those already checked out that day.",
    )
    async def departures(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        day: Day = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> DayPage:
        return await _stays(deps, principal, facility_id, "departures", day, limit, cursor)

    @get(
        "/bookings",
        summary="Find bookings by the elder's name or phone",
        description="Bookings at the facility, newest first, whose elder's name contains `q`, "
        "or whose emergency contact's number ends with the 4 digits of `q` or is the number "
        "`q` (any spelling). Only elders the caller may see are found.",
    )
    async def find_bookings(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        q: SearchText,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> FoundBookings:
        search = Search(facility_id=facility_id, q=q, cursor=cursor, limit=limit)
        return await service.find_bookings(deps, principal, search)

    @get(
        "/referrals",
        summary="Referrals placed with the facility, with the ward to call",
        description="Hospital referrals with a bed held or booked at the facility whose patient "
        "the caller may see, newest first, each with the referring ward and its contact "
        "person's whole number. A page that shows a number is recorded in the audit log.",
    )
    async def placed_referrals(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[PlacedReferral]:
        listing = ReferralListing(facility_id=facility_id, cursor=cursor, limit=limit)
        return await contact.placed_referrals(deps, principal, listing)


async def _stays(
    deps: Deps,
    principal: Principal,
    facility_id: int,
    which: Which,
    day: str | None,
    limit: int,
    cursor: str | None,
) -> DayPage:
    query = DayQuery(
        facility_id=facility_id, which=which, day=_day(day), cursor=cursor, limit=limit
    )
    return await service.stays_on_day(deps, principal, query)


class ContactController(Controller):
    path = "/care-recipients/{care_recipient_id:int}/emergency-contact"
    tags = ["desk"]

    @post(
        "/reveal",
        guards=[requires("staff")],
        dto=Strict[ContactReveal],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Reveal an elder's emergency contact in full",
        description="For staff of a facility where the elder stays (a live stay, one ended at "
        "most RESPITE_STAFF_RECENT_STAY_DAYS ago, or an elder the facility registered): the "
        "contact's name and whole number. A POST, because every reveal writes an audit row "
        "(who, when, which elder, the stay, the reason; never the number). Limited per staff "
        "member (429 past it); an elder the caller may not see is 404.",
    )
    async def reveal(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        care_recipient_id: CareRecipientPathId,
        data: JSONBody[ContactReveal],
    ) -> EmergencyContact:
        command = RevealContact(care_recipient_id=care_recipient_id, reason=data.reason)
        return await contact.reveal_emergency_contact(deps, principal, command)


desk_router = Router(path="/v1", route_handlers=[DeskController, ContactController])
