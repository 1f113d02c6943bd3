"""Today and tomorrow at the desk, and one booking: check in, check out, no-show, cancel.

``/desk`` lists the facility's arrivals and departures of its today and tomorrow (its own
time zone: ``desk.stays_on_day``), each row with the steps its booking allows now. A step is
never taken from a list: its button opens a confirmation page that says what will happen (the
elder, the bed, the nights; for an early check-out the nights given back), and only that
page's form (POST, CSRF) calls the booking use case (``booking.change_status``; cancel:
``booking.cancel``), as the API does. After it the desk is shown again with a notice
(``?done=<step>&booking=<id>``) and the row in its new status. Which steps a booking allows
is the booking's own pure rule (``booking.model.transition``) on the facility's date, so the
page offers exactly what the use case would accept; a refusal all the same (a second desk
was quicker, the day turned) is a page naming the reason in the reader's language.

``/desk/bookings/{id}`` is a booking of the facility as the desk reads it, with who booked it
(``desk.booking_origin``); another facility's booking is not found (404), as in the API.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template

from respite import booking as bookings
from respite import desk
from respite.auth.model import Principal
from respite.booking.errors import StepNotAllowedError
from respite.booking.model import (
    Action,
    Booking,
    CancelBooking,
    ChangeStatus,
    IllegalTransition,
    Outcome,
    Status,
    transition,
)
from respite.clock import local_today
from respite.deps import Deps
from respite.desk.model import MAX_PAGE, DayQuery, StayRow, Which
from respite.errors import FieldError, NotFoundError
from respite.i18n import Text, t
from respite.inventory.service import get_facility
from respite.pages.forms import form_fields
from respite.pages.frame import go, page
from respite.pages.guards import staff
from respite.params import BookingPathId
from respite.problems import problem_kind
from respite.recipients.service import get_recipient

__all__ = ["STEPS", "TodayPages", "allowed_steps", "elder_name", "nights_words", "who_words"]

STEPS: Final[dict[str, Action]] = {
    "check-in": "check_in",
    "check-out": "check_out",
    "no-show": "no_show",
}
# What a step leaves the booking in: a second click finds it so and is told it is done.
_LEADS_TO: Final[dict[Action, Status]] = {
    "check_in": "checked_in",
    "check_out": "checked_out",
    "no_show": "no_show",
    "cancel": "cancelled",
}
DONE: Final = frozenset(_LEADS_TO)
# Where a step's pages return to: the day's list, or the booking's page.
BACK: Final = frozenset({"today", "booking"})
MAX_REASON: Final = 500
# More arrivals in one day than this many pages would be a hotel, not a care home.
MAX_DAY_PAGES: Final = 5
Done = Annotated[str | None, QueryParameter(name="done", max_length=20)]
DoneBooking = Annotated[int | None, QueryParameter(name="booking", ge=1, le=2**63 - 1)]
Back = Annotated[str | None, QueryParameter(name="from", max_length=20)]
StepName = Annotated[str, PathParameter(max_length=20)]


class Offer:
    """A step the desk may take on a booking today, and what it would do (pure)."""

    def __init__(self, step: str, action: Action, outcome: Outcome, check_out: date) -> None:
        self.step = step
        self.action = action
        self.outcome = outcome
        self.early = action == "check_out" and outcome.check_out < check_out


def allowed_steps(status: Status, check_in: date, check_out: date, today: date) -> list[Offer]:
    """The steps the booking's life cycle allows on ``today``, in the order a desk meets them."""
    offers = []
    for step, action in STEPS.items():
        try:
            outcome = transition(status, action, today, check_in, check_out)
        except IllegalTransition:
            continue
        offers.append(Offer(step, action, outcome, check_out))
    return offers


def nights_words(n: int) -> Text:
    return t("desk.today.nights_one") if n == 1 else t("desk.today.nights_many", n=n)


def who_words(elder: str | None, booking_id: int) -> str | Text:
    """The elder's name, or the booking's number when staff no longer see who it was."""
    return elder if elder is not None else t("desk.booking.number", id=booking_id)


