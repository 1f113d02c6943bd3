"""Use cases of assessments: record one (the level computed, every adjustment explained), list them.

The level is computed under the stacking rule of a policy (``policy_code``, default the CN
respite preset) in its version in force on the assessment date; that version is stored with the
assessment so the level can be explained later even after the policy changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import audit
from respite.auth.model import Principal
from respite.db import Conn
from respite.eligibility.assessment import Adjustment, LevelResult, assess
from respite.eligibility.model import latest_date_on_earth
from respite.eligibility.store import StoredPolicy, current_policy
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import t
from respite.recipients import queries as q
from respite.recipients.model import (
    AssessmentRecord,
    AssessmentView,
    NewAssessment,
    PolicyUsed,
    date_problem,
)

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["insert_assessment", "list_assessments", "record_assessment"]


async def record_assessment(
    deps: Deps, principal: Principal, record: AssessmentRecord
) -> AssessmentView:
    """Store an assessment with its computed level and every adjustment considered."""
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    async with deps.pool.acquire() as conn, conn.transaction():
        return await insert_assessment(conn, viewer, record.care_recipient_id, record.assessment)


async def insert_assessment(
    conn: Conn, viewer: Viewer, care_recipient_id: int, form: NewAssessment
) -> AssessmentView:
    """``record_assessment`` inside the CALLER's transaction, at ``viewer.now``; on an error
    the caller rolls back. An assessment date is refused only if it is in the future
    everywhere on Earth."""
    problem = date_problem(form.assessed_on, latest_date_on_earth(viewer.now))
    if problem is not None:
        raise InvalidInputError.one("assessed_on", problem)
    row = await conn.fetchrow(
        q.SELECT_RECIPIENT_FOR_ASSESSMENT, care_recipient_id, *viewer.params()
    )
    if row is None:
        raise NotFoundError("care recipient", care_recipient_id)
    if form.assessed_on < row["birth_date"]:
        raise InvalidInputError.one("assessed_on", t("recipient.assessed_before_birth"))
    stored = await current_policy(conn, form.policy_code, form.assessed_on)
    if stored is None:
        figures = {"policy_code": form.policy_code, "on": form.assessed_on}
        raise InvalidInputError.one("policy_code", t("recipient.no_policy_in_force", **figures))
    result = assess(form, stack_raises=stored.policy.stack_raises)
    principal = viewer.principal
    view = await _insert_assessment(conn, principal, care_recipient_id, form, result, stored)
    await audit.record(
        conn,
        principal,
        "create",
        "assessment",
        view.id,
        facility_id=row["facility_id"],
        after=view,
    )
    return view


async def _insert_assessment(
    conn: Conn,
    principal: Principal,
    care_recipient_id: int,
    form: NewAssessment,
    result: LevelResult,
    stored: StoredPolicy,
) -> AssessmentView:
    # The policy may accept an assessment for less time than this; the engine applies that.
    valid_until = form.valid_until or form.assessed_on + timedelta(
        days=stored.policy.assessment_valid_days - 1
    )
    inserted = await conn.fetchrow(
        q.INSERT_ASSESSMENT,
        care_recipient_id,
        form.self_care,
        form.mobility,
        form.mental,
        form.perception_social,
        result.total,
        form.coma,
        form.dementia_or_mental_disorder,
        form.risk_events_30d,
        form.extension_approved,
        result.base_level,
        result.level,
        msgspec.json.encode(result.adjustments).decode(),
        form.assessor,
        form.organisation,
        form.assessed_on,
        valid_until,
        stored.id,
        principal.id,
    )
    assert inserted is not None  # INSERT ... RETURNING always returns the row
    scores = {name: getattr(form, name) for name in _SCORE_FIELDS}
    return AssessmentView(
        id=inserted["id"],
        care_recipient_id=care_recipient_id,
        scheme=inserted["scheme"],
        **scores,
        total=result.total,
        base_level=result.base_level,
        level=result.level,
        adjustments=result.adjustments,
        valid_until=valid_until,
        policy=PolicyUsed(code=stored.policy.code, version=stored.version),
        created_at=inserted["created_at"],
    )


# Fields an assessment answer repeats from the request as they were given.
_SCORE_FIELDS = (
    "self_care",
    "mobility",
    "mental",
    "perception_social",
    "coma",
    "dementia_or_mental_disorder",
    "risk_events_30d",
    "extension_approved",
    "assessor",
    "organisation",
    "assessed_on",
)


def _assessment(row: asyncpg.Record) -> AssessmentView:
    policy = None
    if row["policy_code"] is not None:
        policy = PolicyUsed(code=row["policy_code"], version=row["policy_version"])
    return AssessmentView(
        id=row["id"],
        care_recipient_id=row["care_recipient_id"],
        scheme=row["scheme"],
        self_care=row["self_care"],
        mobility=row["mobility"],
        mental=row["mental"],
        perception_social=row["perception_social"],
        total=row["total"],
        coma=row["coma"],
        dementia_or_mental_disorder=row["dementia_or_mental_disorder"],
        risk_events_30d=row["risk_events_30d"],
        extension_approved=row["extension_approved"],
        base_level=row["base_level"],
        level=row["level"],
        adjustments=msgspec.json.decode(row["adjustments"], type=list[Adjustment]),
        assessor=row["assessor"],
        organisation=row["organisation"],
        assessed_on=row["assessed_on"],
        valid_until=row["valid_until"],
        policy=policy,
        created_at=row["created_at"],
    )


async def list_assessments(
    deps: Deps, principal: Principal, care_recipient_id: int
) -> list[AssessmentView]:
    """Every assessment of a care recipient, the latest (the one that counts) first."""
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    rows = await deps.pool.fetch(q.SELECT_ASSESSMENTS, care_recipient_id, *viewer.params())
    if not rows:
        raise NotFoundError("care recipient", care_recipient_id)
    return [_assessment(row) for row in rows if row["id"] is not None]
