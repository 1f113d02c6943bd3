"""A family's stays: upcoming and past, one stay, changing its dates, and cancelling it with a
reason.

Changing the dates is two steps without JavaScript: the new dates are posted for a quote
(``booking.quote_stay_change``: the nights and the price, old and new, and what it adds), and
the quote's page confirms them at its nightly price (``booking.change_stay``); a refusal
(the elder may not, the nights are taken, the price changed) comes back on the stay's page.

The pages read bookings through ``booking.list_bookings`` and ``booking.get_booking``, scoped
as for the API (another family's stay is "not found"), and cancel through ``booking.cancel``:
only a booked stay (``confirmed``) is cancelled; once the elder has checked in, the page says
to call the care home instead. The reason is what the family chose, in their own words: one of
a few choices (``reason``), or what they typed (``reason_other``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from respite import booking as bookings
from respite.auth.model import Principal
from respite.booking.change_model import ChangeStay, QuoteStayChange, StayChange
from respite.booking.errors import StepNotAllowedError
from respite.booking.model import LIVE_STATUSES, MAX_PAGE, Booking, BookingFilter, CancelBooking
from respite.clock import local_today
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.errors import FieldError, InvalidInputError, NotFoundError, RespiteError
from respite.i18n import render, t
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, language, page
from respite.pages.guards import family
from respite.params import BookingPathId
from respite.problems import problem_kind
from respite.recipients.service import get_recipient

__all__ = ["REASONS", "StayPages"]

REASONS: Final = ("plans_changed", "unwell", "found_elsewhere", "wrong_dates", "other")
MAX_REASON: Final = 400
# A family books a few stays a year; past this many pages the oldest are not listed.
MAX_PAGES: Final = 5
NOTICES: Final = frozenset({"booked", "cancelled", "changed"})
Notice = Annotated[str | None, QueryParameter(name="notice", max_length=20)]


class StayPages(Controller):
    path = "/stays"
    include_in_schema = False

    @get("/")
    async def my_stays(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        principal = family(request)
        stays = await _all_stays(deps, principal)
        today = local_today(DEFAULT_TIMEZONE, deps.clock.now())
        upcoming = [s for s in stays if s.status in LIVE_STATUSES and s.check_out > today]
        past = [s for s in stays if s not in upcoming]
        return page(
            request,
            "stays/list.html",
            upcoming=sorted(upcoming, key=lambda s: (s.check_in, s.id)),
            past=sorted(past, key=lambda s: (s.check_in, s.id), reverse=True),
            elders=await _elder_names(deps, principal, stays),
        )

    @get("/{booking_id:int}")
    async def stay(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
        notice: Notice = None,
    ) -> Template:
        principal = family(request)
        stay = await bookings.get_booking(deps, principal, booking_id)
        shown = notice if notice in NOTICES else None
        return await _stay_page(request, deps, principal, stay, notice=shown)

    @post("/{booking_id:int}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
    ) -> Template | Redirect:
        principal = family(request)
        stay = await bookings.get_booking(deps, principal, booking_id)  # 404 for another's
        fields = await form_fields(request)
        chosen, other = fields.get("reason"), fields.get("reason_other")
        errors = _reason_errors(chosen, other)
        if errors:
            return await _stay_page(
                request, deps, principal, stay, errors=errors, chosen=chosen, other=other
            )
        reason = (
            other
            if chosen == "other"
            else render(t(f"page.stays.cancel.reason.{chosen}"), language(request))
        )
        assert isinstance(reason, str)
        try:
            await bookings.cancel(
                deps, principal, CancelBooking(booking_id=booking_id, reason=reason)
            )
        except StepNotAllowedError as exc:
            now = await bookings.get_booking(deps, principal, booking_id)
            if now.status == "cancelled":  # a second click: the first one cancelled it
                return go(f"/stays/{booking_id}?notice=cancelled")
            return await _stay_page(request, deps, principal, now, failure=exc)
        except RespiteError as exc:
            return await _stay_page(request, deps, principal, stay, failure=exc)
        return go(f"/stays/{booking_id}?notice=cancelled")

    @post("/{booking_id:int}/change")
    async def quote_change(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
    ) -> Template:
        principal = family(request)
        stay = await bookings.get_booking(deps, principal, booking_id)  # 404 for another's
        fields = await form_fields(request)
        try:
            change = read_form(fields, StayChange)
            quote = await bookings.quote_stay_change(
                deps, principal, QuoteStayChange(booking_id=booking_id, change=change)
            )
        except InvalidInputError as exc:
            return await _stay_page(request, deps, principal, stay, errors=exc.errors, dates=fields)
        except RespiteError as exc:
            return await _stay_page(request, deps, principal, stay, failure=exc, dates=fields)
        names = await _elder_names(deps, principal, [stay])
        return page(
            request,
            "stays/change.html",
            stay=stay,
            quote=quote,
            elder_name=names.get(stay.care_recipient_id, ""),
        )

    @post("/{booking_id:int}/change/confirm")
    async def change(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
    ) -> Template | Redirect:
        principal = family(request)
        stay = await bookings.get_booking(deps, principal, booking_id)
        fields = await form_fields(request)
        try:
            change = read_form(fields, StayChange)
            if (stay.check_in, stay.check_out) == (change.check_in, change.check_out):
                # A second click, or a reload: the first one made the change.
                return go(f"/stays/{booking_id}?notice=changed")
            await bookings.change_stay(
                deps, principal, ChangeStay(booking_id=booking_id, change=change)
            )
        except RespiteError as exc:
            now = await bookings.get_booking(deps, principal, booking_id)
            return await _stay_page(request, deps, principal, now, failure=exc, dates=fields)
        return go(f"/stays/{booking_id}?notice=changed")


def _reason_errors(chosen: Any, other: Any) -> list[FieldError]:
    if not isinstance(chosen, str) or chosen not in REASONS:
        return [FieldError("reason", t("page.stays.cancel.choose"))]
    if chosen == "other" and not isinstance(other, str):
        return [FieldError("reason_other", t("page.stays.cancel.explain"))]
    if isinstance(other, str) and len(other) > MAX_REASON:
        return [FieldError("reason_other", t("page.stays.cancel.too_long"))]
    return []


async def _stay_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    stay: Booking,
    *,
    notice: str | None = None,
    errors: list[FieldError] | None = None,
    failure: RespiteError | None = None,
    chosen: Any = None,
    other: Any = None,
    dates: dict[str, Any] | None = None,
) -> Template:
    names = await _elder_names(deps, principal, [stay])
    status = 422 if errors else (problem_kind(failure).status if failure else 200)
    return page(
        request,
        "stays/stay.html",
        status=status,
        errors=errors,
        stay=stay,
        elder_name=names.get(stay.care_recipient_id, ""),
        notice=notice,
        failure=failure.detail if failure else None,
        reasons=REASONS,
        chosen=chosen if isinstance(chosen, str) else "",
        other=other if isinstance(other, str) else "",
        dates=dates or {"check_in": str(stay.check_in), "check_out": str(stay.check_out)},
        may_change=stay.status == "confirmed" and stay.check_in > _today(deps),
    )


def _today(deps: Deps) -> date:
    return local_today(DEFAULT_TIMEZONE, deps.clock.now())


async def _all_stays(deps: Deps, principal: Principal) -> list[Booking]:
    stays: list[Booking] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        found = await bookings.list_bookings(
            deps, principal, BookingFilter(cursor=cursor, limit=MAX_PAGE)
        )
        stays.extend(found.items)
        cursor = found.next_cursor
        if cursor is None:
            break
    return stays


async def _elder_names(
    deps: Deps, principal: Principal, stays: Iterable[Booking]
) -> dict[int, str]:
    """The names of the stays' elders (a family has a few)."""
    names: dict[int, str] = {}
    for elder_id in sorted({s.care_recipient_id for s in stays}):
        try:
            names[elder_id] = (await get_recipient(deps, principal, elder_id)).name
        except NotFoundError:  # an elder the family no longer sees
            names[elder_id] = ""
    return names
