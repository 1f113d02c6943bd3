"""HTTP routes of referral hospitals: organisations and credentials (admins), referrals and
their callbacks (hospitals)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Router, delete, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)
from msgspec import Meta

from respite import idempotency
from respite.auth.guards import principal_of, requires
from respite.dto import Strict
from respite.errors import InvalidInputError
from respite.params import MAX_ID, IdempotencyHeader, PathId, RequiredIdempotencyHeader
from respite.referral import endpoints, hospitals, service
from respite.referral.event_model import (
    Credential,
    CredentialIssued,
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    DeliveryStatus,
    Endpoint,
    EndpointWithSecret,
    Event,
    Hospital,
    NewCredential,
    NewEndpoint,
    NewHospital,
)
from respite.referral.model import (
    MAX_PAGE,
    NewReferral,
    Referral,
    ReferralAnswer,
    ReferralCancellation,
    ReferralFilter,
    ReferralPage,
    ReferralStatus,
    decode_cursor,
)
from respite.referral.service import ReferralContext

__all__ = [
    "HospitalController",
    "ReferralController",
    "WebhookController",
    "clock",
    "referral_router",
]

HOSPITAL = requires("hospital")
ADMIN = requires("admin")
AwareDatetime = Annotated[datetime, Meta(tz=True)]


def clock() -> datetime:
    """The one clock of referrals (tests replace it)."""
    return datetime.now(UTC)


def _context(request: Request[Any, Any, Any]) -> ReferralContext:
    state = request.app.state
    return ReferralContext(pool=state.pool, redis=state.redis, settings=state.settings, now=clock())


class HospitalController(Controller):
    path = "/hospitals"
    tags = ["hospitals"]
    guards = [ADMIN]

    @post("/", dto=Strict[NewHospital], return_dto=None, status_code=HTTP_201_CREATED)
    async def create(
        self, request: Request[Any, Any, Any], data: JSONBody[NewHospital]
    ) -> Hospital:
        """Register a referral hospital (an organisation); then issue it credentials."""
        return await hospitals.create_hospital(request.app.state.pool, principal_of(request), data)

    @get("/")
    async def list_hospitals(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> list[Hospital]:
        return await hospitals.list_hospitals(request.app.state.pool, after=after, limit=limit)

    @post(
        "/{hospital_id:int}/credentials",
        dto=Strict[NewCredential],
        return_dto=None,
        status_code=HTTP_201_CREATED,
    )
    async def issue(
        self, request: Request[Any, Any, Any], hospital_id: PathId, data: JSONBody[NewCredential]
    ) -> CredentialIssued:
        """A new API credential for the hospital; the answer shows its token once."""
        return await hospitals.issue_credential(
            request.app.state.pool, principal_of(request), hospital_id, data
        )

    @get("/{hospital_id:int}/credentials")
    async def credentials(
        self, request: Request[Any, Any, Any], hospital_id: PathId
    ) -> list[Credential]:
        return await hospitals.list_credentials(request.app.state.pool, hospital_id)

    @delete("/{hospital_id:int}/credentials/{credential_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(
        self, request: Request[Any, Any, Any], hospital_id: PathId, credential_id: PathId
    ) -> None:
        """Revoke one credential at once; the hospital's others keep working."""
        await hospitals.revoke_credential(
            request.app.state.pool, principal_of(request), hospital_id, credential_id
        )


