"""The search page: ``GET /search``, the form, and the same URL with its fields filled shows
the results under it (a GET form: a search is a link that can be shared, bookmarked, reloaded).

The form's fields are the API's query parameters (``place``, ``check_in``, ``check_out``,
``kind``, ``care_recipient_id``, ``near_home``, ``sex``, ``needs``, ``pressure_stage``,
``radius_km``, ``sort``, ``cursor``; ``near`` too, though the form never shows it) and the
page calls the API's use case with the API's ``SearchParams``: the same answer, the same
refusals. Two translations only, both because a browser sends every field of a form: the
"near the elder's home" choice drops the place typed beside it, and choosing an elder drops
the needs typed for someone else (the elder's own are used, as the API does).

Anyone may search. A family also sees its elders to search for, and each result then offers
the form that holds a bed (``POST /holds``, the holds pages' handler: the API's
``HoldRequest`` fields ``facility_id``, ``kind``, ``check_in``, ``check_out``,
``care_recipient_id``, with ``back``, this search, and an ``idempotency_key``). A facility
rather than a bed: the hold takes the free bed the stay fills best, so a bed taken meanwhile
does not refuse it. The results cost no
query beyond the search's own: a family's elders are read on another connection meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import quote_plus

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from markupsafe import Markup, escape
from msgspec import Meta

from respite.auth.guards import optional_principal
from respite.auth.model import Principal
from respite.availability.answer import FacilityBeds
from respite.availability.model import (
    DEFAULT_PAGE_SIZE,
    MAX_RADIUS_KM,
    Alternative,
    AvailabilityPage,
    SearchParams,
    SortOrder,
)
from respite.availability.service import search_availability
from respite.deps import Deps
from respite.eligibility.model import NEEDS, PressureStage, Programme, Sex
from respite.errors import FieldError, InvalidInputError, NotFoundError
from respite.i18n import Lang, Text, render, t
from respite.pages.forms import read_form
from respite.pages.frame import language, page
from respite.pages.guards import signed_in
from respite.pages.templating import words_in
from respite.params import MAX_ID
from respite.places.model import Place
from respite.problems import problem_kind
from respite.recipients.model import RecipientListing
from respite.recipients.service import list_recipients

__all__ = ["SEARCH_FIELDS", "SearchPage"]

SEARCH_FIELDS: Final = (
    "place",
    "near_home",
    "care_recipient_id",
    "check_in",
    "check_out",
    "kind",
    "sex",
    "needs",
    "pressure_stage",
    "radius_km",
    "sort",
    "near",
    "cursor",
)
"""The query parameters the page reads, each as the API names it; any other is ignored."""
RADII_KM: Final = (1, 3, 5, 10, 20, 50)


def _options(name: str, choices: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Each choice of a set of radio buttons or checkboxes as (id, value, label's key): the
    first's id is the field's, which the error summary links to."""
    return [
        (f"f-{name}" if i == 0 else f"f-{name}-{value or 'none'}", value, label)
        for i, (value, label) in enumerate(choices)
    ]


