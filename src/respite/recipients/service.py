"""Use cases of care recipients: create, read, list, change (assessments: ``assessments.py``).

Who owns a new care recipient follows from who creates it: a family owns the elders it
registers, a hospital its referred patients, a facility (through its staff) its walk-ins.
Admins do not create care recipients (they belong to no tenant); they may read and change any.
Reads and changes use the visibility rule of ``eligibility.subject``: another
tenant's care recipient is not found (404). Staff also see elders they do not own — while a
stay at their facility is live or recent — and may change only these fields of them:

====================================  =====  ====================  =====
what a PATCH or POST changes          owner  staff who see it but  admin
                                             do not own it
====================================  =====  ====================  =====
identity fields                       yes    no (403)              yes
home and contact fields               yes    no (403)              yes
care fields                           yes    yes                   yes
an assessment (POST .../assessments)  yes    yes                   yes
====================================  =====  ====================  =====

- identity: ``name``, ``sex``, ``birth_date``, ``national_id``;
- home and contact: ``home_address``, ``home_lat``, ``home_lon``, ``living_situation``,
  ``emergency_contact_name``, ``emergency_contact_phone`` (and any field added later);
- care (``model.CARE_FIELDS``): ``needs``, ``pressure_injury_stage``.

The owner is the family, the hospital, or staff of the facility that registered the elder
(``owner`` of the answer); only staff can see an elder they do not own. A refused patch names
every owner-only field it gives (403 ``owner-only-fields``) and changes nothing, whatever the
values: a field may not be given, even unchanged.

Identifiers are encrypted before they reach SQL, hashed (keyed) to find duplicates within the
owning tenant, and answered only as their last four characters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, NoReturn

import asyncpg
import msgspec
from msgspec import UNSET, UnsetType

from respite import audit, paging
from respite.auth.model import Principal, identifier_hash, normalise_phone
from respite.crypto import IdentifierCipher, cipher_for
from respite.db import Conn
from respite.eligibility.model import latest_date_on_earth
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from respite.i18n import t
from respite.paging import Page
from respite.recipients import queries as q
from respite.recipients.errors import DuplicateNationalIdError, OwnerOnlyFieldsError
from respite.recipients.model import (
    EARLIEST_BIRTH_DATE,
    AssessmentSummary,
    CareRecipientPatch,
    CareRecipientUpdate,
    CareRecipientView,
    NewCareRecipient,
    Owner,
    RecipientDetails,
    RecipientListing,
    apply_patch,
    date_problem,
    last4,
    normalise_national_id,
    owner_only_changes,
)
from respite.recipients.phones import contact_phone_hash
from respite.settings import Settings

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = [
    "create_recipient",
    "get_recipient",
    "insert_recipient",
    "list_recipients",
    "update_recipient",
]

RECIPIENT_PAGES = "page:care-recipients"
"""The purpose of the list's cursors (``respite.paging``): another list's never works here."""


class _Sealed(msgspec.Struct, frozen=True):
    """An identifier as stored: ciphertext, keyed hash, last four."""

    enc: bytes | None = None
    hash: bytes | None = None
    last4: str | None = None


def _seal_phone(cipher: IdentifierCipher, settings: Settings, phone: str | None) -> _Sealed:
    if phone is None:
        return _Sealed()
    plain = normalise_phone(phone)
    return _Sealed(
        cipher.encrypt("emergency_contact_phone", plain),
        contact_phone_hash(settings, plain),
        last4(plain),
    )


def _seal_national_id(cipher: IdentifierCipher, settings: Settings, value: str | None) -> _Sealed:
    if value is None:
        return _Sealed()
    plain = normalise_national_id(value)
    return _Sealed(
        cipher.encrypt("national_id", plain),
        identifier_hash(settings.secret_key, plain),
        last4(plain),
    )


def _owner_of(principal: Principal) -> Owner:
    if principal.role == "family":
        return Owner(kind="family", id=principal.id)
    if principal.role == "hospital" and principal.hospital_id is not None:
        return Owner(kind="hospital", id=principal.hospital_id)
    if principal.role == "staff" and principal.facility_id is not None:
        return Owner(kind="facility", id=principal.facility_id)
    raise PermissionDeniedError(
        t("recipient.admin_cannot_own"),
        allowed_roles=["family", "hospital", "staff"],
    )


def _owner_columns(owner: Owner) -> tuple[int | None, int | None, int | None]:
    return (
        owner.id if owner.kind == "family" else None,
        owner.id if owner.kind == "hospital" else None,
        owner.id if owner.kind == "facility" else None,
    )


def _owner_in(row: asyncpg.Record) -> Owner:
    if row["family_id"] is not None:
        return Owner(kind="family", id=row["family_id"])
    if row["hospital_id"] is not None:
        return Owner(kind="hospital", id=row["hospital_id"])
    return Owner(kind="facility", id=row["facility_id"])


def _facility_of(owner: Owner) -> int | None:
    return owner.id if owner.kind == "facility" else None


def _check_birth_date(birth_date: date, now: datetime) -> None:
    # No facility decides an elder's dates: a birth date is refused only if it is in the
    # future everywhere on Earth.
    problem = date_problem(birth_date, latest_date_on_earth(now), not_before=EARLIEST_BIRTH_DATE)
    if problem is not None:
        raise InvalidInputError.one("birth_date", problem)


async def _raise_duplicate(conn: Conn, national_id_hash: bytes | None, owner: Owner) -> NoReturn:
    existing = await conn.fetchval(q.SELECT_DUPLICATE, national_id_hash, *_owner_columns(owner))
    assert existing is not None, "a unique index refused the row but no duplicate is found"
    raise DuplicateNationalIdError(care_recipient_id=existing)


def _details(row: asyncpg.Record) -> RecipientDetails:
    return RecipientDetails(
        name=row["name"],
        sex=row["sex"],
        birth_date=row["birth_date"],
        home_address=row["home_address"],
        home_lat=row["home_lat"],
        home_lon=row["home_lon"],
        living_situation=row["living_situation"],
        needs=list(row["needs"]),
        pressure_injury_stage=row["pressure_injury_stage"],
        emergency_contact_name=row["emergency_contact_name"],
    )


def _view(row: asyncpg.Record) -> CareRecipientView:
    latest = None
    if row["assessment_id"] is not None:
        latest = AssessmentSummary(
            id=row["assessment_id"],
            level=row["level"],
            assessed_on=row["assessed_on"],
            valid_until=row["valid_until"],
        )
    return CareRecipientView(
        id=row["id"],
        owner=_owner_in(row),
        **msgspec.structs.asdict(_details(row)),
        emergency_contact_phone_last4=row["emergency_contact_phone_last4"],
        national_id_last4=row["national_id_last4"],
        latest_assessment=latest,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create_recipient(
    deps: Deps, principal: Principal, form: NewCareRecipient
) -> CareRecipientView:
    """Register an elder owned by the principal's tenant; 409 on a national ID it already has."""
    async with deps.pool.acquire() as conn, conn.transaction():
        return await insert_recipient(conn, deps.settings, principal, form, deps.clock.now())