class ReferralController(Controller):
    path = "/referrals"
    tags = ["referrals"]
    guards = [HOSPITAL]

    @post("/", dto=Strict[NewReferral], return_dto=None, status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewReferral],
        idempotency_key: RequiredIdempotencyHeader = None,
    ) -> ReferralAnswer:
        """Refer a patient being discharged; the answer ranks the facilities with a bed the
        patient may take, nearest first, each with the closer ones not offered and why.

        Needs an ``Idempotency-Key``: a retry with the same key and body answers the same
        referral (with the candidates as they are now) and creates nothing more."""
        key = idempotency.require_key(idempotency_key)
        return await service.create_referral(_context(request), principal_of(request), data, key)

    @get("/")
    async def list_referrals(
        self,
        request: Request[Any, Any, Any],
        status: Annotated[ReferralStatus | None, QueryParameter()] = None,
        updated_since: Annotated[
            str | None, QueryParameter(description="RFC 3339 time with an offset", max_length=64)
        ] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> ReferralPage:
        """The hospital's referrals by last change (oldest first), for reconciliation: keep
        the latest ``updated_at`` seen and ask again with ``updated_since`` set to it."""
        since = None
        if updated_since is not None:
            try:
                since = msgspec.convert(updated_since, AwareDatetime)
            except msgspec.ValidationError:
                raise InvalidInputError.one(
                    "updated_since", "expected an RFC 3339 time with an offset, e.g. ...T08:00:00Z"
                ) from None
        after = None
        if cursor is not None:
            after = decode_cursor(cursor)
            if after is None:
                raise InvalidInputError.one("cursor", "not a cursor this service gave")
        filters = ReferralFilter(status=status, updated_since=since, after=after, limit=limit)
        return await service.list_referrals(request.app.state.pool, principal_of(request), filters)

    @get("/{referral_id:int}")
    async def get_referral(self, request: Request[Any, Any, Any], referral_id: PathId) -> Referral:
        return await service.get_referral(
            request.app.state.pool, principal_of(request), referral_id
        )

    @get("/{referral_id:int}/candidates")
    async def candidates(
        self, request: Request[Any, Any, Any], referral_id: PathId
    ) -> ReferralAnswer:
        """The candidates as they are now (from today once the discharge date has passed)."""
        return await service.referral_candidates(
            _context(request), principal_of(request), referral_id
        )

    @get("/{referral_id:int}/events")
    async def events(self, request: Request[Any, Any, Any], referral_id: PathId) -> list[Event]:
        """Every event of the referral in order, as its callbacks carry them."""
        return await endpoints.referral_events(
            request.app.state.pool, principal_of(request), referral_id
        )

    @post(
        "/{referral_id:int}/cancel",
        dto=Strict[ReferralCancellation],
        return_dto=None,
        status_code=HTTP_200_OK,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        referral_id: PathId,
        data: JSONBody[ReferralCancellation],
        idempotency_key: IdempotencyHeader = None,
    ) -> Referral:
        """No bed is needed any more: only while open or held (cancel a booking first)."""
        key = idempotency.optional_key(idempotency_key)
        return await service.cancel_referral(
            request.app.state.pool, principal_of(request), referral_id, data.reason, key
        )


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]
    guards = [HOSPITAL]

    @post("/endpoints", dto=Strict[NewEndpoint], return_dto=None, status_code=HTTP_201_CREATED)
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[NewEndpoint]
    ) -> EndpointWithSecret:
        """Receive every change of the hospital's referrals at this HTTPS URL; the answer shows
        the signing secret once."""
        state = request.app.state
        return await endpoints.register_endpoint(
            state.pool, state.settings, principal_of(request), data
        )

    @get("/endpoints")
    async def list_endpoints(self, request: Request[Any, Any, Any]) -> list[Endpoint]:
        return await endpoints.list_endpoints(request.app.state.pool, principal_of(request))

    @delete("/endpoints/{endpoint_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def disable(self, request: Request[Any, Any, Any], endpoint_id: PathId) -> None:
        await endpoints.disable_endpoint(request.app.state.pool, principal_of(request), endpoint_id)

    @post("/endpoints/{endpoint_id:int}/rotate-secret", status_code=HTTP_200_OK)
    async def rotate(
        self, request: Request[Any, Any, Any], endpoint_id: PathId
    ) -> EndpointWithSecret:
        """A new signing secret; the old one keeps signing too for 24 hours."""
        return await endpoints.rotate_secret(
            request.app.state.pool, principal_of(request), endpoint_id, clock()
        )

    @get("/deliveries")
    async def deliveries(
        self,
        request: Request[Any, Any, Any],
        status: Annotated[DeliveryStatus | None, QueryParameter()] = None,
        referral_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        after: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> DeliveryPage:
        return await endpoints.list_deliveries(
            request.app.state.pool,
            principal_of(request),
            status=status,
            referral_id=referral_id,
            after=after,
            limit=limit,
        )

    @get("/deliveries/{delivery_id:int}")
    async def delivery(
        self, request: Request[Any, Any, Any], delivery_id: PathId
    ) -> DeliveryDetail:
        return await endpoints.get_delivery(
            request.app.state.pool, principal_of(request), delivery_id
        )

    @post("/deliveries/{delivery_id:int}/redeliver", status_code=HTTP_202_ACCEPTED)
    async def redeliver(self, request: Request[Any, Any, Any], delivery_id: PathId) -> Delivery:
        """Send the event again now (same event id: receivers de-duplicate by it)."""
        return await endpoints.redeliver(
            request.app.state.pool, principal_of(request), delivery_id, clock()
        )


referral_router = Router(
    path="/v1", route_handlers=[HospitalController, ReferralController, WebhookController]
)
