"""A family's waiting list: join it, see its entries and their place in line, leave; see an
offer, book it or say no thanks.

The pages call the waiting list's own use cases in process (``waitlist.service``,
``waitlist.offers``), scoped as for the API: another family's entry or offer is not found
(404). Joining reads the form into the API's ``JoinRequest``; its one "where" choice is the
API's exactly-one-of ``place``, ``near_home`` and ``facility_ids`` (the page drops what the
other choices typed, as the search page does). The form carries an attempt made when it was
drawn, from which the server derives the Idempotency-Key: a double submit joins once.

Booking an offer derives its Idempotency-Key from the offer's id (``accept_key``), so a
double click, a reload of the POST or back-then-forward all book once and land on the same
stay. An offer that ended — booked, declined, let lapse, withdrawn, or lost to an earlier
booking — says how, and never books.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template

from respite.auth.model import Principal
from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError, NotFoundError, RespiteError
from respite.i18n import Text, formats, t
from respite.inventory.service import get_facility_profile
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, page
from respite.pages.guards import family
from respite.params import MAX_ID
from respite.problems import problem_kind
from respite.recipients.model import RecipientListing
from respite.recipients.service import list_recipients
from respite.waitlist import offers, service
from respite.waitlist.errors import EntryEndedError, OfferEndedError, OfferLostError
from respite.waitlist.model import LIVE, Entry, JoinRequest, Offer

__all__ = ["WaitlistPages", "accept_key", "join_key", "line_words"]

EntryId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
OfferId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
Notice = Annotated[str | None, QueryParameter(name="notice", max_length=20)]
NOTICES: Final = frozenset({"joined", "left", "declined"})
ENTRIES_SHOWN: Final = 50
PASSES_SHOWN: Final = 3
ELDERS_SHOWN: Final = 50
WHERES: Final = ("place", "home", "facilities")
# What a link to the form may fill in: the search's own names, and the facilities.
PREFILL: Final = ("care_recipient_id", "kind", "place", "near_home", "check_in", "check_out")
# The form's fields shown again as typed: who and where, then when.
WHO_WHERE: Final = ("care_recipient_id", "kind", "where", "place")
WHEN: Final = ("earliest_check_in", "latest_check_out", "nights", "min_nights", "discharged_on")
# Fields the form has no input for: their errors point at what to change instead.
_ON_FORM: Final = {
    "facility_ids": "where",
    "near": "where",
    "near_home": "where",
    "radius_km": "place",
    "referral_id": "where",
    "check_in": "earliest_check_in",
    "check_out": "latest_check_out",
    "Idempotency-Key": "submit",
}
# The API's words that name its fields, in the form's words (the same figures).
_FORM_WORDS: Final = {
    "waitlist.one_where": "page.waitlist.says.one_where",
    "waitlist.window_order": "page.waitlist.says.window_order",
    "waitlist.min_over_nights": "page.waitlist.says.min_over_nights",
    "waitlist.radius_needed": "page.waitlist.says.radius_needed",
    "waitlist.facilities_empty": "page.waitlist.says.facilities_empty",
    "waitlist.no_home": "page.waitlist.says.no_home",
    "common.idempotency_key_reused": "page.waitlist.says.sent_already",
}


def join_key(attempt: str) -> str:
    """The Idempotency-Key of one drawing of the join form: the same for every send of it."""
    return f"page-join-{attempt}"


def accept_key(offer_id: int) -> str:
    """The Idempotency-Key of booking ``offer_id`` on the pages: the same for every attempt."""
    return f"page-accept-{offer_id}"


def line_words(position: int) -> Text:
    """ "2nd in line": the English ordinal's form chosen by CLDR's rules (1st, 2nd, 3rd, 11th,
    21st); Chinese says 第 n 位 whatever the form."""
    form = formats.locale("en").ordinal_form(position)
    return t(f"page.waitlist.line.{form}", n=position)


def nights_words(n: int, fewest: int | None = None) -> Text:
    if fewest is not None and fewest != n:
        return t("page.waitlist.nights_range", fewest=fewest, n=n)
    return t("page.waitlist.nights_one") if n == 1 else t("page.waitlist.nights_many", n=n)


def hours_left(seconds: int) -> Text:
    """How long is left, in whole hours and no finer: the page does not count down."""
    hours = seconds // 3600
    if hours >= 2:
        return t("page.waitlist.offer.hours_left", n=hours)
    return t("page.waitlist.offer.hour_left") if hours == 1 else t("page.waitlist.offer.under_hour")


class EntryView(msgspec.Struct, frozen=True, kw_only=True):
    """An entry with what its card says in words."""

    entry: Entry
    elder: str | None
    status: Text
    line: Text | None
    facilities: list[str]
    nights: Text
    passes: list[Text]


class WaitlistPages(Controller):
    path = "/waitlist"
    include_in_schema = False

    @get("/")
    async def my_list(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], notice: Notice = None
    ) -> Template:
        principal = family(request)
        listed = await service.list_entries(deps, principal, None, ENTRIES_SHOWN)
        elders = await _elders(deps, principal)
        ids = {f for e in listed.items for f in e.facility_ids}
        ids |= {p.facility_id for e in listed.items for p in e.passes}
        names = await _facility_names(deps, ids)
        views = [_view(e, elders.get(e.care_recipient_id), names) for e in listed.items]
        return page(
            request,
            "waitlist/list.html",
            live=[v for v in views if v.entry.status in LIVE],
            ended=[v for v in views if v.entry.status not in LIVE],
            notice=notice if notice in NOTICES else None,
        )

    @get("/join")
    async def join_form(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        principal = family(request)
        return await _join_page(request, deps, principal, _prefilled(request))

    @post("/join")
    async def join(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = family(request)
        fields = await form_fields(request)
        typed = _typed(fields)
        attempt = fields.pop("attempt", None)
        try:
            asked = read_form(_api_fields(fields), JoinRequest, lists=frozenset({"facility_ids"}))
            key = join_key(attempt) if isinstance(attempt, str) else None
            await service.join(deps, principal, asked, key)
        except InvalidInputError as exc:
            errors = _on_form(exc.errors, typed)
            return await _join_page(request, deps, principal, typed, errors=errors, status=422)
        except NotFoundError as exc:  # another family's elder: not found, as in the API
            errors = [FieldError("care_recipient_id", exc.detail)]
            return await _join_page(request, deps, principal, typed, errors=errors, status=404)
        except RespiteError as exc:
            status = problem_kind(exc).status
            return await _join_page(request, deps, principal, typed, failure=exc, status=status)
        return go("/waitlist?notice=joined")

    @get("/{entry_id:int}/leave")
    async def leave_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], entry_id: EntryId
    ) -> Template:
        principal = family(request)
        entry = await service.get_entry(deps, principal, entry_id)
        return await _leave_page(request, deps, principal, entry)

    @post("/{entry_id:int}/leave")
    async def leave(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], entry_id: EntryId
    ) -> Template | Redirect:
        principal = family(request)
        try:
            await service.leave(deps, principal, entry_id)
        except EntryEndedError as exc:
            if exc.extensions.get("status") == "left":  # a second click: the first one left
                return go("/waitlist?notice=left")
            entry = await service.get_entry(deps, principal, entry_id)
            return await _leave_page(request, deps, principal, entry, status=409)
        return go("/waitlist?notice=left")

    @get("/offers/{offer_id:int}")
    async def offer_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], offer_id: OfferId
    ) -> Template:
        principal = family(request)
        offer = await offers.get_offer(deps, principal, offer_id)
        return await _offer_page(request, deps, principal, offer)

    @post("/offers/{offer_id:int}/accept")
    async def accept(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], offer_id: OfferId
    ) -> Template | Redirect:
        principal = family(request)
        try:
            booking = await offers.accept_offer(deps, principal, offer_id, accept_key(offer_id))
        except (OfferEndedError, OfferLostError):
            offer = await offers.get_offer(deps, principal, offer_id)
            return await _offer_page(request, deps, principal, offer, status=409)
        return go(f"/stays/{booking.id}?notice=booked")

    @post("/offers/{offer_id:int}/decline")
    async def decline(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], offer_id: OfferId
    ) -> Template | Redirect:
        principal = family(request)
        try:
            await offers.decline_offer(deps, principal, offer_id)
        except OfferEndedError as exc:
            if exc.extensions.get("status") == "declined":  # a second click
                return go("/waitlist?notice=declined")
            offer = await offers.get_offer(deps, principal, offer_id)
            return await _offer_page(request, deps, principal, offer, status=409)
        return go("/waitlist?notice=declined")


async def _elders(deps: Deps, principal: Principal) -> dict[int, str]:
    listed = await list_recipients(deps, principal, RecipientListing(limit=ELDERS_SHOWN))
    return {view.id: view.name for view in listed.items}


async def _facility_names(deps: Deps, ids: Iterable[int]) -> dict[int, str]:
    """The names of facilities, as anyone may read them; one gone is left out."""
    wanted = sorted(set(ids))

    async def name(facility_id: int) -> str | None:
        try:
            return (await get_facility_profile(deps, None, facility_id)).name
        except NotFoundError:
            return None

    found = await asyncio.gather(*(name(f) for f in wanted))
    return {f: n for f, n in zip(wanted, found, strict=True) if n is not None}


def _view(entry: Entry, elder: str | None, names: dict[int, str]) -> EntryView:
    unknown = t("page.waitlist.not_known")
    passes = [
        t(
            "page.waitlist.pass_item",
            facility=names.get(p.facility_id, unknown),
            check_in=p.check_in,
            check_out=p.check_out,
            why=p.message,
        )
        for p in entry.passes[:PASSES_SHOWN]
    ]
    return EntryView(
        entry=entry,
        elder=elder,
        status=t(f"waitlist.entry_status.{entry.status}"),
        line=None if entry.position is None else line_words(entry.position),
        facilities=[names[f] for f in entry.facility_ids if f in names],
        nights=nights_words(entry.nights, entry.min_nights),
        passes=passes,
    )


def _prefilled(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The form as a link fills it: a search's place, dates, kind and elder, or facilities."""
    given = {
        name: value.strip()
        for name, value in request.query_params.items()
        if name in PREFILL and isinstance(value, str)
    }
    facilities = [
        v for v in request.query_params.getall("facility_id", []) if isinstance(v, str) and v
    ]
    typed = _typed({"facility_ids": facilities} if facilities else {})
    typed.update(
        care_recipient_id=given.get("care_recipient_id", ""),
        kind=given.get("kind", "respite"),
        place=given.get("place", ""),
        earliest_check_in=given.get("check_in", ""),
        latest_check_out=given.get("check_out", ""),
        nights=_nights_between(given.get("check_in"), given.get("check_out")),
    )
    if given.get("near_home") in ("true", "1", "on"):
        typed["where"] = "home"
    elif facilities:
        typed["where"] = "facilities"
    elif typed["place"]:
        typed["where"] = "place"
    return typed


