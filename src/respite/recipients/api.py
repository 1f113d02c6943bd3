"""HTTP routes of care recipients and their assessments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from respite.auth import principal_of, requires
from respite.dto import Strict
from respite.recipients import assessments, service
from respite.recipients.model import (
    MAX_ID,
    AssessmentView,
    CareRecipientPage,
    CareRecipientPatch,
    CareRecipientView,
    NewAssessment,
    NewCareRecipient,
)

__all__ = ["CareRecipientController"]

MAX_PAGE = 200
RecipientId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
EVERYONE = requires("family", "staff", "hospital", "admin")


class CareRecipientController(Controller):
    path = "/care-recipients"
    tags = ["care recipients"]

    @post(
        "/",
        dto=Strict[NewCareRecipient],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[requires("family", "hospital", "staff")],
    )
    async def create(
        self, request: Request[Any, Any, Any], data: JSONBody[NewCareRecipient]
    ) -> CareRecipientView:
        """Register an elder, owned by the caller's family, hospital or facility.

        A national ID the same owner already registered is refused (409, naming that care
        recipient). Admins cannot own care recipients."""
        state = request.app.state
        return await service.create_recipient(
            state.pool, state.settings, principal_of(request), data, datetime.now(UTC)
        )

    @get("/", guards=[EVERYONE])
    async def list_recipients(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> CareRecipientPage:
        """The care recipients the caller may see, by id; pass ``next_after`` as ``after``."""
        return await service.list_recipients(
            request.app.state.pool, principal_of(request), after=after, limit=limit
        )

    @get("/{care_recipient_id:int}", guards=[EVERYONE])
    async def get_recipient(
        self, request: Request[Any, Any, Any], care_recipient_id: RecipientId
    ) -> CareRecipientView:
        return await service.get_recipient(
            request.app.state.pool, principal_of(request), care_recipient_id
        )

    @patch(
        "/{care_recipient_id:int}",
        dto=Strict[CareRecipientPatch],
        return_dto=None,
        guards=[EVERYONE],
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        care_recipient_id: RecipientId,
        data: JSONBody[CareRecipientPatch],
    ) -> CareRecipientView:
        """Change the given fields; ``null`` clears an optional one."""
        state = request.app.state
        return await service.update_recipient(
            state.pool,
            state.settings,
            principal_of(request),
            care_recipient_id,
            data,
            datetime.now(UTC),
        )

    @post(
        "/{care_recipient_id:int}/assessments",
        dto=Strict[NewAssessment],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[EVERYONE],
    )
    async def assess(
        self,
        request: Request[Any, Any, Any],
        care_recipient_id: RecipientId,
        data: JSONBody[NewAssessment],
    ) -> AssessmentView:
        """Record a GB/T 42195-2022 assessment: the four domain scores, or only the total.

        The answer carries the computed level and every adjustment considered (coma, dementia
        or mental disorder, care-risk events), with whether each changed the level."""
        return await assessments.record_assessment(
            request.app.state.pool,
            principal_of(request),
            care_recipient_id,
            data,
            datetime.now(UTC),
        )

    @get("/{care_recipient_id:int}/assessments", guards=[EVERYONE])
    async def list_assessments(
        self, request: Request[Any, Any, Any], care_recipient_id: RecipientId
    ) -> list[AssessmentView]:
        """Every assessment, the latest (the one eligibility uses) first."""
        return await assessments.list_assessments(
            request.app.state.pool, principal_of(request), care_recipient_id
        )