_FIELD = "page.search.field."
OPTIONS: Final = {
    "near_home": _options(
        "near_home", [("", f"{_FIELD}where_place"), ("true", f"{_FIELD}where_home")]
    ),
    "kind": _options(
        "kind", [("respite", f"{_FIELD}kind_respite"), ("home", f"{_FIELD}kind_home")]
    ),
    "sex": _options(
        "sex",
        [
            ("female", f"{_FIELD}sex_female"),
            ("male", f"{_FIELD}sex_male"),
            ("", f"{_FIELD}sex_unsaid"),
        ],
    ),
    "needs": _options("needs", [(need, f"page.search.need.{need}") for need in NEEDS]),
    "sort": _options(
        "sort", [("distance", f"{_FIELD}sort_distance"), ("price", f"{_FIELD}sort_price")]
    ),
}
"""The form's fixed choices, built once: a page draws them without computing an id."""
PRESSURE_STAGES: Final = (0, 1, 2, 3, 4)
# Fields the form has no input for: their errors point at what to change instead.
_ON_FORM: Final = {
    "near": "place",
    "home": "place",
    "facility_id": "place",
    "limit": "search",
    "cursor": "search",
}
# The API's words that name its parameters, in a form's words (the same figures).
_FORM_WORDS: Final = {
    "availability.check_out_after": "page.search.says.check_out_after",
    "availability.too_many_nights": "page.search.says.too_many_nights",
    "availability.where_needed": "page.search.says.where_needed",
    "availability.no_home": "page.search.says.no_home",
    "places.near_home_needs_elder": "page.search.says.near_home_needs_elder",
    "places.not_a_name": "page.search.says.not_a_name",
    "places.unknown": "page.search.says.unknown",
    "places.ambiguous": "page.search.says.ambiguous",
    "places.one_place_only": "page.search.says.one_place_only",
}
_AS_NEXT: Final = str.maketrans({"%": "%25", "?": "%3F", "=": "%3D", "&": "%26", "+": "%2B"})
"""A link of ``_url``'s as ``quote(link, safe="/")`` (Jinja's ``urlencode``) writes it for a
``next`` parameter: the characters ``urlencode`` left unquoted but these are ones ``quote``
keeps too, so a translation does what ``quote`` does walking the link byte by byte."""
_ELDERS_SHOWN: Final = 50
# The form's last part, folded away unless one of its fields says something.
_MORE: Final = frozenset({"sex", "needs", "pressure_stage", "radius_km", "sort"})


class SearchForm(msgspec.Struct, frozen=True, kw_only=True):
    """The search form as a browser sends it: the API's parameters, by the API's names."""

    check_in: date
    check_out: date
    kind: Programme = "respite"
    place: Annotated[str, Meta(max_length=100)] | None = None
    near: Annotated[str, Meta(max_length=64)] | None = None
    near_home: bool = False
    care_recipient_id: Annotated[int, Meta(ge=1, le=MAX_ID)] | None = None
    sex: Sex | None = None
    needs: list[str] = []
    pressure_stage: PressureStage | None = None
    radius_km: Annotated[float, Meta(gt=0, le=MAX_RADIUS_KM)] | None = None
    sort: SortOrder = "distance"
    cursor: Annotated[str, Meta(max_length=1000)] | None = None

    def params(self) -> SearchParams:
        for_elder = self.care_recipient_id is not None
        return SearchParams(
            check_in=self.check_in,
            check_out=self.check_out,
            kind=self.kind,
            near=None if self.near_home else self.near,
            radius_km=self.radius_km,
            place=None if self.near_home else self.place,
            near_home=self.near_home,
            checks_area=True,
            care_recipient_id=self.care_recipient_id,
            sex=None if for_elder else self.sex,
            needs=() if for_elder else tuple(self.needs),
            pressure_stage=None if for_elder else self.pressure_stage,
            sort=self.sort,
            limit=DEFAULT_PAGE_SIZE,
            cursor=self.cursor,
        )


class Elder(msgspec.Struct, frozen=True):
    id: int
    name: str


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    errors: list[FieldError]
    places: list[tuple[Place, str]]
    """Places the name could mean, each with the search for it."""


class Links(msgspec.Struct, frozen=True, kw_only=True):
    """Where the results lead: the search itself (to come back to), signing in and coming
    back, its form filled in (to change it), the next and first pages, and each shifted
    stay's search."""

    here: str
    sign_in: str
    change: str
    next: str | None
    first: str | None
    shifted: list[str]


class Facts(msgspec.Struct, frozen=True):
    """A result card's figures in words: how far, the stay's price and a night's, how many
    beds are free. Said here, once per card, rather than by four calls from the template,
    each of which costs Jinja more than the words cost to say."""

    distance: str | None
    price: str | None
    nightly: str | None
    free: str


def _facts(offer: FacilityBeds | Alternative, nights: int, lang: Lang) -> Facts:
    distance = None if offer.distance_km is None else _how_far(offer.distance_km, lang)
    price, nightly = _price(lang, nights, *_prices(offer))
    return Facts(distance, price, nightly, _free(lang, offer.free_beds))