def _nights_between(first: str | None, last: str | None) -> str:
    try:
        nights = (date.fromisoformat(last or "") - date.fromisoformat(first or "")).days
    except ValueError:
        return ""
    return str(nights) if nights > 0 else ""


def _typed(fields: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to show it again as it was (right or wrong)."""
    typed: dict[str, Any] = {name: fields.get(name, "") for name in (*WHO_WHERE, *WHEN)}
    chosen = fields.get("facility_ids", [])
    typed["facility_ids"] = chosen if isinstance(chosen, list) else [chosen]
    return typed


def _api_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the API names them: the "where" chosen keeps its own field and
    drops what the other choices typed (a browser sends every field of the form)."""
    where = fields.pop("where", None)
    dropped = {
        "place": ("near_home", "facility_ids"),
        "home": ("place", "facility_ids"),
        "facilities": ("place", "near_home"),
    }.get(where if isinstance(where, str) else "", ())
    api = {name: value for name, value in fields.items() if name not in dropped}
    if where == "home":
        api["near_home"] = "true"
    return api


def _on_form(errors: list[FieldError], typed: dict[str, Any]) -> list[FieldError]:
    """The API's field errors on the form's fields, in its words; "near a place" chosen with
    no place typed is said on the place's field."""
    said = []
    for error in errors:
        name = error.field.split("[", 1)[0]
        if error.message.key == "waitlist.one_where" and typed["where"] == "place":
            said.append(FieldError("place", t("page.waitlist.says.place_needed")))
            continue
        words = _FORM_WORDS.get(error.message.key)
        message = error.message if words is None else Text(words, error.message.params)
        said.append(FieldError(_ON_FORM.get(name, name), message))
    return said


async def _join_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    typed: dict[str, Any],
    *,
    errors: list[FieldError] | None = None,
    failure: RespiteError | None = None,
    status: int = 200,
) -> Template:
    elders = await _elders(deps, principal)
    ids = [int(v) for v in typed["facility_ids"] if v.isdigit() and len(v) < 12]
    names = await _facility_names(deps, ids)
    return page(
        request,
        "waitlist/join.html",
        status=status,
        errors=errors,
        failure=None if failure is None else failure.detail,
        typed=typed,
        elders=[(str(i), name) for i, name in sorted(elders.items(), key=lambda e: e[1])],
        facilities=[(str(f), names[f]) for f in ids if f in names],
        wheres=WHERES,
        attempt=secrets.token_urlsafe(12),
    )


async def _leave_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    entry: Entry,
    *,
    status: int = 200,
) -> Template:
    elders = await _elders(deps, principal)
    return page(
        request,
        "waitlist/leave.html",
        status=status,
        entry=entry,
        elder=elders.get(entry.care_recipient_id),
        status_words=t(f"waitlist.entry_status.{entry.status}"),
    )


async def _offer_page(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal,
    offer: Offer,
    *,
    status: int = 200,
) -> Template:
    elders = await _elders(deps, principal)
    # An open offer past its deadline is over, though the sweep has not said so yet.
    ended = "lapsed" if offer.status == "open" and offer.seconds_left == 0 else offer.status
    return page(
        request,
        "waitlist/offer.html" if ended == "open" else "waitlist/offer_ended.html",
        status=status,
        offer=offer,
        ended=ended,
        elder=elders.get(offer.care_recipient_id),
        hours_left=hours_left(offer.seconds_left),
    )
