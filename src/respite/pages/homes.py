"""Where an elder lives, as a family says it: a street or community of the gazetteer, by name.

The API takes the home's coordinates; nobody types those. The form asks for the name of the
street or community (``home_place``); the gazetteer (``respite.places.find_place``) finds it,
and its centre is the home's location, which is all a search near home needs. A name several
places share, or one that matches nothing but resembles some, comes back with those places to
choose from (``home_place_choice``: a place's id). A change form carries the name it showed
(``home_place_was``): the same name again keeps the location on file as it is.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from respite.deps import Deps
from respite.errors import FieldError
from respite.i18n import t
from respite.places import find_place
from respite.places.errors import AmbiguousPlaceError, UnknownPlaceError
from respite.places.model import Place

__all__ = ["Candidate", "Home", "HomeChange", "home_change", "place_name", "read_home"]

MAX_PLACE_NAME: Final = 100


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A place the family may have meant, with its district in both languages."""

    id: int
    name: str
    name_en: str
    district: str | None
    district_en: str | None


class Home(msgspec.Struct, frozen=True, kw_only=True):
    """What the form said of the home: a place found, or why not (and what to choose from);
    ``unchanged``: the name shown was sent back as it was (or none was given nor shown)."""

    place: Place | None = None
    error: FieldError | None = None
    candidates: list[Candidate] = []
    unchanged: bool = False


class HomeChange(msgspec.Struct, frozen=True, kw_only=True):
    change: bool
    lat: float | None = None
    lon: float | None = None


def place_name(place: Place | Candidate, lang: str) -> str:
    return place.name if lang == "zh-CN" else place.name_en


async def read_home(deps: Deps, fields: dict[str, Any]) -> Home:
    choice = _one(fields.get("home_place_choice"))
    typed = _one(fields.get("home_place"))
    if choice.isascii() and choice.isdigit():
        given = choice
    elif typed == _one(fields.get("home_place_was")):
        return Home(unchanged=True)
    elif not typed:
        return Home()
    else:
        given = typed
    if len(given) > MAX_PLACE_NAME:
        return Home(error=_error(t("page.elders.form.too_long", n=MAX_PLACE_NAME)))
    async with deps.pool.acquire() as conn:
        try:
            return Home(place=await find_place(conn, given))
        except AmbiguousPlaceError as exc:
            found: list[Place] = exc.extensions["candidates"]
            message = t("page.elders.form.place_ambiguous", count=len(found), given=given)
        except UnknownPlaceError as exc:
            found = exc.extensions["near_matches"]
            key = "place_unknown_near" if found else "place_unknown"
            message = t(f"page.elders.form.{key}", given=given)
        districts = {p.district for p in found if p.district}
        english = {}
        for district in districts:
            try:
                english[district] = (await find_place(conn, district)).name_en
            except (AmbiguousPlaceError, UnknownPlaceError):
                english[district] = district
    candidates = [
        Candidate(
            id=p.id,
            name=p.name,
            name_en=p.name_en,
            district=p.district,
            district_en=english.get(p.district) if p.district else None,
        )
        for p in found
    ]
    return Home(error=_error(message), candidates=candidates)


def home_change(home: Home) -> HomeChange:
    """How a change form moves the home: not at all, to the place found, or off the map (the
    name was cleared)."""
    if home.unchanged:
        return HomeChange(change=False)
    if home.place is not None:
        return HomeChange(change=True, lat=home.place.lat, lon=home.place.lon)
    return HomeChange(change=True)


def _one(value: Any) -> str:
    """A field given once (a crafted form repeating it counts as its first value)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _error(message: Any) -> FieldError:
    return FieldError("home_place", message)
