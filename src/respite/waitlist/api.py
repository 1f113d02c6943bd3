"""HTTP routes of the waiting list: join, read, leave; accept or decline an offer; a facility's
queue."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.booking.model import Booking
from respite.deps import Deps
from respite.dto import Strict
from respite.observability import REFUSAL_OPT
from respite.paging import Cursor, Page, limit_parameter
from respite.params import MAX_ID, FacilityPathId, IdempotencyHeader, RequiredIdempotencyHeader
from respite.reference import documented
from respite.waitlist import examples, offers, service
from respite.waitlist.model import Entry, JoinRequest, Offer, Queue

__all__ = ["waitlist_router"]

EVERYONE = requires("family", "staff", "hospital", "admin")
EntryPathId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="The id of the waiting-list entry.")
]
OfferPathId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The id of the offer.")]
MAX_PAGE = 100


class WaitlistController(Controller):
    path = "/waitlist"
    tags = ["waiting list"]
    guards = [EVERYONE]

    @post(
        "",
        dto=Strict[JoinRequest],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Join the waiting list",
        response_description="The entry, with its place in line",
        operation_class=documented(
            request=[examples.JOIN_BY_PLACE, examples.JOIN_BY_FACILITIES],
            answers={201: [examples.WAITING]},
        ),
    )
    async def join(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[JoinRequest],
        idempotency_key: IdempotencyHeader = None,
    ) -> Entry:
        """Wait for a bed of a kind at some facilities, or in an area, within a window of
        dates. When nights free up there — a cancellation, an early check-out, a block lifted,
        a hold let go — the service offers them by itself: it holds the bed for the elder
        until a deadline (hours for families, fewer for hospitals) and says so. Entries are
        served by the priority groups of the facility's policy, then by when they joined; one
        passed over is told why. An elder waits in a few entries at most (409)."""
        key = idempotency.optional_key(idempotency_key)
        return await service.join(deps, principal, data, key)

    @get("", summary="My waiting-list entries")
    async def list_entries(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        limit: Annotated[int, limit_parameter(MAX_PAGE)] = 20,
        cursor: Cursor = None,
    ) -> Page[Entry]:
        """The caller's entries, newest first, each with its position while it waits, the
        offer open now and the latest times it was passed over."""
        return await service.list_entries(deps, principal, cursor, limit)

    @get(
        "/{entry_id:int}",
        summary="One waiting-list entry",
        operation_class=documented(answers={200: [examples.WAITING]}),
    )
    async def get_entry(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        entry_id: EntryPathId,
    ) -> Entry:
        """An entry of the caller's (admins: anyone's); anyone else's is 404."""
        return await service.get_entry(deps, principal, entry_id)

    @post("/{entry_id:int}/leave", status_code=HTTP_200_OK, summary="Leave the waiting list")
    async def leave(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        entry_id: EntryPathId,
    ) -> Entry:
        """End the entry. An offer open for it is withdrawn and its bed goes to the next in
        line; nothing is booked. Leaving an entry that is over already is 409."""
        return await service.leave(deps, principal, entry_id)

    @get(
        "/offers/{offer_id:int}",
        summary="One offer",
        operation_class=documented(answers={200: [examples.OFFERED]}),
    )
    async def get_offer(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        offer_id: OfferPathId,
    ) -> Offer:
        """An offer made for one of the caller's entries: the bed, the nights, the price and
        the deadline, in ISO 8601 and in words in the facility's local time."""
        return await offers.get_offer(deps, principal, offer_id)

    @post(
        "/offers/{offer_id:int}/accept",
        status_code=HTTP_201_CREATED,
        opt={REFUSAL_OPT: "offer refused"},
        summary="Accept an offer: book it",
        response_description="The booking",
    )
    async def accept(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        offer_id: OfferPathId,
        idempotency_key: RequiredIdempotencyHeader = None,
    ) -> Booking:
        """Book the offered bed and nights at the offered price, as a confirmed hold books.
        409 ``offer-ended`` once it lapsed or ended; 409 ``offer-lost`` if the bed was taken
        first, the elder booked elsewhere or is no longer eligible — then nothing is booked,
        the entry waits again, and the next free bed is looked for at once."""
        key = idempotency.require_key(idempotency_key)
        return await offers.accept_offer(deps, principal, offer_id, key)

    @post(
        "/offers/{offer_id:int}/decline",
        status_code=HTTP_200_OK,
        summary="Decline an offer",
        operation_class=documented(answers={200: [examples.OFFERED]}),
    )
    async def decline(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        offer_id: OfferPathId,
    ) -> Offer:
        """Turn the offer down: the entry keeps waiting for other beds and nights, and this
        bed goes to the next in line."""
        return await offers.decline_offer(deps, principal, offer_id)


class QueueController(Controller):
    path = "/facilities/{facility_id:int}/waitlist"
    tags = ["waiting list"]
    guards = [requires("staff", "admin")]

    @get("", summary="A facility's waiting list")
    async def queue(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        facility_id: FacilityPathId,
        kind: Annotated[
            Literal["respite", "home"],
            QueryParameter(description="The kind of bed (respite by default)."),
        ] = "respite",
    ) -> Queue:
        """The live entries waiting for the facility, first served first, with their
        priority group and the latest time each was passed over here. No names: the elder's
        sex, age and needs, which decide which bed can take them."""
        return await service.queue_of(deps, principal, facility_id, kind)


waitlist_router = Router(path="/v1", route_handlers=[WaitlistController, QueueController])
