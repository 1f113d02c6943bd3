"""Recording an elder's ability assessment (GB/T 42195-2022) on the pages, and the level in words.

The form is the API's ``NewAssessment``: the four domain scores (the page asks for all four,
as on the report; the API also takes a total alone), the flags that adjust the level (coma,
a diagnosed dementia or mental disorder, care-risk events in 30 days), who assessed and when.
The use case computes the level and answers every adjustment it considered; ``explanation``
says each of them in words, in the order the level was reached.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from respite.deps import Deps
from respite.errors import FieldError, InvalidInputError
from respite.i18n import Text, t
from respite.i18n.catalog import CATALOG
from respite.pages.forms import form_fields, read_form
from respite.pages.frame import go, page
from respite.pages.guards import family
from respite.params import CareRecipientPathId
from respite.recipients import assessments, service
from respite.recipients.model import AssessmentRecord, AssessmentView, NewAssessment

__all__ = [
    "FIELDS",
    "SCORES",
    "AssessmentPages",
    "explanation",
    "in_order",
    "level_name",
    "read_assessment",
]

# Each domain and its highest score (GB/T 42195-2022; eligibility.model has the constraints).
SCORES: Final = (("self_care", 32), ("mobility", 15), ("mental", 28), ("perception_social", 15))
FIELDS: Final = (
    *(name for name, _ in SCORES),
    "coma",
    "dementia_or_mental_disorder",
    "risk_events_30d",
    "assessed_on",
    "valid_until",
    "assessor",
    "organisation",
    "extension_approved",
)

# The API's messages that name its fields, said with the page's labels instead.
_PAGE_WORDS: Final = {
    "eligibility.valid_until_before_assessed_on": t("page.elders.assess.valid_until_before"),
    "recipient.valid_until_too_late": t("page.elders.assess.valid_until_too_late", years=10),
}


def level_name(level: int) -> Text:
    return t(f"page.elders.level.{level}")


def explanation(assessment: AssessmentView) -> list[Text]:
    """How the level was reached: the total's level, then each adjustment and what it did."""
    base = assessment.base_level
    reasons = [
        t("page.elders.reason.total", total=assessment.total, level=base, name=level_name(base))
    ]
    for adjustment in assessment.adjustments:
        key = f"page.elders.reason.{adjustment.code}.{adjustment.outcome}"
        figures = {
            "before": adjustment.level_before,
            "after": adjustment.level_after,
            "events": assessment.risk_events_30d,
        }
        wanted = CATALOG[key].figures
        reasons.append(t(key, **{k: v for k, v in figures.items() if k in wanted}))
    if not assessment.adjustments:
        reasons.append(t("page.elders.reason.no_adjustment"))
    level = assessment.level
    reasons.append(t("page.elders.reason.result", level=level, name=level_name(level)))
    return reasons


class AssessmentPages(Controller):
    path = "/elders"
    include_in_schema = False

    @get("/{care_recipient_id:int}/assessment")
    async def assessment_page(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template:
        principal = family(request)
        elder = await service.get_recipient(deps, principal, care_recipient_id)
        return page(request, "elders/assess.html", elder=elder, form={}, scores=SCORES)

    @post("/{care_recipient_id:int}/assessment")
    async def record(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        care_recipient_id: CareRecipientPathId,
    ) -> Template | Redirect:
        principal = family(request)
        elder = await service.get_recipient(deps, principal, care_recipient_id)
        fields = await form_fields(request)
        try:
            record = AssessmentRecord(
                care_recipient_id=care_recipient_id, assessment=read_assessment(fields)
            )
            await assessments.record_assessment(deps, principal, record)
        except InvalidInputError as exc:
            return page(
                request,
                "elders/assess.html",
                status=422,
                errors=in_order(exc.errors, FIELDS),
                elder=elder,
                form=fields,
                scores=SCORES,
            )
        return go(f"/elders/{care_recipient_id}#level")


def read_assessment(fields: dict[str, Any]) -> NewAssessment:
    """The API's command; the four scores are all required here (the report has them all)."""
    data = {name: value for name, value in fields.items() if name in FIELDS}
    missing = [FieldError(name, t("input.required")) for name, _ in SCORES if name not in data]
    try:
        command = read_form(data, NewAssessment)
    except InvalidInputError as exc:
        said = [FieldError(e.field, _PAGE_WORDS.get(e.message.key, e.message)) for e in exc.errors]
        raise InvalidInputError(in_order([*missing, *said], FIELDS)) from None
    if missing:
        raise InvalidInputError(missing)
    return command


def in_order(errors: list[FieldError], order: tuple[str, ...]) -> list[FieldError]:
    """Each field's first error, in the order the form shows the fields."""
    first: dict[str, FieldError] = {}
    for error in errors:
        first.setdefault(error.field, error)
    rank = {name: i for i, name in enumerate(order)}
    return sorted(first.values(), key=lambda e: rank.get(e.field, len(order)))
