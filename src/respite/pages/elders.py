"""A family's elders on the pages: the list, adding one, an elder's page, changing the details.

Each handler reads the form into the API's own command (``NewCareRecipient``, then a
``CareRecipientPatch`` for a change), calls the same use case as the API and shows the answer.
Another family's elder is, as in the API, one that does not exist: the 404 page, and nothing
changes (the elder is read before the form, so a wrong form for someone else's elder is a 404
too). A family cannot type coordinates: the home is a street or community of the gazetteer
typed by name (``respite.places``), and the home's location is that place's centre.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError
from respite.i18n import t
from respite.pages.assessments import explanation, in_order, level_name
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, language, page
from respite.pages.guards import family
from respite.pages.homes import Home, HomeChange, home_change, place_name, read_home
from respite.paging import Cursor
from respite.params import CareRecipientPathId
from respite.places import place_at
from respite.recipients import assessments, service
from respite.recipients.errors import DuplicateNationalIdError
from respite.recipients.model import (
    CareRecipientPatch,
    CareRecipientUpdate,
    CareRecipientView,
    NewCareRecipient,
    RecipientListing,
)

__all__ = ["FIELDS", "ElderPages", "blank_form", "read_elder"]

Form = dict[str, Any]
LISTS: Final = frozenset({"needs"})
# The form's fields in the order it shows them: the error summary lists them so.
FIELDS: Final = (
    "name",
    "sex",
    "birth_date",
    "home_address",
    "home_place",
    "living_situation",
    "needs",
    "pressure_injury_stage",
    "emergency_contact_name",
    "emergency_contact_phone",
    "national_id",
)
# What the form gives the API's command as typed (the home's location comes from its place).
_COMMAND_FIELDS: Final = frozenset(FIELDS) - {"home_place"}
# What a change always sets (a blank field clears it); the phone and the ID number are never
# shown back in full, so a blank one keeps what is on file.
_DETAILS: Final = (
    "name",
    "sex",
    "birth_date",
    "home_address",
    "living_situation",
    "needs",
    "pressure_injury_stage",
    "emergency_contact_name",
)
_IDENTIFIERS: Final = ("emergency_contact_phone", "national_id")
Purpose = Literal["new", "edit"]


class ElderPages(Controller):
    path = "/elders"
    include_in_schema = False

    @get("/")
    async def elders(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps], cursor: Cursor = None
    ) -> Template:
        principal = family(request)
        listing = RecipientListing(cursor=cursor, limit=50)
        found = await service.list_recipients(deps, principal, listing)
        return page(
            request,
            "elders/list.html",
            elders=found.items,
            next_cursor=found.next_cursor,
            level_name=level_name,
        )

    @get("/new")
    async def new_page(self, request: Request[Any, Any, Any]) -> Template:
        family(request)
        return _form(request, "new", None, blank_form(), Home())

    @post("/new")
    async def add(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = family(request)
        fields = await form_fields(request)
        home = await read_home(deps, fields)
        try:
            command = read_elder(fields, home)
            elder = await service.create_recipient(deps, principal, command)
        except (InvalidInputError, DuplicateNationalIdError) as exc:
            return _again(request, "new", None, fields, home, exc)
        return go(f"/elders/{elder.id}")

    @get("/{care_recipient_id:int}")
    async def elder(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template:
        principal = family(request)
        elder = await service.get_recipient(deps, principal, care_recipient_id)
        assessed = await assessments.list_assessments(deps, principal, care_recipient_id)
        near = await _near(deps, elder)
        return page(
            request,
            "elders/elder.html",
            elder=elder,
            near=place_name(near, language(request)) if near else None,
            latest=assessed[0] if assessed else None,
            reasons=explanation(assessed[0]) if assessed else [],
            earlier=assessed[1:],
            needs=[t(f"page.elders.need.{need}") for need in elder.needs],
            level_name=level_name,
        )

    @get("/{care_recipient_id:int}/edit")
    async def edit_page(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template:
        principal = family(request)
        elder = await service.get_recipient(deps, principal, care_recipient_id)
        near = await _near(deps, elder)
        return _form(request, "edit", elder, _as_form(elder, near, language(request)), Home())

    @post("/{care_recipient_id:int}/edit")
    async def change(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template | Redirect:
        principal = family(request)
        elder = await service.get_recipient(deps, principal, care_recipient_id)
        fields = await form_fields(request)
        home = await read_home(deps, fields)
        try:
            command = read_elder(fields, home)
            forget = {name for name in _IDENTIFIERS if fields.get(f"forget_{name}") == "true"}
            patch = _patch(command, home_change(home), forget)
            update = CareRecipientUpdate(care_recipient_id=care_recipient_id, changes=patch)
            await service.update_recipient(deps, principal, update)
        except (InvalidInputError, DuplicateNationalIdError) as exc:
            return _again(request, "edit", elder, fields, home, exc)
        return go(f"/elders/{care_recipient_id}")


async def _near(deps: Deps, elder: CareRecipientView) -> Any:
    if elder.home_lat is None or elder.home_lon is None:
        return None
    async with deps.pool.acquire() as conn:
        return await place_at(conn, elder.home_lat, elder.home_lon)


def read_elder(fields: Form, home: Home) -> NewCareRecipient:
    """The API's command from the form, or InvalidInputError naming every wrong field (the
    home's place among them), in the form's order."""
    data = {name: value for name, value in fields.items() if name in _COMMAND_FIELDS}
    if home.place is not None:
        data["home_lat"], data["home_lon"] = home.place.lat, home.place.lon
    errors = [] if home.error is None else [home.error]
    try:
        command = read_form(data, NewCareRecipient, lists=LISTS)
    except InvalidInputError as exc:
        raise InvalidInputError(in_order([*exc.errors, *errors], FIELDS)) from None
    if errors:
        raise InvalidInputError(errors)
    return command


def _patch(command: NewCareRecipient, location: HomeChange, forget: set[str]) -> CareRecipientPatch:
    """The change: every detail as the form has it; an identifier typed replaces the one on
    file, one to forget is removed (``null``), a blank one stays."""
    changes: dict[str, Any] = {name: getattr(command, name) for name in _DETAILS}
    for name in _IDENTIFIERS:
        typed = getattr(command, name)
        if typed is not None or name in forget:
            changes[name] = typed
    if location.change:
        changes["home_lat"], changes["home_lon"] = location.lat, location.lon
    return CareRecipientPatch(**changes)


def blank_form() -> Form:
    """What a new elder's form shows before anything is typed."""
    return {
        "living_situation": "with_family",
        "pressure_injury_stage": "0",
        "needs": [],
        "home_place_was": "",
    }


