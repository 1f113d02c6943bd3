"""HTTP routes of referral hospitals: organisations and credentials (admins), referrals and
the callbacks (webhooks) they are told of (hospitals)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
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
from respite.params import (
    MAX_ID,
    HospitalPathId,
    IdempotencyHeader,
    ReferralPathId,
    RequiredIdempotencyHeader,
)
from respite.reference import documented
from respite.referral import examples, hospital_service, service, webhook_service
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
CredentialPathId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="The credential's id.")
]
EndpointPathId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The endpoint's id.")]
DeliveryPathId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The delivery's id.")]


class HospitalController(Controller):
    path = "/hospitals"
    tags = ["hospitals"]
    guards = [ADMIN]

    @post(
        "/",
        dto=Strict[NewHospital],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Register a hospital",
    )
    async def create(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewHospital],
    ) -> Hospital:
        """Register a referral hospital (an organisation); then issue it credentials."""
        return await hospital_service.create_hospital(deps, principal, data)

    @get("/", summary="List hospitals")
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
        summary="Issue a hospital credential",
    )
    async def issue(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: HospitalPathId,
        data: JSONBody[NewCredential],
    ) -> CredentialIssued:
        """A new API credential for the hospital; the answer shows its token once."""
        command = IssueCredential(hospital_id=hospital_id, credential=data)
        return await hospital_service.issue_credential(deps, principal, command)

    @get("/{hospital_id:int}/credentials", summary="List a hospital's credentials")
    async def credentials(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: HospitalPathId,
    ) -> list[Credential]:
        """Every credential of the hospital, revoked ones too; never their tokens."""
        return await hospital_service.list_credentials(deps, principal, hospital_id)

    @delete(
        "/{hospital_id:int}/credentials/{credential_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke a credential",
    )
    async def revoke(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        hospital_id: HospitalPathId,
        credential_id: CredentialPathId,
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

    @post(
        "/",
        dto=Strict[NewReferral],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Refer a patient being discharged",
        response_description="The referral, with the facilities that have a bed for the patient",
        operation_class=documented(
            request=[examples.REFER_A_PATIENT], answers={201: [examples.ANSWERED]}
        ),
    )
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

    @get("/", summary="List the hospital's referrals")
    async def list_referrals(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        status: Annotated[
            ReferralStatus | None, QueryParameter(description="Only referrals in this status.")
        ] = None,
        updated_since: Annotated[
            str | None,
            QueryParameter(
                description="Only referrals changed at or after this time: RFC 3339 with an "
                "offset, e.g. 2027-06-01T08:00:00+08:00.",
                max_length=64,
            ),
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Referral]:
        """The hospital's referrals by last change (oldest first), for reconciliation: keep
        the latest ``updated_at`` seen and ask again with ``updated_since`` set to it."""
        since = _since(updated_since)
        filters = ReferralFilter(status=status, updated_since=since, cursor=cursor, limit=limit)
        return await service.list_referrals(deps, principal, filters)

    @get("/{referral_id:int}", summary="Read a referral")
    async def get_referral(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: ReferralPathId,
    ) -> Referral:
        """One of the hospital's referrals (404 for any other)."""
        return await service.get_referral(deps, principal, referral_id)

    @get(
        "/{referral_id:int}/candidates",
        summary="Search the referral's candidates again",
        operation_class=documented(answers={200: [examples.ANSWERED]}),
    )
    async def candidates(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: ReferralPathId,
    ) -> ReferralAnswer:
        """The candidates as they are now (from today once the discharge date has passed)."""
        return await service.referral_candidates(deps, principal, referral_id)

    @get("/{referral_id:int}/events", summary="List the referral's events")
    async def events(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: ReferralPathId,
    ) -> list[Event]:
        """Every event of the referral in order, as its callbacks carry them."""
        return await webhook_service.referral_events(deps, principal, referral_id)

    @post(
        "/{referral_id:int}/cancel",
        dto=Strict[ReferralCancellation],
        return_dto=None,
        status_code=HTTP_200_OK,
        summary="Cancel a referral",
    )
    async def cancel(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        referral_id: ReferralPathId,
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

    @post(
        "/endpoints",
        dto=Strict[NewEndpoint],
        return_dto=None,
        status_code=HTTP_201_CREATED,
        summary="Register a callback endpoint",
    )
    async def register(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        data: JSONBody[NewEndpoint],
    ) -> EndpointWithSecret:
        """Receive every change of the hospital's referrals at this HTTPS URL; the answer shows
        the signing secret once. The callbacks are described under webhooks."""
        return await webhook_service.register_endpoint(deps, principal, data)

    @get("/endpoints", summary="List callback endpoints")
    async def list_endpoints(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> list[Endpoint]:
        """The hospital's endpoints, disabled ones too; never their secrets."""
        return await webhook_service.list_endpoints(deps, principal)

    @delete(
        "/endpoints/{endpoint_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Disable a callback endpoint",
    )
    async def disable(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        endpoint_id: EndpointPathId,
    ) -> None:
        """Send it nothing more; its pending deliveries stay pending, unsent."""
        await webhook_service.disable_endpoint(deps, principal, endpoint_id)

    @post(
        "/endpoints/{endpoint_id:int}/rotate-secret",
        status_code=HTTP_200_OK,
        summary="Rotate an endpoint's secret",
    )
    async def rotate(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        endpoint_id: EndpointPathId,
    ) -> EndpointWithSecret:
        """A new signing secret; the old one keeps signing too for 24 hours."""
        return await webhook_service.rotate_secret(deps, principal, endpoint_id)

    @get("/deliveries", summary="List callback deliveries")
    async def deliveries(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        status: Annotated[
            DeliveryStatus | None, QueryParameter(description="Only deliveries in this status.")
        ] = None,
        referral_id: Annotated[
            int | None,
            QueryParameter(ge=1, le=MAX_ID, description="Only the deliveries of this referral."),
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Delivery]:
        """The hospital's deliveries of callbacks, by id."""
        filters = DeliveryFilter(status=status, referral_id=referral_id, cursor=cursor, limit=limit)
        return await webhook_service.list_deliveries(deps, principal, filters)

    @get("/deliveries/{delivery_id:int}", summary="Read a callback delivery")
    async def delivery(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        delivery_id: DeliveryPathId,
    ) -> DeliveryDetail:
        """One delivery with every attempt made: when, what the endpoint answered, how long."""
        return await webhook_service.get_delivery(deps, principal, delivery_id)

    @post(
        "/deliveries/{delivery_id:int}/redeliver",
        status_code=HTTP_202_ACCEPTED,
        summary="Send a callback again",
    )
    async def redeliver(
        self,
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
        delivery_id: DeliveryPathId,
    ) -> Delivery:
        """Send the event again now (same event id: receivers de-duplicate by it)."""
        return await webhook_service.redeliver(deps, principal, delivery_id)


referral_router = Router(
    path="/v1", route_handlers=[HospitalController, ReferralController, WebhookController]
)
