"""A facility's page: ``GET /facilities/{id}``, what a family needs to know before holding
a bed there (address, phone, the care its beds give, visiting hours, prices and what they
include). The API's profile use case, in process; anyone may read it, as anyone may search:
it holds only what the facility shows the public. An unknown id is the 404 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Template

from respite.auth.guards import optional_principal
from respite.deps import Deps
from respite.errors import NotFoundError
from respite.inventory.service import get_facility_profile
from respite.pages.frame import page
from respite.params import MAX_ID

__all__ = ["FacilityPage"]


class FacilityPage(Controller):
    path = "/facilities"
    include_in_schema = False

    @get("/{facility_id:int}")
    async def facility(
        self,
        request: Request[Any, Any, Any],
        deps: NamedDependency[Deps],
        facility_id: Annotated[int, PathParameter()],
    ) -> Template:
        if not 1 <= facility_id <= MAX_ID:  # no such facility, whatever the database
            raise NotFoundError("facility", facility_id)
        profile = await get_facility_profile(deps, optional_principal(request), facility_id)
        return page(request, "facilities/facility.html", profile=profile)
