"""A family holds a bed and books it: the hold's page with its countdown, confirm, let it go.

Placing calls ``holds.place_hold`` in process, as ``POST /v1/holds`` does: the same form of
request (``HoldRequest``: ``care_recipient_id``, ``check_in``, ``check_out``, and ``bed_id`` or
``facility_id`` with ``kind``), the same eligibility, the same cap on live holds. The search
page's "Hold this bed" form posts it, with ``back`` (its own address, to return to) and,
optionally, an ``idempotency_key`` it made when it was rendered (a re-posted form then answers
the same hold).

The hold's token, the one proof that confirms it, never reaches a script: it is kept in an
HttpOnly cookie scoped to the hold's own path (``/holds/<id>``), so a reload keeps it.

Confirming is idempotent without any JavaScript: its idempotency key is the hold's own id
(``confirm_key``), so a double-click, a reload of the POST or back-then-forward books once, and
every answer sends the family to the same stay. A hold whose time ran out confirms nothing
here: the page says it ended (the countdown promised no more).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from babel.dates import format_time
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from respite import holds, idempotency
from respite.auth.model import Principal
from respite.booking.errors import IneligibleError
from respite.booking.model import Booking
from respite.clock import zone
from respite.deps import Deps
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.errors import InvalidInputError, NotFoundError, RespiteError
from respite.holds.ends import how_ended
from respite.holds.errors import NoFreeBedError
from respite.holds.model import ConfirmHold, Hold, HoldRequest, HoldView, PlaceHold
from respite.holds.token import read_token
from respite.i18n import Text, formats, t
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, language, local_path, page
from respite.pages.guards import SignInNeeded, family
from respite.problems import problem_kind
from respite.recipients.service import get_recipient

__all__ = ["HOLD_COOKIE", "HoldPages", "confirm_key"]

HOLD_COOKIE: Final = "respite_hold"
SEARCH: Final = "/search"
HoldId = Annotated[str, PathParameter(max_length=64)]
# The fields of the search page's form that are the API's; a hospital's referral_id is not.
HOLD_FIELDS: Final = frozenset(
    {"care_recipient_id", "check_in", "check_out", "bed_id", "facility_id", "kind"}
)


def confirm_key(hold_id: str) -> str:
    """The idempotency key of confirming ``hold_id`` on the pages: the same for every attempt."""
    return f"page-confirm-{hold_id}"


class HoldPages(Controller):
    path = "/holds"
    include_in_schema = False

    @post("/")
    async def place(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        fields = await form_fields(request)
        back = local_path(_text(fields.pop("back", None)), SEARCH)
        try:
            principal = family(request)
        except SignInNeeded:
            raise SignInNeeded(back) from None  # back to the search once signed in
        key = _text(fields.get("idempotency_key"))
        try:
            held = read_form({k: v for k, v in fields.items() if k in HOLD_FIELDS}, HoldRequest)
            kept = await _kept_already(deps, principal, held)
            if kept is not None:  # the form sent again (back, then "Hold" once more)
                return go(f"/holds/{kept}")
            command = PlaceHold(request=held, idempotency_key=idempotency.optional_key(key))
            hold = await holds.place_hold(deps, principal, command)
        except RespiteError as exc:
            return _refused(request, exc, back, "page.hold.refused.title")
        return go(f"/holds/{hold.hold_id}", cookies=[_token_cookie(deps, hold)])

    @get("/{hold_id:str}")
    async def hold_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], hold_id: HoldId
    ) -> Template:
        principal = family(request)
        try:
            hold = await holds.get_hold(deps, principal, hold_id)
        except NotFoundError:
            return await _ended(request, deps, principal, hold_id)
        elder = await get_recipient(deps, principal, hold.care_recipient_id)
        return page(
            request,
            "holds/hold.html",
            hold=hold,
            elder_name=elder.name,
            ends_at=_clock_time(hold.expires_at, request),
            has_token=_token(request, deps, principal, hold_id) is not None,
        )

    @post("/{hold_id:str}/confirm")
    async def confirm(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], hold_id: HoldId
    ) -> Template | Redirect:
        principal = family(request)
        token = _token(request, deps, principal, hold_id)
        # Live first, then "booked already": a concurrent confirm that booked in between has
        # committed its answer before it took the hold out of Redis.
        if token is not None and await _live(deps, principal, hold_id) is not None:
            command = ConfirmHold(
                hold_id=hold_id, token=token, idempotency_key=confirm_key(hold_id)
            )
            try:
                booking = await holds.confirm_hold(deps, principal, command)
            except RespiteError as exc:
                return _refused(request, exc, SEARCH, "page.hold.refused.confirm_title")
            return _to_stay(booking)
        booked = await _booked(deps, principal, hold_id)
        if booked is not None:
            return _to_stay(booked)
        return await _ended(request, deps, principal, hold_id, refused=True)

    @post("/{hold_id:str}/release")
    async def release(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], hold_id: HoldId
    ) -> Template | Redirect:
        principal = family(request)
        try:
            await holds.release_live_hold(deps, principal, hold_id)
        except NotFoundError:
            return await _ended(request, deps, principal, hold_id, refused=True)
        return go(f"/holds/{hold_id}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _to_stay(booking: Booking) -> Redirect:
    return go(f"/stays/{booking.id}?notice=booked")


def _token_cookie(deps: Deps, hold: Hold) -> Cookie:
    """The hold's token, for this browser only, until the hold cannot confirm anyway."""
    return Cookie(
        key=HOLD_COOKIE,
        value=hold.token,
        max_age=deps.settings.hold_max_age_seconds,
        path=f"/holds/{hold.hold_id}",
        httponly=True,
        samesite="lax",
        secure=deps.settings.cookies_secure,
    )


