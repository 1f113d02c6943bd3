"""Use cases of referrals: create (with the patient and the candidates), read, list, cancel.

Creating runs in one transaction with its ``Idempotency-Key``: the patient (new, or one of the
hospital's own), their current assessment, the referral and its audit entries, or nothing at
all. The candidates are searched after the commit, by the availability search itself, as the
hospital sees the patient; a retry with the same key answers the same referral with the
candidates as they are at that moment (availability changes by the minute, so an old list
would mislead). "Today" is the referral's own (``outbox.referral_today``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from respite import audit, idempotency, paging
from respite.auth.model import Principal, normalise_phone
from respite.availability.model import MAX_DAYS_AHEAD, SearchParams, validate_query
from respite.availability.service import search_availability
from respite.crypto import cipher_for
from respite.db import Conn
from respite.eligibility.subject import Viewer, load_subject
from respite.errors import InvalidInputError, NotFoundError
from respite.i18n import t
from respite.inventory.profile import FacilityContact
from respite.paging import Page
from respite.recipients.assessments import insert_assessment
from respite.recipients.service import insert_recipient
from respite.referral import queries as q
from respite.referral.model import (
    Area,
    CancelReferral,
    Contact,
    CreateReferral,
    NewReferral,
    Referral,
    ReferralAnswer,
    ReferralFilter,
    SearchWindow,
    hospital_of,
    rank_candidates,
    search_window,
)
from respite.referral.outbox import Step, change_referral, lock_referral, referral_today

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "CANDIDATES_SHOWN",
    "cancel_referral",
    "create_referral",
    "get_referral",
    "list_referrals",
    "referral_candidates",
]

CANDIDATES_SHOWN = 10
REFERRAL_PAGES = "page:referrals"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""


class _Position(msgspec.Struct, frozen=True, array_like=True):
    """Where a page of referrals (ordered by last change, then id) ended."""

    updated_at: datetime
    id: int


_BEFORE_ALL = _Position(datetime(1970, 1, 1, tzinfo=UTC), 0)


class _Created(msgspec.Struct, frozen=True):
    """What a referral's ``Idempotency-Key`` keeps: a retry answers the candidates anew."""

    referral_id: int


def _facility(row: asyncpg.Record) -> FacilityContact | None:
    if row["facility_id"] is None:
        return None
    return FacilityContact(
        id=row["facility_id"],
        name=row["facility_name"],
        address=row["facility_address"],
        phone=row["facility_phone"],
    )


