"""The people the desk deals with: finding an elder, an elder's page, the referring wards.

``/desk/elders`` finds bookings of the facility by the elder's name or the emergency
contact's phone (``desk.find_bookings``: part of a name, a number's last four digits, or the
whole number). ``/desk/elders/{id}`` is the elder as staff of this facility may see them —
the one rule of ``eligibility.subject``, read through ``recipients.get_recipient``: an elder
the facility registered, or with a stay here that is live or recently over; anyone else is
not found (404), as in the API. It shows the needs, the latest assessment's level in words,
the stays here, and the emergency contact's number only after a POST that says why
(``desk.reveal_emergency_contact``, one audit row per reveal): the number is on that answer
alone, never in a link or a redirect. ``/desk/referrals`` lists the hospital referrals
placed with the facility with the ward to call (``desk.placed_referrals``, audited too).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from respite import desk
from respite.auth.model import Principal
from respite.clock import local_today
from respite.deps import Deps
from respite.desk.model import (
    ContactReveal,
    EmergencyContact,
    ReferralListing,
    RevealContact,
    Search,
    StayRow,
)
from respite.errors import FieldError, InvalidInputError
from respite.inventory.service import get_facility
from respite.pages.assessments import level_name
from respite.pages.desk.today import nights_words
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import page
from respite.pages.guards import staff
from respite.paging import Cursor
from respite.params import CareRecipientPathId
from respite.recipients.model import CareRecipientView
from respite.recipients.service import get_recipient

__all__ = ["PeoplePages"]

SEARCH_LIMIT: Final = 50
STAYS_SHOWN: Final = 200
REFERRAL_PAGE: Final = 50
SearchText = Annotated[str | None, QueryParameter(name="q", max_length=100)]


class PeoplePages(Controller):
    path = "/desk"
    include_in_schema = False

    @get("/elders")
    async def find(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        q: SearchText = None,
        cursor: Cursor = None,
    ) -> Template:
        principal = staff(request)
        text = (q or "").strip()
        if not text:
            return page(request, "desk/people/find.html", q="", found=None, next_cursor=None)
        search = Search(facility_id=_facility(principal), q=text, cursor=cursor, limit=SEARCH_LIMIT)
        try:
            found = await desk.find_bookings(deps, principal, search)
        except InvalidInputError as exc:
            return page(
                request,
                "desk/people/find.html",
                status=422,
                errors=exc.errors,
                q=text,
                found=None,
                next_cursor=None,
            )
        return page(
            request,
            "desk/people/find.html",
            q=text,
            found=found.items,
            next_cursor=found.next_cursor,
            nights=nights_words,
        )

    @get("/elders/{care_recipient_id:int}")
    async def elder(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template:
        principal = staff(request)
        elder = await get_recipient(deps, principal, care_recipient_id)
        return await _elder_page(request, deps, principal, elder)

    @post("/elders/{care_recipient_id:int}/emergency-contact")
    async def reveal(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template:
        principal = staff(request)
        elder = await get_recipient(deps, principal, care_recipient_id)  # 404 for another's
        fields = await form_fields(request)
        try:
            form = read_form(fields, ContactReveal)
            command = RevealContact(care_recipient_id=care_recipient_id, reason=form.reason)
            contact = await desk.reveal_emergency_contact(deps, principal, command)
        except InvalidInputError as exc:
            return await _elder_page(
                request, deps, principal, elder, errors=exc.errors, reason=fields.get("reason")
            )
        return await _elder_page(request, deps, principal, elder, contact=contact)

    @get("/referrals")
    async def referrals(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        cursor: Cursor = None,
    ) -> Template:
        principal = staff(request)
        listing = ReferralListing(
            facility_id=_facility(principal), cursor=cursor, limit=REFERRAL_PAGE
        )
        placed = await desk.placed_referrals(deps, principal, listing)
        return page(
            request,
            "desk/people/referrals.html",
            referrals=placed.items,
            next_cursor=placed.next_cursor,
            nights=nights_words,
        )


def _facility(principal: Principal) -> int:
    assert principal.facility_id is not None  # guards.staff refuses staff of no facility
    return principal.facility_id


async def _stays_here(deps: Deps, principal: Principal, elder: CareRecipientView) -> list[StayRow]:
    """The elder's bookings at the facility, newest first (the latest ``STAYS_SHOWN``)."""
    return await desk.elder_stays(deps, principal, _facility(principal), elder.id, STAYS_SHOWN)


async def _elder_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    elder: CareRecipientView,
    *,
    contact: EmergencyContact | None = None,
    errors: list[FieldError] | None = None,
    reason: Any = None,
) -> Template:
    facility = await get_facility(deps, principal, _facility(principal))
    today = local_today(facility.timezone, deps.clock.now())
    return page(
        request,
        "desk/people/elder.html",
        status=422 if errors else 200,
        zone=facility.timezone,
        errors=errors,
        elder=elder,
        latest=elder.latest_assessment,
        level_name=level_name,
        today=today,
        stays=await _stays_here(deps, principal, elder),
        contact=contact,
        reason=reason if isinstance(reason, str) else "",
        nights=nights_words,
    )
