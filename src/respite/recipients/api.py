"""HTTP routes of care recipients and their assessments: ``recipients_router`` (``/v1``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from respite.auth import Principal, requires
from respite.deps import Deps
from respite.dto import Strict
from respite.paging import Cursor, Page, limit_parameter
from respite.params import CareRecipientPathId
from respite.recipients import assessments, examples, service
from respite.recipients.model import (
    MAX_PAGE,
    AssessmentRecord,
    AssessmentView,
    CareRecipientPatch,
    CareRecipientUpdate,
    CareRecipientView,
    NewAssessment,
    NewCareRecipient,
    RecipientListing,
)
from respite.reference import documented

__all__ = ["CareRecipientController", "recipients_router"]

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
        summary="Register an elder",
        response_description="The elder registered",
        operation_class=documented(request=[examples.REGISTER]),
    )
    async def create(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewCareRecipient],
    ) -> CareRecipientView:
        """Register an elder, owned by the caller's family, hospital or facility.

        A national ID the same owner already registered is refused (409, naming that care
        recipient). Admins cannot own care recipients."""
        return await service.create_recipient(deps, principal, data)

    @get("/", guards=[EVERYONE], summary="List elders")
    async def list_recipients(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        limit: Annotated[int, limit_parameter(MAX_PAGE)] = 50,
        cursor: Cursor = None,
    ) -> Page[CareRecipientView]:
        """The care recipients the caller may see, by id."""
        listing = RecipientListing(cursor=cursor, limit=limit)
        return await service.list_recipients(deps, principal, listing)

    @get("/{care_recipient_id:int}", guards=[EVERYONE], summary="Read an elder")
    async def get_recipient(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        care_recipient_id: CareRecipientPathId,
    ) -> CareRecipientView:
        """One elder the caller may see (404 for any other)."""
        return await service.get_recipient(deps, principal, care_recipient_id)

    @patch(
        "/{care_recipient_id:int}",
        dto=Strict[CareRecipientPatch],
        return_dto=None,
        guards=[EVERYONE],
        summary="Change an elder's details",
    )
    async def update(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        care_recipient_id: CareRecipientPathId,
        data: JSONBody[CareRecipientPatch],
    ) -> CareRecipientView:
        """Change the given fields; ``null`` clears an optional one.

        Staff who see an elder they do not own (a stay at their facility) change only
        ``needs`` and ``pressure_injury_stage``: any other field given is refused (403
        ``owner-only-fields``, naming each) and nothing changes."""
        update = CareRecipientUpdate(care_recipient_id=care_recipient_id, changes=data)
        return await service.update_recipient(deps, principal, update)

    @post(
        "/{care_recipient_id:int}/assessments",
        dto=Strict[NewAssessment],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[EVERYONE],
        summary="Record an assessment",
        response_description="The assessment, with the level it gives",
        operation_class=documented(request=[examples.ASSESS]),
    )
    async def assess(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        care_recipient_id: CareRecipientPathId,
        data: JSONBody[NewAssessment],
    ) -> AssessmentView:
        """Record a GB/T 42195-2022 assessment: the four domain scores, or only the total.

        The answer carries the computed level and every adjustment considered (coma, dementia
        or mental disorder, care-risk events), with whether each changed the level."""
        record = AssessmentRecord(care_recipient_id=care_recipient_id, assessment=data)
        return await assessments.record_assessment(deps, principal, record)

    @get("/{care_recipient_id:int}/assessments", guards=[EVERYONE], summary="List assessments")
    async def list_assessments(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        care_recipient_id: CareRecipientPathId,
    ) -> list[AssessmentView]:
        """Every assessment, the latest (the one eligibility uses) first."""
        return await assessments.list_assessments(deps, principal, care_recipient_id)


recipients_router = Router(path="/v1", route_handlers=[CareRecipientController])
