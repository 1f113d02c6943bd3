"""HTTP routes of referral hospitals: organisations and credentials (admins), referrals and
the callbacks (webhooks) they are told of (hospitals)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)
from msgspec import Meta

from respite import idempotency
from respite.auth.guards import requires
from respite.auth.model import Principal
from respite.deps import Deps
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.i18n import t
from respite.paging import Cursor, Page, limit_parameter
from respite.params import IdempotencyHeader, PathId, QueryId, RequiredIdempotencyHeader
from respite.referral import hospital_service, service, webhook_service
from respite.referral.hospital_model import (
    Credential,
    CredentialIssued,
    Hospital,
    HospitalFilter,
    IssueCredential,
    NewCredential,
    NewHospital,
    RevokeCredential,
)
from respite.referral.model import (
    MAX_PAGE,
    CancelReferral,
    CreateReferral,
    NewReferral,
    Referral,
    ReferralAnswer,
    ReferralCancellation,
    ReferralFilter,
    ReferralStatus,
)
from respite.referral.webhook_model import (
    Delivery,
    DeliveryDetail,
    DeliveryFilter,
    DeliveryStatus,
    Endpoint,
    EndpointWithSecret,
    Event,
    NewEndpoint,
)

__all__ = ["HospitalController", "ReferralController", "WebhookController", "referral_router"]

HOSPITAL = requires("hospital")
ADMIN = requires("admin")
AwareDatetime = Annotated[datetime, Meta(tz=True)]
Limit = Annotated[int, limit_parameter(MAX_PAGE)]


class HospitalController(Controller):
    path = "/hospitals"
    tags = ["hospitals"]
    guards = [ADMIN]

    @post("/", dto=Strict[NewHospital], return_dto=None, status_code=HTTP_201_CREATED)
    async def create(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewHospital],
    ) -> Hospital:
        """Register a referral hospital (an organisation); then issue it credentials."""
        return await hospital_service.create_hospital(deps, principal, data)

    @get("/")
    async def list_hospitals(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Hospital]:
        """Every referral hospital, by id."""
        filters = HospitalFilter(cursor=cursor, limit=limit)
        return await hospital_service.list_hospitals(deps, principal, filters)

    @post(
        "/{hospital_id:int}/credentials",
        dto=Strict[NewCredential],
        return_dto=None,
        status_code=HTTP_201_CREATED,
    )
    async def issue(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: PathId,
        data: JSONBody[NewCredential],
    ) -> CredentialIssued:
        """A new API credential for the hospital; the answer shows its token once."""
        command = IssueCredential(hospital_id=hospital_id, credential=data)
        return await hospital_service.issue_credential(deps, principal, command)

    @get("/{hospital_id:int}/credentials")
    async def credentials(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: PathId,
    ) -> list[Credential]:
        return await hospital_service.list_credentials(deps, principal, hospital_id)

    @delete("/{hospital_id:int}/credentials/{credential_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: PathId,
        credential_id: PathId,
    ) -> None:
        """Revoke one credential at once; the hospital's others keep working."""
        command = RevokeCredential(hospital_id=hospital_id, credential_id=credential_id)
        await hospital_service.revoke_credential(deps, principal, command)


def _since(updated_since: str | None) -> datetime | None:
    if updated_since is None:
        return None
    try:
        return msgspec.convert(updated_since, AwareDatetime)
    except msgspec.ValidationError:
        raise InvalidInputError.one("updated_since", t("referral.updated_since")) from None


