"""HTTP routes of eligibility and policies.

``POST /v1/eligibility`` answers for one elder and one stay: the decision for a bed, or for
each programme whether they qualify at all and why. Policies are read by anyone signed in and
published by admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from respite.auth import Principal, requires
from respite.deps import Deps
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
from respite.i18n import t

__all__ = ["EligibilityController", "PolicyController", "eligibility_router"]

EVERYONE = requires("family", "staff", "hospital", "admin")
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
PolicyCodeParam = Annotated[
    str, PathParameter(pattern=CODE_PATTERN, description="The policy's code, e.g. cn-respite.")
]
OnDate = Annotated[
    date | None,
    QueryParameter(
        description="The date whose version in force to name (YYYY-MM-DD); default today in "
        "Asia/Shanghai."
    ),
]


class PublicationDTO(Strict[PolicyPublication]):
    """Decodes a policy version with ``decode_publication``, so a malformed document names the
    path of its wrong field (``quota.nights``), map keys and cross-field rules included."""

    def decode_bytes(self, value: bytes) -> Any:
        try:
            return decode_publication(value)
        except MalformedPolicyError as exc:
            raise MalformedBodyError(t("input.body_not_json", problem=exc.reason)) from None
        except InvalidPolicyError as exc:
            raise InvalidInputError.one(exc.field, exc.message) from None


class EligibilityController(Controller):
    path = "/eligibility"
    tags = ["eligibility"]

    @post(
        "/",
        dto=Strict[EligibilityQuery],
        return_dto=None,
        status_code=HTTP_200_OK,
        guards=[EVERYONE],
        summary="Check eligibility",
    )
    async def check(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[EligibilityQuery],
    ) -> EligibilityAnswer:
        """Whether a care recipient may stay: in ``bed_id`` (that bed's decision under its
        facility's policy), or in each programme (under ``facility_id``'s policies, or the
        default ones). Every reason is listed, with a stable code, its figures, and a message
        in the language of Accept-Language; the policy code and version used are named.
        "Today" is the facility's date (without a facility, Asia/Shanghai's)."""
        return await check_eligibility(deps, principal, data)


class PolicyController(Controller):
    path = "/policies"
    tags = ["policies"]

    @get("/", guards=[EVERYONE], summary="List policies")
    async def list_policies(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        on: OnDate = None,
    ) -> list[policies.PolicySummary]:
        """Every policy code, with the version in force ``on`` a date (default: today in
        Asia/Shanghai)."""
        return await policies.list_policies(deps, principal, policies.PolicyListing(on=on))

    @get("/{code:str}", guards=[EVERYONE], summary="Read a policy's versions")
    async def get_policy(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        code: PolicyCodeParam,
        on: OnDate = None,
        version: Annotated[
            int | None, QueryParameter(ge=1, le=2**31 - 1, description="Only this version.")
        ] = None,
    ) -> policies.PolicyVersions:
        """Every version of a policy (or only ``version``), newest first, and which one is in
        force ``on`` a date (default: today in Asia/Shanghai)."""
        lookup = policies.PolicyLookup(code=code, on=on, version=version)
        return await policies.get_policy(deps, principal, lookup)

    @post(
        "/{code:str}/versions",
        dto=PublicationDTO,
        return_dto=None,
        status_code=HTTP_201_CREATED,
        guards=[requires("admin")],
        summary="Publish a policy version",
    )
    async def publish(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        code: PolicyCodeParam,
        data: JSONBody[PolicyPublication],
    ) -> policies.PolicyVersion:
        """Publish the next version of a policy: the whole document plus ``effective_from``.

        A malformed document is refused with the path of the wrong field. Versions already
        published never change, so decisions recorded under them stay explained."""
        new = policies.NewPolicyVersion(code=code, publication=data)
        return await policies.publish_policy(deps, principal, new)


eligibility_router = Router(path="/v1", route_handlers=[EligibilityController, PolicyController])
