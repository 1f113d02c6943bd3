"""HTTP routes of bookings: walk-ins at a facility's desk, the scoped list, and the life cycle."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.booking import changes, service
from respite.booking.change_model import (
    ChangeStay,
    QuoteStayChange,
    StayChange,
    StayChangeQuote,
)
from respite.booking.model import (
    MAX_PAGE,
    Booking,
    BookingFilter,
    CancelBooking,
    Cancellation,
    Status,
    TakeWalkIn,
    WalkIn,
)
from respite.deps import Deps
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.i18n import t
from respite.paging import Cursor, Page, limit_parameter
from respite.params import (
    BookingPathId,
    FacilityFilterId,
    FacilityPathId,
    IdempotencyHeader,
)

__all__ = ["BookingController", "WalkInController", "booking_router"]

EVERYONE = requires("family", "staff", "hospital", "admin")
ON_SITE = requires("staff", "admin")
DATE = {"format": "date"}


class BookingController(Controller):
    path = "/bookings"
    tags = ["bookings"]

    @get("/", guards=[EVERYONE], summary="List bookings")
    async def list_bookings(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        status: Annotated[
            Status | None, QueryParameter(description="Only bookings in this status.")
        ] = None,
        facility_id: FacilityFilterId = None,
        start: Annotated[
            str | None,
            QueryParameter(
                name="from",
                schema_extra=DATE,
                description="Only stays with a night on or after this date (YYYY-MM-DD).",
            ),
        ] = None,
        end: Annotated[
            str | None,
            QueryParameter(
                name="to",
                schema_extra=DATE,
                description="Only stays with a night before this date (YYYY-MM-DD).",
            ),
        ] = None,
        limit: Annotated[int, limit_parameter(MAX_PAGE)] = 50,
        cursor: Cursor = None,
    ) -> Page[Booking]:
        """The bookings the caller may see, oldest first: a family its own elders', staff
        their facility's, a hospital those of its referrals. ``from`` and ``to`` keep the
        stays that share a night with ``[from, to)``."""
        since, until = _date("from", start), _date("to", end)
        if since is not None and until is not None and until <= since:
            raise InvalidInputError.one("to", t("booking.to_after_from"))
        filters = BookingFilter(
            status=status,
            facility_id=facility_id,
            start=since,
            end=until,
            cursor=cursor,
            limit=limit,
        )
        return await service.list_bookings(deps, principal, filters)

    @get("/{booking_id:int}", guards=[EVERYONE], summary="Read a booking")
    async def get_booking(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
    ) -> Booking:
        """One booking the caller may see (404 for any other)."""
        return await service.get_booking(deps, principal, booking_id)

    @post(
        "/{booking_id:int}/check-in",
        guards=[ON_SITE],
        status_code=HTTP_200_OK,
        summary="Check the elder in",
    )
    async def check_in(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
    ) -> Booking:
        """The elder has arrived: needs a confirmed booking whose stay includes today."""
        return await service.check_in(deps, principal, booking_id)

    @post(
        "/{booking_id:int}/check-out",
        guards=[ON_SITE],
        status_code=HTTP_200_OK,
        summary="Check the elder out",
    )
    async def check_out(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
    ) -> Booking:
        """The elder has left; leaving early frees the remaining nights at once."""
        return await service.check_out(deps, principal, booking_id)

    @post(
        "/{booking_id:int}/no-show",
        guards=[ON_SITE],
        status_code=HTTP_200_OK,
        summary="Mark a no-show",
    )
    async def no_show(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
    ) -> Booking:
        """The elder did not come: from the first day of the stay; frees every night."""
        return await service.mark_no_show(deps, principal, booking_id)

    @post(
        "/{booking_id:int}/cancel",
        guards=[EVERYONE],
        dto=Strict[Cancellation],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Cancel a booking",
    )
    async def cancel(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
        data: JSONBody[Cancellation],
        idempotency_key: IdempotencyHeader = None,
    ) -> Booking:
        """Cancel before check-in; frees every night. Families cancel their own bookings."""
        command = CancelBooking(
            booking_id=booking_id,
            reason=data.reason,
            idempotency_key=idempotency.optional_key(idempotency_key),
        )
        return await service.cancel(deps, principal, command)

    @post(
        "/{booking_id:int}/change/quote",
        guards=[EVERYONE],
        dto=Strict[StayChange],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Quote a change of a stay",
    )
    async def quote_change(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
        data: JSONBody[StayChange],
    ) -> StayChangeQuote:
        """What extending, shortening or moving the stay would make of it, decided now and
        changing nothing: its dates, bed, nights and price (the booking's nightly price for its
        own bed, the new bed's for a move), the difference, and the nights added and freed.
        An elder who may not have the new stay gets 422 not-eligible with every reason. Families
        and hospitals change their stays until the day before check-in; the facility's staff
        also during the stay (the check-in and bed then stay as they are)."""
        command = QuoteStayChange(booking_id=booking_id, change=data)
        return await changes.quote_stay_change(deps, principal, command)

    @post(
        "/{booking_id:int}/change",
        guards=[EVERYONE],
        dto=Strict[StayChange],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Change a stay",
    )
    async def change(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        booking_id: BookingPathId,
        data: JSONBody[StayChange],
        idempotency_key: IdempotencyHeader = None,
    ) -> Booking:
        """Extend, shorten or move the stay, with ``nightly_price`` as its quote showed it
        (409 price-changed if the price is another now). Atomic: the new nights are claimed
        before the old are freed, so a change that loses a race (409 bed-taken or
        elder-already-staying) leaves the stay as it was. Eligibility and quotas are decided
        again; freed nights go to the waiting list; a hospital hears booking.changed."""
        command = ChangeStay(
            booking_id=booking_id,
            change=data,
            idempotency_key=idempotency.optional_key(idempotency_key),
        )
        return await changes.change_stay(deps, principal, command)


class WalkInController(Controller):
    path = "/facilities/{facility_id:int}/walk-ins"
    tags = ["bookings"]

    @post(
        "/",
        guards=[ON_SITE],
        dto=Strict[WalkIn],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Book a walk-in at the desk",
    )
    async def walk_in(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        data: JSONBody[WalkIn],
        idempotency_key: IdempotencyHeader = None,
    ) -> Booking:
        """Book an elder at the desk, with the same eligibility check as everyone else.

        Staff of the facility (or an admin) may book despite a refusal by giving
        ``override_reason`` and naming in ``overrides`` every rule that refused, each in the
        form the policy allows: a not-eligible answer lists them in ``override_options``
        (``with_reason``; ``with_acknowledgement``: also ``acknowledged: true``; ``never``).
        Naming a rule that did not refuse is refused. The reason and the rules are stored and
        audited. ``check_in_now`` checks in at once.
        """
        command = TakeWalkIn(
            facility_id=facility_id,
            walk_in=data,
            idempotency_key=idempotency.optional_key(idempotency_key),
        )
        return await service.walk_in(deps, principal, command)


def _date(name: str, value: str | None) -> date | None:
    # Parsed here rather than by Litestar, which would name the error after the Python
    # parameter instead of the query parameter ("from" is a keyword in Python).
    if value is None:
        return None
    try:
        return msgspec.convert(value, date)
    except msgspec.ValidationError:
        raise InvalidInputError.one(name, t("input.date")) from None


booking_router = Router(path="/v1", route_handlers=[BookingController, WalkInController])