def _referral(row: asyncpg.Record) -> Referral:
    area = None
    if row["area_lat"] is not None:
        area = Area(
            lat=row["area_lat"],
            lon=row["area_lon"],
            radius_km=row["area_radius_m"] / 1000,
            description=row["area_description"],
        )
    return Referral(
        id=row["id"],
        hospital_id=row["hospital_id"],
        care_recipient_id=row["care_recipient_id"],
        status=row["status"],
        kind=row["kind"],
        discharge_date=row["discharge_date"],
        nights=row["nights"],
        preferred_area=area,
        contact=Contact(
            name=row["contact_name"],
            department=row["contact_department"],
            email=row["contact_email"],
            phone_last4=row["contact_phone_last4"],
        ),
        note=row["note"],
        hold_id=row["hold_id"],
        booking_id=row["booking_id"],
        facility=_facility(row),
        status_reason=row["status_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _check_discharge(discharge_date: date, today: date) -> None:
    if discharge_date < today:
        raise InvalidInputError.one("discharge_date", t("referral.discharge_in_past", today=today))
    if discharge_date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInputError.one(
            "discharge_date", t("referral.discharge_too_far", days=MAX_DAYS_AHEAD)
        )


def _search_params(
    referral: Referral | NewReferral, now: datetime, today: date, recipient_id: int
) -> SearchParams:
    """The search for a referral's candidates; ``today`` is the referral's (``referral_today``)."""
    nights = referral.nights
    check_in, check_out = search_window(referral.discharge_date, nights, today)
    area = referral.preferred_area
    params = SearchParams(
        check_in=check_in,
        check_out=check_out,
        kind=referral.kind,
        near=f"{area.lat},{area.lon}" if area else None,
        radius_km=area.radius_km if area else None,
        care_recipient_id=recipient_id,
        limit=CANDIDATES_SHOWN,
    )
    # Validated before anything is written: a search that cannot run is the request's fault.
    validate_query(params, now)
    return params


async def create_referral(
    deps: Deps, principal: Principal, command: CreateReferral
) -> ReferralAnswer:
    """A new referral and the candidates for it (a retry with the same key: the same one)."""
    hospital_of(principal)
    form, key, now = command.referral, command.idempotency_key, deps.clock.now()
    today = referral_today(None, now)  # placed nowhere yet
    _check_discharge(form.discharge_date, today)
    _search_params(form, now, today, 1)
    request_hash = idempotency.body_hash("referral.create", form)
    async with deps.pool.acquire() as conn, conn.transaction():
        replay = await idempotency.claim(conn, principal, key, "referral.create", request_hash)
        if replay is not None:
            referral_id = msgspec.convert(replay.response, _Created).referral_id
        else:
            referral_id = await _create(conn, deps, principal, form)
            await idempotency.remember(conn, principal, key, 201, _Created(referral_id))
    return await referral_candidates(deps, principal, referral_id)


async def _patient(
    conn: Conn, deps: Deps, principal: Principal, form: NewReferral
) -> tuple[int, bool]:
    """The patient's care recipient id (registered now if new), and whether it has a home."""
    now = deps.clock.now()
    viewer = Viewer.of(principal, now, deps.settings)
    if form.patient is not None:
        view = await insert_recipient(conn, deps.settings, principal, form.patient, now)
        recipient_id, has_home = view.id, view.home_lat is not None
    else:
        assert form.care_recipient_id is not None  # NewReferral gives one or the other
        subject = await load_subject(conn, viewer, form.care_recipient_id)
        recipient_id, has_home = subject.care_recipient_id, subject.person.home_lat is not None
        if subject.assessment is None and form.assessment is None:
            raise InvalidInputError.one(
                "assessment",
                t("referral.recipient_without_assessment", care_recipient_id=recipient_id),
            )
    if form.assessment is not None:
        await insert_assessment(conn, viewer, recipient_id, form.assessment)
    if form.kind == "home" and not has_home:
        raise InvalidInputError.one(
            "care_recipient_id",
            t("referral.recipient_without_home", care_recipient_id=recipient_id),
        )
    if form.preferred_area is None and not has_home:
        raise InvalidInputError.one("preferred_area", t("referral.area_needed"))
    return recipient_id, has_home


async def _create(conn: Conn, deps: Deps, principal: Principal, form: NewReferral) -> int:
    recipient_id, _ = await _patient(conn, deps, principal, form)
    area, contact = form.preferred_area, form.contact
    phone = normalise_phone(contact.phone) if contact.phone else None
    referral_id: int = await conn.fetchval(
        q.INSERT_REFERRAL,
        hospital_of(principal),
        recipient_id,
        form.kind,
        form.discharge_date,
        form.nights,
        area.lat if area else None,
        area.lon if area else None,
        round(area.radius_km * 1000) if area else None,
        area.description if area else "",
        contact.name.strip(),
        contact.department,
        contact.email.lower() if contact.email else None,
        # The hospital contact's phone, sealed like an elder's emergency contact's.
        cipher_for(deps.settings).encrypt("emergency_contact_phone", phone) if phone else None,
        phone[-4:] if phone else None,
        form.note,
        principal.id,
    )
    await audit.record(
        conn,
        principal,
        "create",
        "referral",
        referral_id,
        after={
            "care_recipient_id": recipient_id,
            "kind": form.kind,
            "discharge_date": form.discharge_date,
            "nights": form.nights,
        },
    )
    return referral_id


async def get_referral(deps: Deps, principal: Principal, referral_id: int) -> Referral:
    async with deps.pool.acquire() as conn:
        referral, _ = await _load(conn, principal, referral_id)
    return referral


async def referral_candidates(deps: Deps, principal: Principal, referral_id: int) -> ReferralAnswer:
    """The referral with the facilities that have a bed for the patient now, nearest first."""
    async with deps.pool.acquire() as conn:
        referral, timezone = await _load(conn, principal, referral_id)
    now = deps.clock.now()
    params = _search_params(
        referral, now, referral_today(timezone, now), referral.care_recipient_id
    )
    page = await search_availability(deps, principal, params)
    return ReferralAnswer(
        referral=referral,
        search=SearchWindow(check_in=page.check_in, check_out=page.check_out),
        candidates=rank_candidates(page),
        refused=page.refused,
        summary=page.summary,
        holds_unknown=page.holds_unknown,
    )


async def list_referrals(
    deps: Deps, principal: Principal, filters: ReferralFilter
) -> Page[Referral]:
    """The hospital's referrals by last change then id, for reconciliation."""
    settings = deps.settings
    after = paging.decode(settings, REFERRAL_PAGES, filters.cursor, _Position) or _BEFORE_ALL
    rows = await deps.pool.fetch(
        q.LIST_REFERRALS,
        hospital_of(principal),
        filters.status,
        filters.updated_since,
        after.updated_at,
        after.id,
        paging.fetch_size(filters.limit),
    )
    fetched = [_referral(row) for row in rows]
    return paging.page(
        settings, REFERRAL_PAGES, fetched, filters.limit, lambda r: _Position(r.updated_at, r.id)
    )


async def cancel_referral(deps: Deps, principal: Principal, command: CancelReferral) -> Referral:
    """The hospital no longer needs a bed: only while no booking exists (409 after that;
    cancel the booking first). A retry with the same key answers the same referral."""
    referral_id, key = command.referral_id, command.idempotency_key
    reason = command.reason.strip()
    operation = "referral.cancel"
    async with deps.pool.acquire() as conn, conn.transaction():
        if key is not None:
            request_hash = idempotency.body_hash(operation, referral_id, command.reason)
            replay = await idempotency.claim(conn, principal, key, operation, request_hash)
            if replay is not None:
                return msgspec.convert(replay.response, Referral)
        locked = await lock_referral(conn, principal, referral_id)
        step = Step(trigger="cancel", event="referral.cancelled", reason=reason)
        await change_referral(conn, principal, locked, step, deps.clock.now())
        referral, _ = await _load(conn, principal, referral_id)
        if key is not None:
            await idempotency.remember(conn, principal, key, 200, referral)
        return referral


async def _load(conn: Conn, principal: Principal, referral_id: int) -> tuple[Referral, str | None]:
    """The hospital's referral, and the timezone of the facility it is placed at, if any."""
    row = await conn.fetchrow(q.SELECT_REFERRAL, referral_id, hospital_of(principal))
    if row is None:
        raise NotFoundError("referral", referral_id)
    return _referral(row), row["timezone"]