def _how_far(distance_km: float, lang: Lang) -> str:
    # This search's own figure: said afresh, since kept it would serve no other search and
    # push the words that recur out of memory.
    return render(t("page.search.result.how_far", distance=distance_km * 1000), lang)


def _prices(offer: FacilityBeds | Alternative) -> tuple[int | None, int | None, int | None]:
    """The stay's price at the cheapest bed and at the dearest, and a night's at the
    cheapest (``None`` without beds)."""
    if not offer.beds:
        return None, None, None
    return offer.beds[0].total_price, offer.beds[-1].total_price, offer.beds[0].nightly_price


# A card's figures but its distance recur from one search to the next (a few prices, a few
# counts of beds), so each is said, and written as HTML, once: apart, since together they
# recur far less.


@functools.lru_cache(maxsize=4096)
def _price(
    lang: Lang, nights: int, total: int | None, dearest: int | None, nightly_price: int | None
) -> tuple[str | None, str | None]:
    """The stay's price and a night's in words (``None`` without beds)."""
    if total is None:
        return None, None
    say = words_in(lang)
    ranged = "_from" if dearest != total else ""
    if nights == 1:
        price = say(f"page.search.result.stay_price{ranged}_one", total=total)
    else:
        price = say(f"page.search.result.stay_price{ranged}_many", total=total, nights=nights)
    return price, say("page.search.result.nightly", price=nightly_price)


@functools.lru_cache(maxsize=1024)
def _free(lang: Lang, free_beds: int) -> str:
    if free_beds == 1:
        return words_in(lang)("page.search.result.free_one")
    return words_in(lang)("page.search.result.free_many", count=free_beds)


@functools.cache
def _labels(lang: Lang) -> tuple[str, str, str]:
    """The words before a card's figures (how far, price, free beds), escaped."""
    say = words_in(lang)
    keys = ("distance", "price", "free")
    distance, price, free = (str(escape(say(f"page.search.result.{key}"))) for key in keys)
    return distance, price, free


def _card(offer: FacilityBeds, nights: int, lang: Lang) -> tuple[int, Markup]:
    """A found facility's card as HTML, but for its hold form (the template's): its name,
    the link to its page, its figures in words. Built here, not in the template: Jinja
    printing a card's seven values costs more than the card's words cost to say, and a page
    has up to 20 cards (``ops/bench/pages_profile.py``). Every word is the catalog's; the
    facility's name and the words are escaped here."""
    fid = offer.facility_id
    html = f'<h3 id="r-{fid}"><a href="/facilities/{fid}">{escape(offer.name)}</a></h3>\n'
    html += '<dl class="facts">\n'
    if offer.distance_km is not None:
        label = _labels(lang)[0]
        html += f"<dt>{label}</dt><dd>{escape(_how_far(offer.distance_km, lang))}</dd>\n"
    html += _price_html(lang, nights, *_prices(offer))
    return fid, Markup(html + _free_html(lang, offer.free_beds, offer.held_beds))  # noqa: S704


@functools.lru_cache(maxsize=4096)
def _price_html(
    lang: Lang, nights: int, total: int | None, dearest: int | None, nightly_price: int | None
) -> str:
    price, nightly = _price(lang, nights, total, dearest, nightly_price)
    if price is None:
        return ""
    label = _labels(lang)[1]
    return (
        f"<dt>{label}</dt><dd>{escape(price)} "
        f'<span class="per-night">{escape(nightly)}</span></dd>\n'
    )


@functools.lru_cache(maxsize=1024)
def _free_html(lang: Lang, free_beds: int, held_beds: int) -> str:
    html = f"<dt>{_labels(lang)[2]}</dt><dd>{escape(_free(lang, free_beds))}"
    if held_beds:
        held = words_in(lang)("page.search.result.held", count=held_beds)
        html += f'<span class="held">{escape(held)}</span>'
    return html + "</dd>\n</dl>"