def _token(
    request: Request[Any, Any, Any], deps: Deps, principal: Principal, hold_id: str
) -> str | None:
    """The token this browser keeps for ``hold_id``, if it is that hold's and this family's."""
    token = request.cookies.get(HOLD_COOKIE)
    if not token:
        return None
    held = read_token(deps.settings.secret_key, token)
    if held is None or held.hold_id != hold_id or held.principal_id != principal.id:
        return None
    return token


async def _live(deps: Deps, principal: Principal, hold_id: str) -> HoldView | None:
    try:
        return await holds.get_hold(deps, principal, hold_id)
    except NotFoundError:
        return None


async def _kept_already(deps: Deps, principal: Principal, asked: HoldRequest) -> str | None:
    """The family's live hold that is this very request, if it holds one already: sending
    the form twice keeps one bed, not two."""
    mine = await holds.list_my_holds(deps, principal)
    for hold in mine.items:
        same_bed = hold.bed.id == asked.bed_id or (
            hold.bed.facility_id == asked.facility_id and hold.bed.kind == asked.kind
        )
        if (
            same_bed
            and hold.care_recipient_id == asked.care_recipient_id
            and (hold.check_in, hold.check_out) == (asked.check_in, asked.check_out)
        ):
            return hold.hold_id
    return None


async def _booked(deps: Deps, principal: Principal, hold_id: str) -> Booking | None:
    """The booking this family made of ``hold_id`` on the pages, if it did."""
    async with deps.pool.acquire() as conn:
        return await idempotency.answered(conn, principal, confirm_key(hold_id), "confirm", Booking)


async def _ended(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    hold_id: str,
    *,
    refused: bool = False,
) -> Template:
    """The page of a hold that is no longer live: booked, let go, run out — or, when it is
    not this family's (or not known at all), not found (404). Nothing is changed: a confirm
    or a release ``refused`` for a hold that ran out or was let go answers 410."""
    booked = await _booked(deps, principal, hold_id)
    if booked is not None:
        return page(request, "holds/ended.html", state="confirmed", booking_id=booked.id)
    if _token(request, deps, principal, hold_id) is None:
        return page(request, "holds/ended.html", status=404, state="unknown", booking_id=None)
    async with deps.pool.acquire() as conn:
        ended = await how_ended(conn, hold_id)
    if ended == "confirmed":  # booked, though not on these pages (through the API, say)
        return page(request, "holds/ended.html", state="confirmed", booking_id=None)
    state = "released" if ended == "released" else "expired"
    status = 410 if refused else 200
    return page(request, "holds/ended.html", status=status, state=state, booking_id=None)


def _refused(request: Request[Any, Any, Any], exc: RespiteError, back: str, title: str) -> Template:
    """Why nothing was held or booked, in the use case's words, and the way back."""
    reasons: list[Text] = []
    detail = exc.detail
    if isinstance(exc, IneligibleError):  # its detail names codes: the reasons say it in words
        reasons = [r["message"] for r in exc.extensions.get("reasons", []) if not r.get("ok")]
        detail = t("page.hold.refused.not_eligible")
    if isinstance(exc, NoFreeBedError):  # its detail names the facility by its id
        detail = t("page.hold.refused.no_free_bed")
    problems = exc.errors if isinstance(exc, InvalidInputError) else []
    return page(
        request,
        "holds/refused.html",
        status=problem_kind(exc).status,
        title_key=title,
        detail=detail,
        reasons=reasons,
        problems=problems,
        back=back,
    )


def _clock_time(when: datetime, request: Request[Any, Any, Any]) -> str:
    """When the hold ends, as a time of day where the family lives (the city's zone)."""
    lang = language(request)
    local = when.astimezone(zone(DEFAULT_TIMEZONE))
    return format_time(local, "short", tzinfo=local.tzinfo, locale=formats.locale(lang))
