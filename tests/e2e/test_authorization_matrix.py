"""Who may call what: every route × every kind of caller, one table.

The objects in the paths belong to "A": family A's elder and booking, facility A's bed and
block, hospital A's referral and webhook endpoint. Each cell says what the caller gets:
401 without a token, 403 when the role may not call the route at all, 404 when the role may
but the object is another tenant's (ids cannot be probed), and OK when the call is allowed
(any 2xx, or a 409/422 about the request itself: the authorization passed).

Staff are of four facilities, by what family A's elder did there: ``staff`` of facility A,
where the elder stays now (a manager; ``front_desk`` is its front desk colleague, who may do
what ``staff`` may but what ``auth.staff_roles`` keeps for managers: 403 ``managers-only``); ``recent_staff`` of a facility the elder left within
``staff_recent_stay_days``; ``former_staff`` of one the elder left longer ago; and
``other_staff`` of a facility where the elder only ever had a cancelled booking.

A route of the app that has no row here fails the test: a new route must say who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from respite.app import create_app
from respite.auth.service import create_principal, issue_token
from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop
from tests.e2e.test_webhook_receiver import hospital, refer

OK = "ok"
ROLES = (
    "anon",
    "family",
    "other_family",
    "staff",
    "front_desk",
    "other_staff",
    "recent_staff",
    "former_staff",
    "hospital",
    "other_hospital",
    "admin",
)
TODAY = builders.today()
CI, CO = TODAY + timedelta(days=40), TODAY + timedelta(days=43)
WAIT_FROM = CO + timedelta(days=40)


def row(*cells: int | str, front_desk: int | str | None = None) -> dict[str, int | str]:
    """The cells of every role but ``front_desk``, which is the manager's (``staff``) unless
    given."""
    others = [role for role in ROLES if role != "front_desk"]
    assert len(cells) == len(others)
    cells_of = dict(zip(others, cells, strict=True))
    return {**cells_of, "front_desk": cells_of["staff"] if front_desk is None else front_desk}


ANYONE = row(OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)
SIGNED_IN = row(401, OK, OK, OK, OK, OK, OK, OK, OK, OK)
WRONG_CODE = row(401, 401, 401, 401, 401, 401, 401, 401, 401, 401)
# Staff see the elder where a stay is live or recent; a cancelled booking shows nothing.
FAMILY_A_ELDER = row(401, OK, 404, OK, 404, OK, 404, 404, 404, OK)
# Facility A's booking and beds: only its staff among staff, whoever else sees the elder.
FAMILY_A_BOOKING = row(401, OK, 404, OK, 404, 404, 404, 404, 404, OK)
HOLDER_ONLY = row(401, OK, 404, 404, 404, 404, 404, 404, 404, 404)
# A waiting-list entry and its offers: their owner (family A) and admins.
OWNER = row(401, OK, 404, 404, 404, 404, 404, 404, 404, OK)
ON_SITE_A = row(401, 403, 403, OK, 404, 404, 404, 403, 403, OK)
ON_SITE_A_BOOKING = row(401, 403, 403, OK, 404, 404, 404, 403, 403, OK)
# Staff who see the elder, and only staff: the one whole phone respite answers (invariant 6).
REVEAL = row(401, 403, 403, OK, 404, OK, 404, 403, 403, 403)
# What only facility A's managers (and admins) may do: beds, imports, profile, the team.
MANAGERS_A = row(401, 403, 403, OK, 404, 404, 404, 403, 403, OK, front_desk=403)
ADMIN_ONLY = row(401, 403, 403, 403, 403, 403, 403, 403, 403, OK)
HOSPITALS = row(401, 403, 403, 403, 403, 403, 403, OK, OK, 403)
HOSPITAL_A_OBJECT = row(401, 403, 403, 403, 403, 403, 403, OK, 404, 403)
NO_SUCH_HOSPITAL_OBJECT = row(401, 403, 403, 403, 403, 403, 403, 404, 404, 403)
# The caller's own notifications and their settings: anyone told of something, never admins.
ME = row(401, OK, OK, OK, OK, OK, OK, OK, OK, 403)
FAMILY_A_NOTIFICATION = row(401, OK, 404, 404, 404, 404, 404, 404, 404, 403)

World = dict[str, Any]
Request = tuple[str, str, Callable[[World], dict[str, Any]], dict[str, int | str]]


def none(_: World) -> dict[str, Any]:
    return {}


def body(make: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"json": make(w)}


STAY = {"check_in": CI.isoformat(), "check_out": CO.isoformat()}
# (method, route as the app names it, how to fill it, request extras, expected cells), in order:
# writes that consume their object (release, delete, sign-out) come after its other rows.
TABLE: list[
    tuple[str, str, Callable[[World], str], Callable[[World], dict[str, Any]], dict[str, int | str]]
] = [
    ("GET", "/health/live", lambda w: "/health/live", none, ANYONE),
    ("GET", "/health/ready", lambda w: "/health/ready", none, ANYONE),
    ("GET", "/v1/auth/me", lambda w: "/v1/auth/me", none, SIGNED_IN),
    (
        "POST",
        "/v1/auth/register",
        lambda w: "/v1/auth/register",
        body(
            lambda w: {"name": "X", "password": "a long password", "email": "matrix@example.test"}
        ),
        ANYONE,
    ),
    (
        "POST",
        "/v1/auth/signin",
        lambda w: "/v1/auth/signin",
        body(lambda w: {"login": w["family_email"], "password": "a long password"}),
        ANYONE,
    ),
    # One-time codes are for anyone, signed in or not: this deployment sends no email (422,
    # whoever asks), and a wrong code is refused alike whoever types it.
    (
        "POST",
        "/v1/auth/codes",
        lambda w: "/v1/auth/codes",
        body(lambda w: {"login": w["family_email"], "purpose": "password_reset"}),
        ANYONE,
    ),
    (
        "POST",
        "/v1/auth/signin/code",
        lambda w: "/v1/auth/signin/code",
        # Another login than the reset's below: each has its day of wrong codes.
        body(lambda w: {"login": "no-account@example.test", "code": "123456"}),
        WRONG_CODE,
    ),
    (
        "POST",
        "/v1/auth/password/reset",
        lambda w: "/v1/auth/password/reset",
        body(lambda w: {"login": w["family_email"], "code": "123456", "password": "a new pass"}),
        WRONG_CODE,
    ),
    (
        "GET",
        "/v1/availability",
        lambda w: (
            f"/v1/availability?check_in={CI}&check_out={CO}&kind=respite&near=31.23,121.47&sex=female"
        ),
        none,
        ANYONE,
    ),
    ("GET", "/v1/care-recipients", lambda w: "/v1/care-recipients", none, SIGNED_IN),
    (
        "POST",
        "/v1/care-recipients",
        lambda w: "/v1/care-recipients",
        body(lambda w: {"name": "李", "sex": "male", "birth_date": "1941-02-03"}),
        row(401, OK, OK, OK, OK, OK, OK, OK, OK, 403),
    ),
    (
        "GET",
        "/v1/care-recipients/{care_recipient_id}",
        lambda w: f"/v1/care-recipients/{w['recipient']}",
        none,
        FAMILY_A_ELDER,
    ),
    (
        "PATCH",
        "/v1/care-recipients/{care_recipient_id}",
        lambda w: f"/v1/care-recipients/{w['recipient']}",
        body(lambda w: {"pressure_injury_stage": 0}),
        FAMILY_A_ELDER,
    ),
    (
        "GET",
        "/v1/care-recipients/{care_recipient_id}/assessments",
        lambda w: f"/v1/care-recipients/{w['recipient']}/assessments",
        none,
        FAMILY_A_ELDER,
    ),
    (
        "POST",
        "/v1/care-recipients/{care_recipient_id}/assessments",
        lambda w: f"/v1/care-recipients/{w['recipient']}/assessments",
        body(
            lambda w: {
                "total": 50,
                "assessor": "Dr",
                "organisation": "Org",
                "assessed_on": (TODAY - timedelta(days=1)).isoformat(),
            }
        ),
        FAMILY_A_ELDER,
    ),
    (
        "POST",
        "/v1/care-recipients/{care_recipient_id}/emergency-contact/reveal",
        lambda w: f"/v1/care-recipients/{w['recipient']}/emergency-contact/reveal",
        body(lambda w: {"reason": "calling the family"}),
        REVEAL,
    ),
    (
        "POST",
        "/v1/eligibility",
        lambda w: "/v1/eligibility",
        body(lambda w: {"care_recipient_id": w["recipient"], **STAY}),
        FAMILY_A_ELDER,
    ),
    ("GET", "/v1/policies", lambda w: "/v1/policies", none, SIGNED_IN),
    ("GET", "/v1/policies/{code}", lambda w: "/v1/policies/cn-respite", none, SIGNED_IN),
    (
        "POST",
        "/v1/policies/{code}/versions",
        lambda w: "/v1/policies/cn-respite/versions",
        body(lambda w: w["policy_version"]),
        ADMIN_ONLY,
    ),
    ("GET", "/v1/bookings", lambda w: "/v1/bookings", none, SIGNED_IN),
    (
        "GET",
        "/v1/bookings/{booking_id}",
        lambda w: f"/v1/bookings/{w['booking']}",
        none,
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/change/quote",
        lambda w: f"/v1/bookings/{w['booking']}/change/quote",
        body(lambda w: {**STAY, "check_out": (CO + timedelta(days=1)).isoformat()}),
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/change",
        lambda w: f"/v1/bookings/{w['booking']}/change",
        body(
            lambda w: {
                **STAY,
                "check_out": (CO + timedelta(days=1)).isoformat(),
                "nightly_price": 100,
            }
        ),
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/check-in",
        lambda w: f"/v1/bookings/{w['booking']}/check-in",
        none,
        ON_SITE_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/check-out",
        lambda w: f"/v1/bookings/{w['booking']}/check-out",
        none,
        ON_SITE_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/no-show",
        lambda w: f"/v1/bookings/{w['booking']}/no-show",
        none,
        ON_SITE_A_BOOKING,
    ),
    (
        "POST",
        "/v1/bookings/{booking_id}/cancel",
        lambda w: f"/v1/bookings/{w['booking']}/cancel",
        body(lambda w: {"reason": "plans changed"}),
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/facilities/{facility_id}/walk-ins",
        lambda w: f"/v1/facilities/{w['facility']}/walk-ins",
        body(lambda w: {"care_recipient_id": w["recipient"], "bed_id": w["bed"], **STAY}),
        ON_SITE_A,
    ),
    (
        "POST",
        "/v1/holds",
        lambda w: "/v1/holds",
        body(
            lambda w: {
                "care_recipient_id": w["recipient"],
                "bed_id": w["bed"],
                "check_in": (CO + timedelta(days=5)).isoformat(),
                "check_out": (CO + timedelta(days=6)).isoformat(),
            }
        ),
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/holds/{hold_id}/extend",
        lambda w: f"/v1/holds/{w['hold']['hold_id']}/extend",
        body(lambda w: {"token": w["hold"]["token"]}),
        HOLDER_ONLY,
    ),
    ("GET", "/v1/holds", lambda w: "/v1/holds", none, SIGNED_IN),
    (
        "GET",
        "/v1/holds/{hold_id}",
        lambda w: f"/v1/holds/{w['hold']['hold_id']}",
        none,
        FAMILY_A_BOOKING,
    ),
    (
        "DELETE",
        "/v1/holds/{hold_id}",
        # Without its token: the holder, its facility's staff and admins. Each caller is given
        # a hold of its own to release, since the first to succeed would free a shared one.
        lambda w: f"/v1/holds/{w['spare_holds'].pop()}",
        none,
        FAMILY_A_BOOKING,
    ),
    (
        "POST",
        "/v1/holds/{hold_id}/confirm",
        lambda w: f"/v1/holds/{w['hold']['hold_id']}/confirm",
        lambda w: {"json": {"token": w["hold"]["token"]}, "headers": {"Idempotency-Key": "matrix"}},
        HOLDER_ONLY,
    ),
    (
        "GET",
        "/v1/facilities",
        lambda w: "/v1/facilities",
        none,
        row(401, 403, 403, OK, OK, OK, OK, 403, 403, OK),
    ),
    (
        "POST",
        "/v1/facilities",
        lambda w: "/v1/facilities",
        body(lambda w: {"name": "新设施", "lat": 31.2, "lon": 121.4}),
        ADMIN_ONLY,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}",
        lambda w: f"/v1/facilities/{w['facility']}",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/profile",
        lambda w: f"/v1/facilities/{w['facility']}/profile",
        none,
        SIGNED_IN,
    ),
    (
        "PATCH",
        "/v1/facilities/{facility_id}",
        lambda w: f"/v1/facilities/{w['facility']}",
        body(lambda w: {"phone": "021-12345678"}),
        MANAGERS_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/beds",
        lambda w: f"/v1/facilities/{w['facility']}/beds",
        none,
        ON_SITE_A,
    ),
    (
        "POST",
        "/v1/facilities/{facility_id}/beds",
        lambda w: f"/v1/facilities/{w['facility']}/beds",
        body(
            lambda w: {"kind": "respite", "label": "M-1", "sex_rule": "any", "nightly_price": 100}
        ),
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/facilities/{facility_id}/beds/import",
        lambda w: f"/v1/facilities/{w['facility']}/beds/import",
        lambda w: {
            "content": b"label,kind,sex_rule,nightly_price\nM-2,respite,any,100\n",
            "headers": {"content-type": "text/csv"},
        },
        MANAGERS_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/blocks",
        lambda w: f"/v1/facilities/{w['facility']}/blocks",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/board",
        lambda w: f"/v1/facilities/{w['facility']}/board?start={CI}&end={CO}",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/arrivals",
        lambda w: f"/v1/facilities/{w['facility']}/arrivals",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/departures",
        lambda w: f"/v1/facilities/{w['facility']}/departures?date={CO}",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/bookings",
        lambda w: f"/v1/facilities/{w['facility']}/bookings?q=8000",
        none,
        ON_SITE_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/referrals",
        lambda w: f"/v1/facilities/{w['facility']}/referrals",
        none,
        ON_SITE_A,
    ),
    ("GET", "/v1/beds/{bed_id}", lambda w: f"/v1/beds/{w['bed']}", none, ON_SITE_A),
    (
        "PATCH",
        "/v1/beds/{bed_id}",
        lambda w: f"/v1/beds/{w['bed']}",
        body(lambda w: {"nightly_price": 21000}),
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/beds/{bed_id}/retire",
        lambda w: f"/v1/beds/{w['spare_bed']}/retire",
        none,
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/beds/{bed_id}/blocks",
        lambda w: f"/v1/beds/{w['bed']}/blocks",
        body(
            lambda w: {
                "check_in": (CO + timedelta(days=20)).isoformat(),
                "check_out": (CO + timedelta(days=21)).isoformat(),
                "reason": "cleaning",
            }
        ),
        ON_SITE_A,
    ),
    (
        "PATCH",
        "/v1/blocks/{block_id}",
        lambda w: f"/v1/blocks/{w['block']}",
        body(lambda w: {"note": "deep clean"}),
        ON_SITE_A,
    ),
    ("DELETE", "/v1/blocks/{block_id}", lambda w: f"/v1/blocks/{w['block']}", none, ON_SITE_A),
    (
        "POST",
        "/v1/facilities/{facility_id}/staff-invitations",
        lambda w: f"/v1/facilities/{w['facility']}/staff-invitations",
        body(lambda w: {"login": "colleague@example.test"}),
        MANAGERS_A,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/staff-invitations",
        lambda w: f"/v1/facilities/{w['facility']}/staff-invitations",
        none,
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/staff-invitations/{invitation_id}/withdraw",
        lambda w: f"/v1/staff-invitations/{w['invitation']}/withdraw",
        none,
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/staff-invitations/accept",
        lambda w: "/v1/staff-invitations/accept",
        # The first caller accepts it; the others meet a used invitation (409).
        body(lambda w: {"token": w["invitation_token"], "name": "X", "password": "a long one!"}),
        ANYONE,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/staff",
        lambda w: f"/v1/facilities/{w['facility']}/staff",
        none,
        MANAGERS_A,
    ),
    (
        "POST",
        "/v1/staff/{staff_id}/remove",
        # Each caller is given a front desk colleague of its own to remove.
        lambda w: f"/v1/staff/{w['spare_staff'].pop()}/remove",
        none,
        MANAGERS_A,
    ),
    ("GET", "/v1/hospitals", lambda w: "/v1/hospitals", none, ADMIN_ONLY),
    (
        "POST",
        "/v1/hospitals",
        lambda w: "/v1/hospitals",
        body(lambda w: {"name": "华山医院"}),
        ADMIN_ONLY,
    ),
    (
        "GET",
        "/v1/hospitals/{hospital_id}/credentials",
        lambda w: f"/v1/hospitals/{w['hospital'].id}/credentials",
        none,
        ADMIN_ONLY,
    ),
    (
        "POST",
        "/v1/hospitals/{hospital_id}/credentials",
        lambda w: f"/v1/hospitals/{w['hospital'].id}/credentials",
        body(lambda w: {"label": "test"}),
        ADMIN_ONLY,
    ),
    (
        "DELETE",
        "/v1/hospitals/{hospital_id}/credentials/{credential_id}",
        lambda w: f"/v1/hospitals/{w['hospital'].id}/credentials/{w['spare_credential']}",
        none,
        ADMIN_ONLY,
    ),
    ("GET", "/v1/referrals", lambda w: "/v1/referrals", none, HOSPITALS),
    (
        "POST",
        "/v1/referrals",
        lambda w: "/v1/referrals",
        lambda w: {"json": w["referral_body"], "headers": {"Idempotency-Key": "matrix-ref"}},
        HOSPITALS,
    ),
    (
        "GET",
        "/v1/referrals/{referral_id}",
        lambda w: f"/v1/referrals/{w['referral']}",
        none,
        HOSPITAL_A_OBJECT,
    ),
    (
        "GET",
        "/v1/referrals/{referral_id}/candidates",
        lambda w: f"/v1/referrals/{w['referral']}/candidates",
        none,
        HOSPITAL_A_OBJECT,
    ),
    (
        "GET",
        "/v1/referrals/{referral_id}/events",
        lambda w: f"/v1/referrals/{w['referral']}/events",
        none,
        HOSPITAL_A_OBJECT,
    ),
    (
        "POST",
        "/v1/referrals/{referral_id}/cancel",
        lambda w: f"/v1/referrals/{w['referral']}/cancel",
        body(lambda w: {"reason": "discharge postponed"}),
        HOSPITAL_A_OBJECT,
    ),
    ("GET", "/v1/webhooks/endpoints", lambda w: "/v1/webhooks/endpoints", none, HOSPITALS),
    (
        "POST",
        "/v1/webhooks/endpoints",
        lambda w: "/v1/webhooks/endpoints",
        body(lambda w: {"url": "http://127.0.0.1:9/hook"}),
        HOSPITALS,
    ),
    (
        "POST",
        "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret",
        lambda w: f"/v1/webhooks/endpoints/{w['endpoint']}/rotate-secret",
        none,
        HOSPITAL_A_OBJECT,
    ),
    (
        "DELETE",
        "/v1/webhooks/endpoints/{endpoint_id}",
        lambda w: f"/v1/webhooks/endpoints/{w['endpoint']}",
        none,
        HOSPITAL_A_OBJECT,
    ),
    ("GET", "/v1/webhooks/deliveries", lambda w: "/v1/webhooks/deliveries", none, HOSPITALS),
    (
        "GET",
        "/v1/webhooks/deliveries/{delivery_id}",
        lambda w: "/v1/webhooks/deliveries/987654321",
        none,
        NO_SUCH_HOSPITAL_OBJECT,
    ),
    (
        "POST",
        "/v1/webhooks/deliveries/{delivery_id}/redeliver",
        lambda w: "/v1/webhooks/deliveries/987654321/redeliver",
        none,
        NO_SUCH_HOSPITAL_OBJECT,
    ),
    (
        "POST",
        "/v1/waitlist",
        lambda w: "/v1/waitlist",
        body(
            lambda w: {
                "care_recipient_id": w["recipient"],
                "kind": "respite",
                "earliest_check_in": WAIT_FROM.isoformat(),
                "latest_check_out": (WAIT_FROM + timedelta(days=10)).isoformat(),
                "nights": 3,
                "facility_ids": [w["facility"]],
            }
        ),
        FAMILY_A_ELDER,
    ),
    ("GET", "/v1/waitlist", lambda w: "/v1/waitlist", none, SIGNED_IN),
    ("GET", "/v1/waitlist/{entry_id}", lambda w: f"/v1/waitlist/{w['entry']}", none, OWNER),
    (
        "GET",
        "/v1/waitlist/offers/{offer_id}",
        lambda w: f"/v1/waitlist/offers/{w['offer']}",
        none,
        OWNER,
    ),
    (
        "POST",
        "/v1/waitlist/offers/{offer_id}/decline",
        lambda w: f"/v1/waitlist/offers/{w['declined_offer']}/decline",
        none,
        OWNER,
    ),
    (
        "POST",
        "/v1/waitlist/offers/{offer_id}/accept",
        lambda w: f"/v1/waitlist/offers/{w['offer']}/accept",
        lambda w: {"headers": {"Idempotency-Key": "matrix-accept"}},
        OWNER,
    ),
    (
        "POST",
        "/v1/waitlist/{entry_id}/leave",
        lambda w: f"/v1/waitlist/{w['left_entry']}/leave",
        none,
        OWNER,
    ),
    (
        "GET",
        "/v1/facilities/{facility_id}/waitlist",
        lambda w: f"/v1/facilities/{w['facility']}/waitlist",
        none,
        ON_SITE_A,
    ),
    ("GET", "/v1/me/notification-settings", lambda w: "/v1/me/notification-settings", none, ME),
    (
        "PUT",
        "/v1/me/notification-settings",
        lambda w: "/v1/me/notification-settings",
        body(
            lambda w: {
                "email_enabled": False,
                "sms_enabled": False,
                "email": None,
                "quiet_hours": None,
                "timezone": None,
                "language": "en",
            }
        ),
        ME,
    ),
    ("GET", "/v1/me/inbox", lambda w: "/v1/me/inbox", none, ME),
    (
        "POST",
        "/v1/me/inbox/{notification_id}/read",
        lambda w: f"/v1/me/inbox/{w['notification']}/read",
        none,
        FAMILY_A_NOTIFICATION,
    ),
    ("POST", "/v1/auth/signout", lambda w: "/v1/auth/signout", none, SIGNED_IN),
]


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    document = app.openapi_schema.to_schema()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


@pytest.fixture
def matrix_app(settings: Settings, clock: ManualClock) -> Litestar:
    return create_app(
        msgspec.structs.replace(
            settings,
            webhook_allow_loopback_http=True,
            webhook_worker=False,
            waitlist_worker=False,
            hold_cap_family=50,
        ),
        clock=clock,
        configure_logs=False,
    )


async def _staff_after_a_stay(
    db: Any, make_token: MakeToken, recipient: int, ended: date
) -> dict[str, str]:
    """Headers of staff of a new facility where the elder checked out on ``ended``."""
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    start = ended - timedelta(days=4)
    await builders.booking(db, bed, start, ended, recipient_id=recipient, status="checked_out")
    return (await make_token("staff", facility_id=facility))[1]


async def _front_desk(db: Any, facility: int) -> dict[str, str]:
    principal = await create_principal(
        db, "staff", "front desk", facility_id=facility, staff_role="front_desk"
    )
    issued = await issue_token(db, principal, None)
    return {"Authorization": f"Bearer {issued.token}"}


async def _invitation(
    client: httpx.AsyncClient, admin: dict[str, str], facility: int, login: str
) -> dict[str, Any]:
    invited = await client.post(
        f"/v1/facilities/{facility}/staff-invitations", json={"login": login}, headers=admin
    )
    assert invited.status_code == 201, invited.text
    return dict(invited.json())


async def _entry(
    client: httpx.AsyncClient, family: dict[str, str], recipient: int, facility: int
) -> int:
    joined = await client.post(
        "/v1/waitlist",
        json={
            "care_recipient_id": recipient,
            "kind": "respite",
            "earliest_check_in": WAIT_FROM.isoformat(),
            "latest_check_out": (WAIT_FROM + timedelta(days=10)).isoformat(),
            "nights": 3,
            "facility_ids": [facility],
        },
        headers=family,
    )
    assert joined.status_code == 201, joined.text
    return int(joined.json()["id"])


async def _offer(db: Any, entry: int, bed: int, facility: int, days: int = 0) -> int:
    """An open offer for the entry, as the worker would have made it."""
    check_in = WAIT_FROM + timedelta(days=days)
    job = await db.fetchval(
        "INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night, done_at,"
        " outcome) VALUES ('freed', 'cancelled', $1, $2, $3, now(), 'offered') RETURNING id",
        bed,
        check_in,
        check_in + timedelta(days=3),
    )
    await db.execute("UPDATE waitlist_entries SET status = 'offered' WHERE id = $1", entry)
    return int(
        await db.fetchval(
            "INSERT INTO waitlist_offers (entry_id, job_id, facility_id, bed_id, check_in,"
            " check_out, nightly_price, hold_id, hold_token_hash, made_at, deadline)"
            " VALUES ($1, $2, $3, $4, $5, $6, 20000, $7, 'x', $8, $9) RETURNING id",
            entry,
            job,
            facility,
            bed,
            check_in,
            check_in + timedelta(days=3),
            f"{facility}-offer-{job}",
            builders.SUITE_START,
            builders.SUITE_START + timedelta(hours=12),
        )
    )


async def _world(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, bound: int
) -> tuple[World, dict[str, dict[str, str]]]:
    """The objects of A, and every caller's headers; ``bound``: staff_recent_stay_days."""
    _, admin = await make_token("admin")
    registered = await client.post(
        "/v1/auth/register",
        json={"name": "A", "password": "a long password", "email": "family-a@example.test"},
    )
    family_a = {"Authorization": f"Bearer {registered.json()['token']}"}
    family_a_id = registered.json()["principal"]["id"]
    _, family_b = await make_token("family")
    facility = await builders.facility(db)
    other_facility = await builders.facility(db)
    _, staff_a = await make_token("staff", facility_id=facility)
    front_desk_a = await _front_desk(db, facility)
    _, staff_b = await make_token("staff", facility_id=other_facility)
    hospital_a = await hospital(client, admin, "甲医院")
    hospital_b = await hospital(client, admin, "乙医院")
    spare = await client.post(
        f"/v1/hospitals/{hospital_a.id}/credentials", json={"label": "spare"}, headers=admin
    )
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, family_id=family_a_id)
    booking = await builders.booking(db, bed, CI, CO, recipient_id=recipient)
    # The elder stays at facility A now (rows below cancel `booking`), had only a cancelled
    # booking at the other facility, and left two more: on the last day staff still see them
    # (recent), and the day before it (former).
    here = await builders.bed(db, facility)
    until = TODAY + timedelta(days=3)
    await builders.booking(db, here, TODAY, until, recipient_id=recipient, status="checked_in")
    there = await builders.bed(db, other_facility)
    await builders.booking(db, there, CI, CO, recipient_id=recipient, status="cancelled")
    recent_staff = await _staff_after_a_stay(
        db, make_token, recipient, TODAY - timedelta(days=bound)
    )
    former_staff = await _staff_after_a_stay(
        db, make_token, recipient, TODAY - timedelta(days=bound + 1)
    )
    block = await builders.block(db, bed, CO + timedelta(days=10), CO + timedelta(days=12))
    hold = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": recipient,
            "bed_id": bed,
            "check_in": (CO + timedelta(days=1)).isoformat(),
            "check_out": (CO + timedelta(days=3)).isoformat(),
        },
        headers=family_a,
    )
    assert hold.status_code == 201, hold.text
    spare_holds = []
    for offset in range(len(ROLES)):
        night = CO + timedelta(days=20 + offset)
        stay = {"check_in": night.isoformat(), "check_out": (night + timedelta(days=1)).isoformat()}
        placed = await client.post(
            "/v1/holds",
            json={"care_recipient_id": recipient, "bed_id": bed, **stay},
            headers=family_a,
        )
        assert placed.status_code == 201, placed.text
        spare_holds.append(placed.json()["hold_id"])
    referral = await refer(client, hospital_a)
    assert referral.status_code == 201, referral.text
    endpoint = await client.post(
        "/v1/webhooks/endpoints", json={"url": "http://127.0.0.1:9/a"}, headers=hospital_a.headers
    )
    assert endpoint.status_code == 201, endpoint.text
    current = (await client.get("/v1/policies/cn-respite", headers=admin)).json()
    invitation = await _invitation(client, admin, facility, "withdrawn@example.test")
    accepted = await _invitation(client, admin, facility, "accepting@example.test")
    spare_staff = [
        (
            await create_principal(
                db, "staff", "spare", facility_id=facility, staff_role="front_desk"
            )
        ).id
        for _ in ROLES
    ]
    entries = [await _entry(client, family_a, recipient, facility) for _ in range(3)]
    # Written straight to the outbox: what the listener writes when a booking is cancelled.
    notification = await db.fetchval(
        "INSERT INTO notifications (principal_id, kind, facts, dedupe_key, created_at)"
        " VALUES ($1, 'booking.cancelled', $2, 'matrix', now()) RETURNING id",
        family_a_id,
        {
            "booking_id": booking,
            "facility_name": "A",
            "facility_phone": "",
            "bed_label": "A-1",
            "check_in": CI.isoformat(),
            "check_out": CO.isoformat(),
        },
    )
    world: World = {
        "notification": notification,
        "entry": entries[0],
        "offer": await _offer(db, entries[0], bed, facility),
        "declined_offer": await _offer(db, entries[1], bed, facility, days=5),
        "left_entry": entries[2],
        "family_email": "family-a@example.test",
        "facility": facility,
        "bed": bed,
        "spare_bed": await builders.bed(db, facility),
        "recipient": recipient,
        "booking": booking,
        "block": block,
        "hold": hold.json(),
        "spare_holds": spare_holds,
        "hospital": hospital_a,
        "spare_credential": spare.json()["id"],
        "referral": referral.json()["referral"]["id"],
        "referral_body": {
            **msgspec.json.decode(referral.request.content),
            "discharge_date": builders.today().isoformat(),
        },
        "endpoint": endpoint.json()["id"],
        "invitation": invitation["invitation"]["id"],
        "invitation_token": accepted["token"],
        "spare_staff": spare_staff,
        "policy_version": {
            **current["versions"][0]["document"],
            "effective_from": (TODAY + timedelta(days=400)).isoformat(),
        },
    }
    headers = {
        "anon": {},
        "family": family_a,
        "other_family": family_b,
        "staff": staff_a,
        "front_desk": front_desk_a,
        "other_staff": staff_b,
        "recent_staff": recent_staff,
        "former_staff": former_staff,
        "hospital": hospital_a.headers,
        "other_hospital": hospital_b.headers,
        "admin": admin,
    }
    return world, headers


def _allowed(status: int) -> bool:
    return 200 <= status < 300 or status in (409, 422)


async def test_every_route_answers_each_caller_as_the_table_says(
    matrix_app: Litestar, db: Any, make_token: MakeToken, settings: Settings
) -> None:
    table_routes = {(method, route) for method, route, *_ in TABLE}
    assert len(table_routes) == len(TABLE), "a route has two rows"
    assert app_routes(matrix_app) == table_routes, "every route needs exactly one row"
    wrong: list[str] = []
    async with serve_in_loop(matrix_app) as client:
        world, headers = await _world(client, db, make_token, settings.staff_recent_stay_days)
        for method, route, path, extras, expected in TABLE:
            for role in ROLES:
                request = extras(world)
                merged = {**headers[role], **request.pop("headers", {})}
                response = await client.request(method, path(world), headers=merged, **request)
                want = expected[role]
                got = response.status_code
                if (want == OK and not _allowed(got)) or (want != OK and got != want):
                    wrong.append(
                        f"{method} {route} as {role}: expected {want}, got {got} {response.text[:120]}"
                    )
    assert not wrong, "\n".join(wrong)