class SearchPage(Controller):
    path = "/search"
    include_in_schema = False

    @get("/")
    async def search(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        pairs = _pairs(request)
        principal = optional_principal(request)
        family = principal if principal is not None and principal.role == "family" else None
        # A results page shows what was asked in words, and a link to change it: the form
        # filled in, without searching (the form above every answer made a phone scroll
        # past it to the beds, and cost the page half its time).
        searched = "change" not in request.query_params and any(
            name in SEARCH_FIELDS for name, _ in pairs
        )
        if family is None:  # no elders to list: nothing to do meanwhile, no task to start
            if not searched:
                return _page(request, pairs, None)
            outcome, elders = await _answer(request, deps, principal, pairs), None
        elif not searched:
            return _page(request, pairs, await _elders(deps, family))
        else:
            outcome, elders = await asyncio.gather(
                _answer(request, deps, principal, pairs), _elders(deps, family)
            )
        if isinstance(outcome, Refusal):
            return _page(request, pairs, elders, refusal=outcome)
        answer, form = outcome
        return _page(request, pairs, elders, answer=answer, form=form)


async def _elders(deps: Deps, principal: Principal) -> list[Elder]:
    listed = await list_recipients(deps, principal, RecipientListing(limit=_ELDERS_SHOWN))
    return [Elder(view.id, view.name) for view in listed.items]


async def _answer(
    request: Request[Any, Any, Any],
    deps: Deps,
    principal: Principal | None,
    pairs: list[tuple[str, str]],
) -> tuple[AvailabilityPage, SearchForm] | Refusal:
    """The search's answer and the form it answers, or why it was refused."""
    try:
        form = read_form(_fields(pairs), SearchForm, lists=frozenset({"needs"}))
        if form.care_recipient_id is not None:
            principal = signed_in(request)  # a search for an elder needs their family
        return await search_availability(deps, principal, form.params()), form
    except InvalidInputError as exc:
        return Refusal(
            status=problem_kind(exc).status,
            errors=[_on_form(error) for error in exc.errors],
            places=_places(pairs, exc.extensions),
        )
    except NotFoundError as exc:  # another family's elder: 404, as the API
        errors = [FieldError("care_recipient_id", exc.detail)]
        return Refusal(status=problem_kind(exc).status, errors=errors, places=[])


def _pairs(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """The query's parameters the page reads, stripped, blank ones left out."""
    return [
        (name, value.strip())
        for name, value in request.query_params.multi_items()
        if name in SEARCH_FIELDS and isinstance(value, str) and value.strip()
    ]


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name == "needs":
            fields.setdefault("needs", []).extend(v for v in value.split(",") if v.strip())
        else:
            fields[name] = value  # the last of a repeated one, as a browser's form has one
    return fields


def _on_form(error: FieldError) -> FieldError:
    """The API's field error as the form says it: on a field the form has, in its words."""
    name = error.field.split("[", 1)[0].split(".", 1)[0]
    message = error.message
    words = _FORM_WORDS.get(message.key)
    if words is not None:
        message = Text(words, message.params)
    return FieldError(_ON_FORM.get(name, name), message)


def _places(pairs: list[tuple[str, str]], extensions: dict[str, Any]) -> list[tuple[Place, str]]:
    """The places a name could mean (several of that name, or names like it), each with the
    same search for it by its id."""
    candidates: list[Place] = extensions.get("candidates") or extensions.get("near_matches") or []
    encoded = _encoded(pairs)
    return [(place, _url(encoded, place=str(place.id), cursor=None)) for place in candidates]


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each parameter with its ``name=value`` as ``urlencode`` writes it (a name is one of
    ``SEARCH_FIELDS``, which has nothing to quote): encoded once for all the links of a page,
    which differ in a parameter or two."""
    return [(name, f"{name}={_quoted(value)}") for name, value in pairs]


_quoted: Final = functools.lru_cache(maxsize=2048)(quote_plus)
"""``quote_plus``, kept for the values that recur (dates, the places' names), since quoting
walks a value byte by byte when it has anything to quote."""


def _url(encoded: list[tuple[str, str]], **changes: str | None) -> str:
    """The search of ``encoded`` (``_encoded``) with ``changes``: a parameter changed comes
    last, one set to ``None`` is left out."""
    kept = [pair for name, pair in encoded if name not in changes]
    kept += [_encoded([(n, v)])[0][1] for n, v in changes.items() if v is not None]
    return f"/search?{'&'.join(kept)}" if kept else "/search"


def _links(pairs: list[tuple[str, str]], answer: AvailabilityPage) -> Links:
    cursor = answer.next_cursor
    encoded = _encoded(pairs)
    here = _url(encoded)
    return Links(
        here=here,
        sign_in=f"/signin?next={here.translate(_AS_NEXT)}",
        change=_url(encoded, cursor=None, change="1"),
        next=None if cursor is None else _url(encoded, cursor=cursor),
        first=_url(encoded, cursor=None) if any(n == "cursor" for n, _ in pairs) else None,
        shifted=[_shifted(encoded, alternative) for alternative in answer.alternatives],
    )


def _shifted(encoded: list[tuple[str, str]], alternative: Alternative) -> str:
    return _url(
        encoded,
        check_in=alternative.check_in.isoformat(),
        check_out=alternative.check_out.isoformat(),
        cursor=None,
    )


def _all_facts(
    answer: AvailabilityPage | None, links: Links | None, lang: Lang
) -> dict[str, list[Any]]:
    """Each found facility with its card; each shifted stay with its words and the link that
    searches it (zipped here: a template's loop counter costs every card)."""
    if answer is None or links is None:
        return {"found": [], "shifted": []}
    nights = answer.nights
    return {
        "found": [_card(offer, nights, lang) for offer in answer.facilities],
        "shifted": [
            (offer, _facts(offer, nights, lang), link)
            for offer, link in zip(answer.alternatives, links.shifted, strict=True)
        ],
    }


def _typed(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """What was typed, to show it again as it was (right or wrong)."""
    typed: dict[str, Any] = dict.fromkeys(SEARCH_FIELDS, "")
    typed["needs"] = []
    for name, value in pairs:
        if name == "needs":
            typed["needs"].extend(v.strip() for v in value.split(","))
        else:
            typed[name] = value
    return typed


def _page(
    request: Request[Any, Any, Any],
    pairs: list[tuple[str, str]],
    elders: list[Elder] | None,
    *,
    answer: AvailabilityPage | None = None,
    form: SearchForm | None = None,
    refusal: Refusal | None = None,
) -> Template:
    principal = optional_principal(request)
    errors = [] if refusal is None else refusal.errors
    links = None if answer is None else _links(pairs, answer)
    more_open = any(
        name in _MORE and not (name == "sort" and value == "distance") for name, value in pairs
    ) or any(error.field in _MORE for error in errors)
    chosen = None
    if form is not None and form.care_recipient_id is not None:
        chosen = next((e for e in elders or () if e.id == form.care_recipient_id), None)
    return page(
        request,
        "search/search.html",
        status=200 if refusal is None else refusal.status,
        errors=errors,
        typed=_typed(pairs),
        elders=elders,
        signed_in=principal is not None,
        answer=answer,
        facts=_all_facts(answer, links, language(request)),
        links=links,
        elder=chosen,
        # Holding is a family's, for one of its elders. Each form carries an idempotency key
        # made here, so that a double-click places one hold (the holds page's contract).
        holds=chosen is not None,
        hold_key=secrets.token_urlsafe(9) if chosen is not None else "",
        place_choices=[] if refusal is None else refusal.places,
        more_open=more_open,
        options=OPTIONS,
        whom=_options(
            "care_recipient_id",
            [(str(e.id), e.name) for e in elders or ()] + [("", f"{_FIELD}someone_else")],
        ),
        radii=RADII_KM,
        stages=PRESSURE_STAGES,
    )