def confirmation(stay: Booking, offer: Offer, elder: str | None) -> tuple[Text, Text]:
    """What a step's confirmation page asks, and what it says the step will do."""
    who, bed, outcome = who_words(elder, stay.id), stay.bed_label, offer.outcome
    if offer.action == "check_in":
        return (
            t("desk.today.confirm.check_in", who=who, bed=bed, nights=nights_words(stay.nights)),
            t(
                "desk.today.confirm.check_in_detail",
                check_in=stay.check_in,
                check_out=stay.check_out,
            ),
        )
    if offer.action == "no_show":
        return (
            t("desk.today.confirm.no_show", who=who),
            t(
                "desk.today.confirm.no_show_detail",
                bed=bed,
                check_in=stay.check_in,
                nights=nights_words(stay.nights),
            ),
        )
    if offer.early and outcome.free_from is not None:
        return (
            t("desk.today.confirm.check_out_early", who=who, bed=bed),
            t(
                "desk.today.confirm.check_out_early_detail",
                check_out=outcome.check_out,
                planned=stay.check_out,
                freed=nights_words(outcome.nights_freed),
                free_from=outcome.free_from,
            ),
        )
    return (
        t("desk.today.confirm.check_out", who=who, bed=bed),
        t("desk.today.confirm.check_out_detail", check_out=stay.check_out),
    )


async def elder_name(deps: Deps, principal: Principal, care_recipient_id: int) -> str | None:
    """The elder's name when the staff still see the elder (``eligibility.subject``): a
    cancelled or missed stay, or one long over, no longer shows who it was."""
    try:
        return (await get_recipient(deps, principal, care_recipient_id)).name
    except NotFoundError:
        return None


class Day:
    """A day's arrivals and departures at the desk."""

    def __init__(self, on: date, arrivals: list[StayRow], departures: list[StayRow]) -> None:
        self.on = on
        self.arrivals = arrivals
        self.departures = departures


class TodayPages(Controller):
    path = "/desk"
    include_in_schema = False

    @get("/")
    async def today(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        done: Done = None,
        booking: DoneBooking = None,
    ) -> Template:
        principal = staff(request)
        facility_id = _facility(principal)
        first = await _day(deps, principal, facility_id, None)
        second = await _day(deps, principal, facility_id, first.on + timedelta(days=1))
        notice = None
        if done in DONE and booking is not None:
            notice = await _notice(deps, principal, done, booking)
        return page(
            request,
            "desk/today/today.html",
            days=[("today", first), ("tomorrow", second)],
            today=first.on,
            notice=notice,
            steps=allowed_steps,
        )

    @get("/bookings/{booking_id:int}")
    async def booking_page(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
        done: Done = None,
    ) -> Template:
        principal = staff(request)
        stay = await bookings.get_booking(deps, principal, booking_id)
        notice = None
        if done in DONE:
            notice = await _notice(deps, principal, done, booking_id)
        return await _booking_page(request, deps, principal, stay, notice=notice)

    @post("/bookings/{booking_id:int}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
    ) -> Template | Redirect:
        principal = staff(request)
        stay = await bookings.get_booking(deps, principal, booking_id)  # 404 for another's
        fields = await form_fields(request)
        reason = fields.get("reason")
        error = None
        if not isinstance(reason, str):
            error = t("desk.booking.cancel.reason_needed")
        elif len(reason) > MAX_REASON:
            error = t("desk.booking.cancel.reason_long", n=MAX_REASON)
        if error is not None or not isinstance(reason, str):
            errors = [FieldError("reason", error or t("desk.booking.cancel.reason_needed"))]
            return await _booking_page(
                request, deps, principal, stay, errors=errors, reason=fields.get("reason", "")
            )
        command = CancelBooking(booking_id=booking_id, reason=reason)
        try:
            await bookings.cancel(deps, principal, command)
        except StepNotAllowedError as exc:
            return await _refused_or_done(request, deps, principal, booking_id, "cancel", exc)
        return go(f"/desk/bookings/{booking_id}?done=cancel")

    @get("/bookings/{booking_id:int}/{step:str}")
    async def confirm_page(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
        step: StepName,
        back: Back = None,
    ) -> Template:
        principal = staff(request)
        action = _action(step, booking_id)
        stay = await bookings.get_booking(deps, principal, booking_id)
        today = await _today_at(deps, principal, stay)
        offer = next((o for o in allowed_steps(*_terms(stay), today) if o.step == step), None)
        if offer is None:
            why = _why_not(stay, action, today)
            return _refused(request, stay, action, why, status=409, back=_back(back))
        elder = await elder_name(deps, principal, stay.care_recipient_id)
        question, detail = confirmation(stay, offer, elder)
        return page(
            request,
            "desk/today/confirm.html",
            zone=await _zone(deps, principal, stay),
            stay=stay,
            offer=offer,
            elder=elder,
            question=question,
            detail=detail,
            back=_back(back),
        )

    @post("/bookings/{booking_id:int}/{step:str}")
    async def take_step(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
        step: StepName,
    ) -> Template | Redirect:
        principal = staff(request)
        action = _action(step, booking_id)
        fields = await form_fields(request)
        back = _back(fields.get("back"))
        command = ChangeStatus(booking_id=booking_id, action=action)
        try:
            await bookings.change_status(deps, principal, command)
        except StepNotAllowedError as exc:
            return await _refused_or_done(request, deps, principal, booking_id, action, exc, back)
        return go(_after(back, action, booking_id))


