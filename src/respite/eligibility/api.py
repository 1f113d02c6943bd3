"""HTTP routes of eligibility and policies, and the router that mounts them with care recipients.

``POST /v1/eligibility`` answers for one elder and one stay: the decision for a bed, or for
each programme whether they qualify at all and why. Policies are read by anyone signed in and
published by admins.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Router, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from respite.auth import principal_of, requires
from respite.dto import Strict
from respite.eligibility import policies
from respite.eligibility.policy import (
    InvalidPolicyError,
    MalformedPolicyError,
    PolicyPublication,
    decode_publication,
)
from respite.eligibility.service import EligibilityAnswer, EligibilityQuery, check_eligibility
from respite.errors import InvalidInputError, MalformedBodyError
from respite.recipients.api import CareRecipientController

__all__ = ["EligibilityController", "PolicyController", "eligibility_router"]

EVERYONE = requires("family", "staff", "hospital", "admin")
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
PolicyCodeParam = Annotated[str, PathParameter(pattern=CODE_PATTERN)]


class PublicationDTO(Strict[PolicyPublication]):
    """Decodes a policy version with ``decode_publication``, so a malformed document names the
    path of its wrong field (``quota.nights``), map keys and cross-field rules included."""

    def decode_bytes(self, value: bytes) -> Any:
        try:
            return decode_publication(value)
        except MalformedPolicyError as exc:
            raise MalformedBodyError(f"the body is not valid JSON: {exc.reason}") from None
        except InvalidPolicyError as exc:
            raise InvalidInputError.one(exc.field, exc.reason) from None


class EligibilityController(Controller):
    path = "/eligibility"
    tags = ["eligibility"]

    @post(
        "/",
        dto=Strict[EligibilityQuery],
        return_dto=None,
        status_code=HTTP_200_OK,
        guards=[EVERYONE],
    )
    async def check(
        self, request: Request[Any, Any, Any], data: JSONBody[EligibilityQuery]
    ) -> EligibilityAnswer:
        """Whether a care recipient may stay: in ``bed_id`` (that bed's decision under its
        facility's policy), or in each programme (under ``facility_id``'s policies, or the
        default ones). Every reason is listed, with a stable code and messages in English and
        Chinese; the policy code and version used are named."""
        return await check_eligibility(
            request.app.state.pool, principal_of(request), data, datetime.now(UTC)
        )


class PolicyController(Controller):
    path = "/policies"
    tags = ["policies"]

    @get("/", guards=[EVERYONE])
    async def list_policies(
        self, request: Request[Any, Any, Any], on: FromQuery[date | None] = None
    ) -> list[policies.PolicySummary]:
        """Every policy code, with the version in force ``on`` a date (default: today, UTC)."""
        day = on or datetime.now(UTC).date()
        return await policies.list_policies(request.app.state.pool, day)

    @get("/{code:str}", guards=[EVERYONE])
    async def get_policy(
        self,
        request: Request[Any, Any, Any],
        code: PolicyCodeParam,
        on: FromQuery[date | None] = None,
        version: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> policies.PolicyVersions:
        """Every version of a policy (or only ``version``), newest first, and which one is in
        force ``on`` a date (default: today, UTC)."""
        day = on or datetime.now(UTC).date()
        return await policies.get_policy(request.app.state.pool, code, day, version)

    @post(
        "/{code:str}/versions",
        dto=PublicationDTO,
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[requires("admin")],
    )
    async def publish(
        self,
        request: Request[Any, Any, Any],
        code: PolicyCodeParam,
        data: JSONBody[PolicyPublication],
    ) -> policies.PolicyVersion:
        """Publish the next version of a policy: the whole document plus ``effective_from``.

        A malformed document is refused with the path of the wrong field. Versions already
        published never change, so decisions recorded under them stay explained."""
        return await policies.publish_policy(
            request.app.state.pool, principal_of(request), code, data, datetime.now(UTC)
        )


eligibility_router = Router(
    path="/v1",
    route_handlers=[CareRecipientController, EligibilityController, PolicyController],
)
