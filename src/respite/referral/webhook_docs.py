"""The callbacks in the API reference: one OpenAPI 3.1 webhook per event type, the request
respite sends to a hospital's endpoint, with its signature headers and an example body."""

from __future__ import annotations

from typing import Final

from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

from respite.referral.examples import EVENTS
from respite.referral.model import EVENT_TYPES, EventType

__all__ = ["callbacks"]

# The schema of the body: the same Event the events route answers with.
EVENT_SCHEMA: Final = Reference(ref="#/components/schemas/Event")
_MEANING: Final[dict[EventType, str]] = {
    "referral.held": "A bed was held for the referral; data.hold says which and until when.",
    "booking.confirmed": "A bed was booked for the referral (a hold was confirmed).",
    "booking.checked_in": "The patient arrived at the facility: the referral is admitted.",
    "booking.checked_out": "The patient left the facility: the referral is completed.",
    "booking.cancelled": "The referral's booking was cancelled: the referral is open again, "
    "so hold another bed.",
    "booking.no_show": "The patient did not come: the booking's nights are freed and the "
    "referral is cancelled.",
    "booking.changed": "The booking's stay was changed (extended, shortened or moved): "
    "data.booking has its dates and bed now, perhaps at another facility. The referral's "
    "status does not change.",
    "referral.cancelled": "The hospital cancelled the referral.",
    "referral.expired": "Nothing was booked by the discharge date: the referral expired.",
    "waitlist.offer_made": "The waiting list offers the patient a bed that freed up, held "
    "until data.offer.deadline: accept it (POST /v1/waitlist/offers/{offer_id}/accept) or "
    "decline it. The referral's status does not change.",
    "waitlist.offer_lapsed": "The offer's deadline passed unaccepted: the bed went to the next "
    "in line; the entry keeps waiting.",
}
_HOW: Final = (
    "respite POSTs the event as JSON to every enabled endpoint of the hospital, signed the "
    "Standard Webhooks way: verify webhook-signature over `{webhook-id}.{webhook-timestamp}."
    "{body}` with the endpoint's secret, and refuse a timestamp more than 5 minutes away. "
    "Answer any 2xx within 10 seconds (redirects are not followed); anything else is "
    "retried with growing delays for 26 hours (by default), so the same event can arrive "
    "more than once: de-duplicate by webhook-id, which is the event's id. Events of one "
    "referral are sent in order."
)
_HEADERS: Final = (
    ("webhook-id", "The event's id, the same on every retry: de-duplicate by it."),
    ("webhook-timestamp", "When this attempt was signed, in unix seconds."),
    (
        "webhook-signature",
        "v1, and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under "
        "the endpoint's secret (the base64 after whsec_). During a secret rotation, two "
        "signatures separated by a space: accept the callback if either matches.",
    ),
)


def _operation(kind: EventType) -> Operation:
    return Operation(
        tags=["webhooks"],
        summary=f"Callback: {kind}",
        description=f"{_MEANING[kind]}\n\n{_HOW}",
        operation_id=f"callback_{kind.replace('.', '_')}",
        parameters=[
            Parameter(
                name=name,
                param_in="header",
                required=True,
                description=text,
                schema=Schema(type=OpenAPIType.STRING),
            )
            for name, text in _HEADERS
        ],
        request_body=RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=EVENT_SCHEMA, examples={kind: EVENTS[kind]}
                )
            },
        ),
        responses={
            "2XX": OpenAPIResponse(description="Received: the delivery is done."),
            "default": OpenAPIResponse(description="Not received: the event is sent again."),
        },
        security=[{}],
    )


def callbacks() -> dict[str, PathItem | Reference]:
    """The ``webhooks`` of the OpenAPI document, by event type."""
    return {kind: PathItem(post=_operation(kind)) for kind in EVENT_TYPES}