def _facility(principal: Principal) -> int:
    assert principal.facility_id is not None  # guards.staff refuses staff of no facility
    return principal.facility_id


def _action(step: str, booking_id: int) -> Action:
    action = STEPS.get(step)
    if action is None:
        raise NotFoundError("booking", booking_id)  # no such step: no such page
    return action


def _terms(stay: Booking) -> tuple[Status, date, date]:
    return stay.status, stay.check_in, stay.check_out


def _why_not(stay: Booking, action: Action, today: date) -> Any:
    try:
        transition(stay.status, action, today, stay.check_in, stay.check_out)
    except IllegalTransition as exc:
        return exc.why
    return None  # pragma: no cover - only asked about a step the rule refuses


def _back(value: Any) -> str:
    return value if isinstance(value, str) and value in BACK else "today"


def _after(back: str, action: Action, booking_id: int) -> str:
    if back == "booking":
        return f"/desk/bookings/{booking_id}?done={action}"
    return f"/desk?done={action}&booking={booking_id}#booking-{booking_id}"


async def _zone(deps: Deps, principal: Principal, stay: Booking) -> str:
    """The facility's time zone: the desk reads its moments by its own clock."""
    return (await get_facility(deps, principal, stay.facility_id)).timezone


async def _today_at(deps: Deps, principal: Principal, stay: Booking) -> date:
    return local_today(await _zone(deps, principal, stay), deps.clock.now())


async def _day(deps: Deps, principal: Principal, facility_id: int, on: date | None) -> Day:
    lists: dict[Which, list[StayRow]] = {"arrivals": [], "departures": []}
    day = on
    for which, rows in lists.items():
        cursor: str | None = None
        for _ in range(MAX_DAY_PAGES):
            query = DayQuery(
                facility_id=facility_id, which=which, day=day, cursor=cursor, limit=MAX_PAGE
            )
            found = await desk.stays_on_day(deps, principal, query)
            day = found.date
            rows.extend(found.items)
            cursor = found.next_cursor
            if cursor is None:
                break
    assert day is not None
    return Day(day, lists["arrivals"], lists["departures"])


async def _notice(deps: Deps, principal: Principal, done: str, booking_id: int) -> Any:
    """What the step just taken did, in words: who, which bed."""
    try:
        stay = await bookings.get_booking(deps, principal, booking_id)
    except NotFoundError:
        return None
    who = who_words(await elder_name(deps, principal, stay.care_recipient_id), stay.id)
    if done == "check_out" and stay.status == "checked_out":
        return t("desk.today.done.check_out", who=who, bed=stay.bed_label, check_out=stay.check_out)
    if done == _status_step(stay.status):
        return t(f"desk.today.done.{done}", who=who, bed=stay.bed_label)
    return None


def _status_step(status: Status) -> str | None:
    return next((action for action, leads in _LEADS_TO.items() if leads == status), None)


async def _refused_or_done(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    booking_id: int,
    action: Action,
    exc: StepNotAllowedError,
    back: str = "booking",
) -> Template | Redirect:
    """A step refused: done already (a second click, another desk) is done; else the reason."""
    stay = await bookings.get_booking(deps, principal, booking_id)
    if stay.status == _LEADS_TO[action]:
        return go(_after(back, action, booking_id))
    return _refused(request, stay, action, exc.detail, status=problem_kind(exc).status, back=back)


def _refused(
    request: Request[Any, Any, Any],
    stay: Booking,
    action: Action,
    why: Any,
    *,
    status: int,
    back: str,
) -> Template:
    return page(
        request,
        "desk/today/refused.html",
        status=status,
        stay=stay,
        action=action,
        why=why,
        back=back,
    )


async def _booking_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    stay: Booking,
    *,
    notice: Any = None,
    errors: list[FieldError] | None = None,
    reason: Any = "",
) -> Template:
    today = await _today_at(deps, principal, stay)
    return page(
        request,
        "desk/today/booking.html",
        status=422 if errors else 200,
        zone=await _zone(deps, principal, stay),
        errors=errors,
        stay=stay,
        elder=await elder_name(deps, principal, stay.care_recipient_id),
        origin=await desk.booking_origin(deps, principal, stay.id),
        offers=allowed_steps(*_terms(stay), today),
        notice=notice,
        reason=reason if isinstance(reason, str) else "",
        max_reason=MAX_REASON,
    )