def _as_form(elder: CareRecipientView, near: Any, lang: str) -> Form:
    named = place_name(near, lang) if near else ""
    return {
        "name": elder.name,
        "sex": elder.sex,
        "birth_date": elder.birth_date.isoformat(),
        "home_address": elder.home_address,
        "home_place": named,
        "home_place_was": named,
        "living_situation": elder.living_situation,
        "needs": list(elder.needs),
        "pressure_injury_stage": str(elder.pressure_injury_stage),
        "emergency_contact_name": elder.emergency_contact_name,
    }


def _form(
    request: Request[Any, Any, Any],
    purpose: Purpose,
    elder: CareRecipientView | None,
    form: Form,
    home: Home,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
) -> Template:
    action = "/elders/new" if elder is None else f"/elders/{elder.id}/edit"
    return page(
        request,
        f"elders/{purpose}.html",
        status=status,
        errors=errors,
        elder=elder,
        action=action,
        form=form,
        candidates=home.candidates,
        lang=language(request),
        place_name=place_name,
    )


def _again(
    request: Request[Any, Any, Any],
    purpose: Purpose,
    elder: CareRecipientView | None,
    fields: Form,
    home: Home,
    exc: InvalidInputError | DuplicateNationalIdError,
) -> Template:
    """The form again with what was typed and what is wrong (a duplicate ID number is the ID
    field's problem)."""
    if isinstance(exc, DuplicateNationalIdError):
        errors = [FieldError("national_id", t("page.elders.form.duplicate_national_id"))]
        status = 409
    else:
        errors, status = in_order(exc.errors, FIELDS), 422
    kept = {**blank_form(), **fields}
    kept["needs"] = fields.get("needs", [])
    if isinstance(kept["needs"], str):
        kept["needs"] = [kept["needs"]]
    if home.place is not None:
        kept["home_place"] = place_name(home.place, language(request))
    return _form(request, purpose, elder, kept, home, status=status, errors=errors)
