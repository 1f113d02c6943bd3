"""Registering a walk-in elder at the desk: the facility owns the elder it registers.

The form is the family pages' elder form (``templates/elders/_elder_form.html``, read by
``pages.elders.read_elder`` into the API's ``NewCareRecipient``: who, the home, the needs, the
emergency contact, the ID number), with the ability assessment when one is at hand (the
fields of the family's assessment page, read by ``pages.assessments.read_assessment``: all
four scores once any of it is given). The elder and the assessment are written in one
transaction (``recipients.insert_recipient``, ``insert_assessment``), so a refused assessment
leaves no elder behind. The bed and first night the board chose ride along to the book page.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite.auth.model import Principal
from respite.deps import Deps
from respite.eligibility.subject import Viewer
from respite.errors import FieldError, InvalidInputError, NotFoundError
from respite.i18n import t
from respite.inventory import get_bed
from respite.pages.assessments import FIELDS as ASSESSMENT_FIELDS
from respite.pages.assessments import SCORES, in_order, read_assessment
from respite.pages.elders import FIELDS as ELDER_FIELDS
from respite.pages.elders import blank_form, read_elder
from respite.pages.forms import form_fields
from respite.pages.frame import go, language, page
from respite.pages.guards import staff
from respite.pages.homes import Home, place_name, read_home
from respite.recipients import insert_assessment, insert_recipient
from respite.recipients.errors import DuplicateNationalIdError
from respite.recipients.model import NewAssessment

__all__ = ["RegisterPages"]

BASE: Final = "/desk/walk-in"
_CARRIED: Final = ("bed", "from")
_ORDER: Final = (*ELDER_FIELDS, *ASSESSMENT_FIELDS)


class RegisterPages(Controller):
    path = f"{BASE}/new"
    include_in_schema = False

    @get("/")
    async def new_page(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template:
        principal = staff(request)
        carry = await _carry(deps, principal, dict(request.query_params))
        return _form(request, carry, blank_form(), Home())

    @post("/")
    async def register(
        self, request: Request[Any, Any, Any], deps: NamedDependency[Deps]
    ) -> Template | Redirect:
        principal = staff(request)
        fields = await form_fields(request)
        carry = await _carry(deps, principal, fields)
        home = await read_home(deps, fields)
        errors: list[FieldError] = []
        try:
            elder = read_elder({k: v for k, v in fields.items() if k not in _CARRIED}, home)
        except InvalidInputError as exc:
            errors.extend(exc.errors)
        assessment: NewAssessment | None = None
        if any(name in fields for name in ASSESSMENT_FIELDS):
            try:
                assessment = read_assessment(fields)
            except InvalidInputError as exc:
                errors.extend(exc.errors)
        if errors:
            return _again(request, carry, fields, home, errors, 422)
        try:
            elder_id = await _register(deps, principal, elder, assessment)
        except InvalidInputError as exc:
            return _again(request, carry, fields, home, exc.errors, 422)
        except DuplicateNationalIdError as exc:
            known = exc.extensions["care_recipient_id"]
            problem = FieldError("national_id", t("desk.walk_in.new.duplicate"))
            return _again(request, carry, fields, home, [problem], 409, known=known)
        return go(f"{BASE}/book?{urlencode({'elder': elder_id, **carry})}")


async def _register(
    deps: Deps, principal: Principal, elder: Any, assessment: NewAssessment | None
) -> int:
    """The elder, and the assessment if given, in one transaction."""
    now = deps.clock.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        view = await insert_recipient(conn, deps.settings, principal, elder, now)
        if assessment is not None:
            viewer = Viewer.of(principal, now, deps.settings)
            await insert_assessment(conn, viewer, view.id, assessment)
    return view.id


async def _carry(deps: Deps, principal: Principal, values: dict[str, Any]) -> dict[str, str]:
    """The bed and first night carried along; another facility's bed is not found."""
    carry = {k: v for k in _CARRIED if isinstance(v := values.get(k), str) and v}
    if "bed" in carry:
        bed = carry["bed"]
        if not (bed.isascii() and bed.isdigit()) or len(bed) > 18:
            raise NotFoundError("bed", bed[:20])
        await get_bed(deps, principal, int(bed))
    return carry


def _form(
    request: Request[Any, Any, Any],
    carry: dict[str, str],
    form: dict[str, Any],
    home: Home,
    *,
    status: int = 200,
    errors: list[FieldError] | None = None,
    known: int | None = None,
) -> Template:
    query = urlencode(carry)
    return page(
        request,
        "desk/walk_in/new.html",
        status=status,
        errors=errors,
        elder=None,
        action=f"{BASE}/new",
        form=form,
        carry=carry,
        candidates=home.candidates,
        lang=language(request),
        place_name=place_name,
        scores=SCORES,
        back=f"{BASE}?{query}" if query else BASE,
        known=f"{BASE}/book?{urlencode({'elder': known, **carry})}" if known else None,
    )


def _again(
    request: Request[Any, Any, Any],
    carry: dict[str, str],
    fields: dict[str, Any],
    home: Home,
    errors: list[FieldError],
    status: int,
    *,
    known: int | None = None,
) -> Template:
    kept = {**blank_form(), **fields}
    needs = fields.get("needs", [])
    kept["needs"] = [needs] if isinstance(needs, str) else needs
    if home.place is not None:
        kept["home_place"] = place_name(home.place, language(request))
    shown = in_order(errors, _ORDER)
    return _form(request, carry, kept, home, status=status, errors=shown, known=known)