async def insert_recipient(
    conn: Conn, settings: Settings, principal: Principal, form: NewCareRecipient, now: datetime
) -> CareRecipientView:
    """``create_recipient`` inside the CALLER's transaction (a referral registers its patient
    with the referral); on an error the caller rolls back."""
    owner = _owner_of(principal)
    _check_birth_date(form.birth_date, now)
    cipher = cipher_for(settings)
    phone = _seal_phone(cipher, settings, form.emergency_contact_phone)
    national = _seal_national_id(cipher, settings, form.national_id)
    fields = {name: getattr(form, name) for name in RecipientDetails.__struct_fields__}
    details = RecipientDetails(**{**fields, "needs": sorted(set(form.needs))})
    sealed = (phone.enc, phone.last4, national.enc, national.hash, national.last4)
    row = await conn.fetchrow(
        q.INSERT_RECIPIENT,
        *_owner_columns(owner),
        *msgspec.structs.astuple(details),
        *sealed,
        principal.id,
        phone.hash,
    )
    if row is None:
        await _raise_duplicate(conn, national.hash, owner)
    view = CareRecipientView(
        id=row["id"],
        owner=owner,
        **msgspec.structs.asdict(details),
        emergency_contact_phone_last4=phone.last4,
        national_id_last4=national.last4,
        latest_assessment=None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    facility_id = _facility_of(owner)
    await audit.record(
        conn,
        principal,
        "create",
        "care_recipient",
        view.id,
        facility_id=facility_id,
        after=view,
    )
    return view


async def get_recipient(
    deps: Deps, principal: Principal, care_recipient_id: int
) -> CareRecipientView:
    viewer = Viewer.of(principal, deps.clock.now(), deps.settings)
    row = await deps.pool.fetchrow(q.SELECT_RECIPIENT, care_recipient_id, *viewer.params())
    if row is None:
        raise NotFoundError("care recipient", care_recipient_id)
    return _view(row)


async def list_recipients(
    deps: Deps, principal: Principal, listing: RecipientListing
) -> Page[CareRecipientView]:
    """The care recipients the principal may see, in id order, ``limit`` at a time."""
    after = paging.decode(deps.settings, RECIPIENT_PAGES, listing.cursor, int) or 0
    params = Viewer.of(principal, deps.clock.now(), deps.settings).params()
    rows = await deps.pool.fetch(
        q.SELECT_RECIPIENTS, after, *params, paging.fetch_size(listing.limit)
    )
    fetched = [_view(row) for row in rows]
    return paging.page(deps.settings, RECIPIENT_PAGES, fetched, listing.limit, lambda v: v.id)


class _IdentifierChange(msgspec.Struct, frozen=True):
    """Which identifiers a patch rewrites (null clears one), sealed for storage."""

    phone_given: bool
    phone: _Sealed
    national_given: bool
    national: _Sealed


def _identifier_change(settings: Settings, patch: CareRecipientPatch) -> _IdentifierChange:
    cipher = cipher_for(settings)
    phone = (
        None
        if isinstance(patch.emergency_contact_phone, UnsetType)
        else patch.emergency_contact_phone
    )
    national = None if isinstance(patch.national_id, UnsetType) else patch.national_id
    return _IdentifierChange(
        phone_given=patch.emergency_contact_phone is not UNSET,
        phone=_seal_phone(cipher, settings, phone),
        national_given=patch.national_id is not UNSET,
        national=_seal_national_id(cipher, settings, national),
    )


async def _write_update(
    conn: Conn, row: asyncpg.Record, after: RecipientDetails, change: _IdentifierChange
) -> None:
    try:
        # A savepoint: a duplicate national ID must leave the transaction usable to name the
        # care recipient that already has it.
        async with conn.transaction():
            await conn.execute(
                q.UPDATE_RECIPIENT,
                row["id"],
                *msgspec.structs.astuple(after),
                change.phone_given,
                change.phone.enc,
                change.phone.last4,
                change.national_given,
                change.national.enc,
                change.national.hash,
                change.national.last4,
                change.phone.hash,
            )
    except asyncpg.UniqueViolationError:
        await _raise_duplicate(conn, change.national.hash, _owner_in(row))


def _refuse_owner_only(principal: Principal, owner: Owner, patch: CareRecipientPatch) -> None:
    if principal.role == "admin" or _owner_of(principal) == owner:
        return
    refused = owner_only_changes(patch)
    if refused:
        raise OwnerOnlyFieldsError(fields=refused, owner=owner.kind)


async def update_recipient(
    deps: Deps, principal: Principal, update: CareRecipientUpdate
) -> CareRecipientView:
    """Change the given fields; the audit log keeps the state before (identifiers as last 4).

    NotFoundError for an elder the principal does not see; OwnerOnlyFieldsError for fields
    only the owner may change (the module's table)."""
    care_recipient_id, patch = update.care_recipient_id, update.changes
    now = deps.clock.now()
    if isinstance(patch.birth_date, date):
        _check_birth_date(patch.birth_date, now)
    change = _identifier_change(deps.settings, patch)
    params = Viewer.of(principal, now, deps.settings).params()
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.SELECT_RECIPIENT_FOR_UPDATE, care_recipient_id, *params)
        if row is None:
            raise NotFoundError("care recipient", care_recipient_id)
        _refuse_owner_only(principal, _owner_in(row), patch)
        before = _details(row)
        after = apply_patch(before, patch)
        await _write_update(conn, row, after, change)
        updated = await conn.fetchrow(q.SELECT_RECIPIENT, care_recipient_id, *params)
        assert updated is not None  # locked by this transaction since it was read
        view = _view(updated)
        shown_before = {
            **msgspec.structs.asdict(before),
            "emergency_contact_phone_last4": row["emergency_contact_phone_last4"],
            "national_id_last4": row["national_id_last4"],
        }
        await audit.record(
            conn,
            principal,
            "update",
            "care_recipient",
            care_recipient_id,
            facility_id=_facility_of(view.owner),
            before=shown_before,
            after=view,
        )
    return view