class ReferralController(Controller):
    path = "/referrals"
    tags = ["referrals"]
    guards = [HOSPITAL]

    @post("/", dto=Strict[NewReferral], return_dto=None, status_code=HTTP_201_CREATED)
    async def create(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewReferral],
        idempotency_key: RequiredIdempotencyHeader = None,
    ) -> ReferralAnswer:
        """Refer a patient being discharged; the answer ranks the facilities with a bed the
        patient may take, nearest first, each with the closer ones not offered and why.

        Needs an ``Idempotency-Key``: a retry with the same key and body answers the same
        referral (with the candidates as they are now) and creates nothing more."""
        key = idempotency.require_key(idempotency_key)
        command = CreateReferral(referral=data, idempotency_key=key)
        return await service.create_referral(deps, principal, command)

    @get("/")
    async def list_referrals(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        status: Annotated[ReferralStatus | None, QueryParameter()] = None,
        updated_since: Annotated[
            str | None, QueryParameter(description="RFC 3339 time with an offset", max_length=64)
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Referral]:
        """The hospital's referrals by last change (oldest first), for reconciliation: keep
        the latest ``updated_at`` seen and ask again with ``updated_since`` set to it."""
        since = _since(updated_since)
        filters = ReferralFilter(status=status, updated_since=since, cursor=cursor, limit=limit)
        return await service.list_referrals(deps, principal, filters)

    @get("/{referral_id:int}")
    async def get_referral(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: PathId,
    ) -> Referral:
        return await service.get_referral(deps, principal, referral_id)

    @get("/{referral_id:int}/candidates")
    async def candidates(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: PathId,
    ) -> ReferralAnswer:
        """The candidates as they are now (from today once the discharge date has passed)."""
        return await service.referral_candidates(deps, principal, referral_id)

    @get("/{referral_id:int}/events")
    async def events(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: PathId,
    ) -> list[Event]:
        """Every event of the referral in order, as its callbacks carry them."""
        return await webhook_service.referral_events(deps, principal, referral_id)

    @post(
        "/{referral_id:int}/cancel",
        dto=Strict[ReferralCancellation],
        return_dto=None,
        status_code=HTTP_200_OK,
    )
    async def cancel(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: PathId,
        data: JSONBody[ReferralCancellation],
        idempotency_key: IdempotencyHeader = None,
    ) -> Referral:
        """No bed is needed any more: only while open or held (cancel a booking first)."""
        command = CancelReferral(
            referral_id=referral_id,
            reason=data.reason,
            idempotency_key=idempotency.optional_key(idempotency_key),
        )
        return await service.cancel_referral(deps, principal, command)


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]
    guards = [HOSPITAL]

    @post("/endpoints", dto=Strict[NewEndpoint], return_dto=None, status_code=HTTP_201_CREATED)
    async def register(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewEndpoint],
    ) -> EndpointWithSecret:
        """Receive every change of the hospital's referrals at this HTTPS URL; the answer shows
        the signing secret once."""
        return await webhook_service.register_endpoint(deps, principal, data)

    @get("/endpoints")
    async def list_endpoints(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> list[Endpoint]:
        return await webhook_service.list_endpoints(deps, principal)

    @delete("/endpoints/{endpoint_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def disable(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        endpoint_id: PathId,
    ) -> None:
        await webhook_service.disable_endpoint(deps, principal, endpoint_id)

    @post("/endpoints/{endpoint_id:int}/rotate-secret", status_code=HTTP_200_OK)
    async def rotate(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        endpoint_id: PathId,
    ) -> EndpointWithSecret:
        """A new signing secret; the old one keeps signing too for 24 hours."""
        return await webhook_service.rotate_secret(deps, principal, endpoint_id)

    @get("/deliveries")
    async def deliveries(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        status: Annotated[DeliveryStatus | None, QueryParameter()] = None,
        referral_id: QueryId = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Delivery]:
        """The hospital's deliveries of callbacks, by id."""
        filters = DeliveryFilter(status=status, referral_id=referral_id, cursor=cursor, limit=limit)
        return await webhook_service.list_deliveries(deps, principal, filters)

    @get("/deliveries/{delivery_id:int}")
    async def delivery(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        delivery_id: PathId,
    ) -> DeliveryDetail:
        return await webhook_service.get_delivery(deps, principal, delivery_id)

    @post("/deliveries/{delivery_id:int}/redeliver", status_code=HTTP_202_ACCEPTED)
    async def redeliver(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        delivery_id: PathId,
    ) -> Delivery:
        """Send the event again now (same event id: receivers de-duplicate by it)."""
        return await webhook_service.redeliver(deps, principal, delivery_id)


referral_router = Router(
    path="/v1", route_handlers=[HospitalController, ReferralController, WebhookController]
)
