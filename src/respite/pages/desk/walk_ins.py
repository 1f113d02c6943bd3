"""Walk-ins at the desk: find or register the elder, choose the dates and a bed, book.

``/desk/walk-in`` finds an elder of the facility (``desk.find_elders``: by name or the
emergency contact's number) or registers one (``/desk/walk-in/new``: the family pages' elder
form, with an assessment if one is at hand; the facility owns the elder, as the API's
``POST /v1/care-recipients`` by staff does). ``/desk/walk-in/book`` then shows, for the dates
and bed chosen (the board links here with ``bed`` and ``from``), whether the bed is free, the
eligibility decision in words, the price, and the Book button; booking is the API's walk-in
(``booking.walk_in``: ``book()`` in one transaction, no hold, since staff book the bed
directly). A refusal is overridden only by a manager, naming every rule that refused, each in
the form the policy allows, with a reason; front desk staff are told to ask a manager, and an
override they post anyway is refused (403) before anything is tried. ``book()`` audits the
override with the booking and logs it once committed.

Booking is idempotent without JavaScript: the form carries an attempt made when the page was
rendered, and the server derives the idempotency key from it (``walk_in_key``), so a
double-click or a reload of the POST books once and answers the same booking. Another
facility's elder, bed or booking is not found (404), as in the API.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite import idempotency
from respite.auth.model import Principal
from respite.booking import service as bookings
from respite.booking.errors import IneligibleError
from respite.booking.model import Booking, TakeWalkIn, WalkIn
from respite.clock import local_today
from respite.deps import Deps
from respite.desk import find_elders
from respite.desk.model import ElderSearch
from respite.eligibility.model import Stay
from respite.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from respite.i18n import t
from respite.inventory import get_bed, get_facility, list_beds
from respite.inventory.commands import BedFilter
from respite.inventory.model import Bed
from respite.pages.assessments import in_order
from respite.pages.desk.walk_in_check import Verdict, bed_problems, elder_staying, judge_stay
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, page
from respite.pages.guards import staff
from respite.params import BookingPathId
from respite.recipients.service import get_recipient
from respite.vocabulary import CheckIn, CheckOut

__all__ = ["WalkInPages", "carried", "walk_in_key"]

BASE: Final = "/desk/walk-in"
MAX_QUERY: Final = 100
_ATTEMPT: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# The walk-in's fields as the API names them, and the book form's fields that show them.
_SHOWN_AS: Final = {"check_in": "from", "check_out": "to", "bed_id": "bed"}
_ORDER: Final = ("from", "to", "bed", "check_in_now", "override-0", "override_reason", "attempt")


def walk_in_key(attempt: str) -> str:
    """The idempotency key of booking the walk-in form rendered as ``attempt``."""
    return f"page-walk-in-{attempt}"


def carried(values: dict[str, Any]) -> dict[str, str]:
    """What the walk-in's pages carry from one to the next: the bed and the first night the
    board chose, as given (the book page reads and checks them)."""
    return {k: v for k in ("bed", "from") if isinstance(v := values.get(k), str) and v}


def _night(value: str | None) -> date | str | None:
    """The first night the board chose, as a date to say in words (as typed if it is none:
    the book page names what is wrong with it)."""
    try:
        return date.fromisoformat(value) if value else value
    except ValueError:
        return value


def link(path: str, **values: object) -> str:
    given = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return f"{path}?{urlencode(given)}" if given else path


class _Dates(msgspec.Struct, frozen=True, kw_only=True):
    check_in: CheckIn
    check_out: CheckOut

    def __post_init__(self) -> None:
        Stay(check_in=self.check_in, check_out=self.check_out)


class Asked(msgspec.Struct, frozen=True, kw_only=True):
    """What the book page is asked for: the elder, and maybe a bed and dates as typed."""

    elder: int
    bed: str = ""
    start: str = ""
    end: str = ""
    checked: bool = False
    """The dates form was sent: blank dates are then named, not just waited for."""


class WalkInPages(Controller):
    path = BASE
    include_in_schema = False

    @get("/")
    async def find(self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]) -> Template:
        principal = staff(request)
        carry = carried(dict(request.query_params))
        bed = await _carried_bed(deps, principal, carry)
        typed = request.query_params.get("q")
        found, errors = None, []
        if typed is not None:
            try:
                if len(typed) > MAX_QUERY:
                    raise InvalidInputError.one("q", t("desk.walk_in.find.too_long", n=MAX_QUERY))
                search = ElderSearch(facility_id=_facility(principal), q=typed)
                found = await find_elders(deps, principal, search)
            except InvalidInputError as exc:
                errors = exc.errors
        return page(
            request,
            "desk/walk_in/find.html",
            status=422 if errors else 200,
            errors=errors,
            q=typed or "",
            found=found,
            bed=bed,
            carry=carry,
            start=_night(carry.get("from")),
            choose=lambda elder_id: link(f"{BASE}/book", elder=elder_id, **carry),
            register=link(f"{BASE}/new", **carry),
        )

    @get("/book")
    async def book_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = staff(request)
        params = request.query_params
        if not params.get("elder"):  # no elder chosen yet: find one first
            return go(link(BASE, **carried(dict(params))))
        asked = Asked(
            elder=_id(params.get("elder"), "care recipient"),
            bed=params.get("bed") or "",
            start=params.get("from") or "",
            end=params.get("to") or "",
            checked=params.get("checked") == "1",
        )
        return await _booking_page(request, deps, principal, asked)

    @post("/book")
    async def book(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = staff(request)
        fields = await form_fields(request)
        overriding = any(name in fields for name in ("override", "acknowledge", "override_reason"))
        if overriding and principal.staff_role != "manager":
            raise PermissionDeniedError(t("desk.walk_in.override.managers_only"))
        asked = Asked(
            elder=_id(fields.get("care_recipient_id"), "care recipient"),
            bed=_one(fields.get("bed_id")),
            start=_one(fields.get("check_in")),
            end=_one(fields.get("check_out")),
            checked=True,
        )
        # Tenancy first: another facility's elder or bed is not found, whatever else is sent.
        await get_recipient(deps, principal, asked.elder)
        await get_bed(deps, principal, _id(asked.bed, "bed"))
        attempt = _one(fields.get("attempt"))
        if not _ATTEMPT.match(attempt):
            problem = FieldError("attempt", t("desk.walk_in.book.form_stale"))
            return await _again(request, deps, principal, asked, fields, [problem])
        key = walk_in_key(attempt)
        async with deps.pool.acquire() as conn:
            done = await idempotency.answered(conn, principal, key, "booking.walk_in", Booking)
        if done is not None:  # sent again after it booked (a double-click, a reload)
            return go(f"{BASE}/booked/{done.id}")
        try:
            walk = read_form(_walk_in(fields), WalkIn)
            facility_id = _facility(principal)
            command = TakeWalkIn(facility_id=facility_id, walk_in=walk, idempotency_key=key)
            booking = await bookings.walk_in(deps, principal, command)
        except IneligibleError as exc:
            return await _again(request, deps, principal, asked, fields, _not_covered(exc))
        except InvalidInputError as exc:
            return await _again(request, deps, principal, asked, fields, _shown(exc.errors))
        except ConflictError as exc:
            return await _again(request, deps, principal, asked, fields, [], conflict=exc.detail)
        return go(f"{BASE}/booked/{booking.id}")

    @get("/booked/{booking_id:int}")
    async def booked(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        booking_id: BookingPathId,
    ) -> Template:
        principal = staff(request)
        booking = await bookings.get_booking(deps, principal, booking_id)
        elder = await get_recipient(deps, principal, booking.care_recipient_id)
        return page(request, "desk/walk_in/booked.html", booking=booking, elder=elder)


async def _booking_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    asked: Asked,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    conflict: Any = None,
) -> Template:
    """The book page for ``asked``: the dates and bed form, and once both are known the bed's
    state, the decision in words, the price and the Book (or override) form."""
    facility_id = _facility(principal)
    elder = await get_recipient(deps, principal, asked.elder)
    bed = await get_bed(deps, principal, _id(asked.bed, "bed")) if asked.bed else None
    facility = await get_facility(deps, principal, facility_id)
    today = local_today(facility.timezone, deps.clock.now())
    shown = list(errors or [])
    stay = _stay(asked, shown)
    problems: dict[int, Any] = {}
    holds_unknown = False
    if stay is not None:
        problems, holds_unknown = await bed_problems(
            deps, principal, facility_id, stay.check_in, stay.check_out
        )
    verdict: Verdict | None = None
    staying = await elder_staying(deps, elder.id, stay) if stay is not None else None
    if bed is not None and stay is not None and not problems.get(bed.id) and staying is None:
        if bed.active and bed.retired_at is None:
            verdict = await judge_stay(deps, principal, elder.id, bed, stay, facility.timezone)
        else:
            shown.append(FieldError("bed", t("desk.walk_in.bed.not_taking")))
    if asked.checked and not asked.bed:
        shown.append(FieldError("bed", t("input.required")))
    return page(
        request,
        "desk/walk_in/book.html",
        status=status if status != 200 else (422 if shown else 200),
        errors=in_order(shown, _ORDER),
        elder=elder,
        bed=bed,
        beds=await _beds(deps, principal, facility_id),
        problems=problems,
        staying=staying,
        holds_unknown=holds_unknown,
        stay=stay,
        today=today,
        asked=asked,
        verdict=verdict,
        may_override=principal.staff_role == "manager",
        form=form or {},
        conflict=conflict,
        attempt=secrets.token_urlsafe(16),
        back=link(BASE, bed=asked.bed, **{"from": asked.start}),
    )


async def _again(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    asked: Asked,
    fields: dict[str, Any],
    errors: list[FieldError],
    *,
    conflict: Any = None,
) -> Template:
    """The book page again after a refused booking, with what was ticked and typed."""
    kept = {
        "override": _many(fields.get("override")),
        "acknowledge": _many(fields.get("acknowledge")),
        "override_reason": _one(fields.get("override_reason")),
        "check_in_now": fields.get("check_in_now") == "true",
    }
    status = 409 if conflict is not None else 422
    return await _booking_page(
        request, deps, principal, asked, status=status, errors=errors, form=kept, conflict=conflict
    )


def _stay(asked: Asked, errors: list[FieldError]) -> Stay | None:
    """The stay asked for, or None (the errors named, once the dates form was sent)."""
    if not asked.start and not asked.end and not asked.checked:
        return None
    data = {"check_in": asked.start, "check_out": asked.end}
    if not asked.end and not asked.checked:
        return None
    try:
        dates = read_form({k: v for k, v in data.items() if v}, _Dates)
    except InvalidInputError as exc:
        errors.extend(_shown(exc.errors))
        return None
    return Stay(check_in=dates.check_in, check_out=dates.check_out)


def _walk_in(fields: dict[str, Any]) -> dict[str, Any]:
    """The API's walk-in from the book form: each rule ticked is one override, acknowledged
    where its acknowledgement is ticked too."""
    acknowledged = set(_many(fields.get("acknowledge")))
    data: dict[str, Any] = {
        name: fields[name]
        for name in ("care_recipient_id", "bed_id", "check_in", "check_out", "override_reason")
        if name in fields
    }
    overrides = [
        {"code": code, "acknowledged": code in acknowledged}
        for code in _many(fields.get("override"))
    ]
    if overrides:
        data["overrides"] = overrides
    if fields.get("check_in_now") == "true":
        data["check_in_now"] = True
    return data


def _not_covered(exc: IneligibleError) -> list[FieldError]:
    """A refusal the form did not override: each rule left, in words, beside its checkbox
    (numbered as the page numbers the refusals: each code once, in the decision's order)."""
    reasons = [r for r in exc.extensions.get("reasons", []) if not r.get("ok")]
    message: dict[str, Any] = {}
    for reason in reasons:
        message.setdefault(reason["code"], reason["message"])
    refused = list(message)
    errors = [
        FieldError(
            f"override-{refused.index(code)}",
            t("desk.walk_in.override.not_covered", rule=message[code]),
        )
        for code in exc.extensions.get("not_overridden", [])
        if code in message
    ]
    return errors or [FieldError("override-0", t("desk.walk_in.override.not_ticked_any"))]


def _shown(errors: list[FieldError]) -> list[FieldError]:
    """The API's field names as the page's form shows them."""
    out = []
    for error in errors:
        name = error.field
        if name == "overrides" or name.startswith("overrides["):
            name = "override-0"
        elif name == "Idempotency-Key":
            name = "attempt"
        out.append(FieldError(_SHOWN_AS.get(name, name), error.message))
    return out


async def _beds(deps: Deps, principal: Principal, facility_id: int) -> list[Bed]:
    """The facility's beds that take bookings, every page of them."""
    beds: list[Bed] = []
    cursor: str | None = None
    while True:
        listing = BedFilter(facility_id=facility_id, active=True, cursor=cursor, limit=200)
        found = await list_beds(deps, principal, listing)
        beds.extend(found.items)
        cursor = found.next_cursor
        if cursor is None:
            return sorted(beds, key=lambda b: b.label)


async def _carried_bed(deps: Deps, principal: Principal, carry: dict[str, str]) -> Bed | None:
    """The bed the board chose, if any: another facility's is not found (404)."""
    return await get_bed(deps, principal, _id(carry["bed"], "bed")) if "bed" in carry else None


def _facility(principal: Principal) -> int:
    assert principal.facility_id is not None, "guards.staff lets only a facility's staff in"
    return principal.facility_id


def _id(value: Any, what: str) -> int:
    """An id given in a link or a form; anything else is ``what`` not found."""
    text = _one(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
        raise NotFoundError(what, text[:20] or "?")
    return int(text)


def _one(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _many(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []
