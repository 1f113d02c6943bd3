"""Use cases of reaching people: an elder's emergency contact, and the referring ward.

The one exception to "a phone is never answered in full" (DESIGN.md §4, invariant 6): staff
of a facility where the elder stays — the rule of who sees an elder (``eligibility.subject``):
a live stay there, one that ended at most ``staff_recent_stay_days`` ago, or the facility
registered the elder — reveal the emergency contact's whole number, one elder at a time, by a
POST that says why. Each reveal writes one audit row (who, when, which elder, the stay that
allowed it, the reason; never the number) in the transaction that reads the number, and counts
against a limit per staff member (``contact_reveal_limit`` per window). Anyone else gets 404
for an elder, as if there were none; other roles may not reveal at all (403).

The ward's contact of a referral placed with the facility (a bed held or booked there for the
hospital's patient) is a work contact the hospital gave to be called about that placement:
staff of that facility read it whole, and each page that shows numbers is audited too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from respite import audit, paging, ratelimit
from respite.auth.model import Principal
from respite.crypto import IdentifierCipher, cipher_for
from respite.desk import queries as q
from respite.desk.model import (
    EmergencyContact,
    PlacedReferral,
    ReferralListing,
    RevealContact,
    WardContact,
    refuse_other_facility,
)
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError, NotFoundError, RateLimitedError
from respite.i18n import t
from respite.paging import Page
from respite.params import MAX_ID

if TYPE_CHECKING:
    from respite.deps import Deps

__all__ = ["placed_referrals", "reveal_emergency_contact"]

REFERRAL_PAGES = "page:desk-referrals"


async def _count_reveal(deps: Deps, principal: Principal) -> None:
    """One more reveal by this staff member; refused past the limit of the window. Counted
    before the elder is looked up, so probing ids costs as much as revealing. Redis down lets
    the reveal through, as sign-in does: each reveal is audited whatever the counter says."""
    settings = deps.settings
    key = f"rl:reveal:{principal.id}"
    counts = await ratelimit.count(deps.redis, [key], settings.contact_reveal_window_seconds)
    if counts and counts[0].value > settings.contact_reveal_limit:
        wait = max(counts[0].ttl, 1)
        raise RateLimitedError(t("staff.reveal.too_many", seconds=wait), wait)


async def reveal_emergency_contact(
    deps: Deps, principal: Principal, command: RevealContact
) -> EmergencyContact:
    """The elder's emergency contact in full, for staff who see the elder; audited."""
    reason = command.reason.strip()
    if not reason:
        raise InvalidInputError.one("reason", t("staff.reveal.blank_reason"))
    await _count_reveal(deps, principal)
    now = deps.clock.now()
    params = Viewer.of(principal, now, deps.settings).params()
    elder = command.care_recipient_id
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(q.SELECT_CONTACT, elder, *params)
        if row is None:
            raise NotFoundError("care recipient", elder)
        sealed = row["emergency_contact_phone_enc"]
        phone = None
        if sealed is not None:
            phone = cipher_for(deps.settings).decrypt("emergency_contact_phone", sealed)
        await audit.record(
            conn,
            principal,
            "reveal",
            "emergency_contact",
            elder,
            facility_id=principal.facility_id,
            after={
                "booking_id": row["booking_id"],
                "reason": reason,
                "had_phone": phone is not None,
            },
        )
    return EmergencyContact(
        care_recipient_id=elder,
        name=row["emergency_contact_name"],
        phone=phone,
        booking_id=row["booking_id"],
        revealed_at=now,
    )


def _placed(row: asyncpg.Record, cipher: IdentifierCipher) -> PlacedReferral:
    sealed = row["contact_phone_enc"]
    return PlacedReferral(
        id=row["id"],
        hospital_id=row["hospital_id"],
        hospital_name=row["hospital_name"],
        care_recipient_id=row["care_recipient_id"],
        elder_name=row["elder_name"],
        status=row["status"],
        discharge_date=row["discharge_date"],
        nights=row["nights"],
        booking_id=row["booking_id"],
        contact=WardContact(
            ward=row["contact_department"],
            name=row["contact_name"],
            phone=None if sealed is None else cipher.decrypt("emergency_contact_phone", sealed),
            email=row["contact_email"],
        ),
        note=row["note"],
    )


async def placed_referrals(
    deps: Deps, principal: Principal, listing: ReferralListing
) -> Page[PlacedReferral]:
    """The referrals placed with the facility whose patient its staff see, newest first, each
    with the ward to call; a page that shows a number is audited, naming the referrals."""
    refuse_other_facility(principal, listing.facility_id)
    before = paging.decode(deps.settings, REFERRAL_PAGES, listing.cursor, int)
    params = Viewer.of(principal, deps.clock.now(), deps.settings).params()
    cipher = cipher_for(deps.settings)
    async with deps.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            q.SELECT_PLACED_REFERRALS,
            listing.facility_id,
            *params,
            MAX_ID if before is None else before,
            paging.fetch_size(listing.limit),
        )
        page = paging.page(
            deps.settings,
            REFERRAL_PAGES,
            [_placed(row, cipher) for row in rows],
            listing.limit,
            lambda r: r.id,
        )
        shown = [r.id for r in page.items if r.contact.phone is not None]
        if shown:
            await audit.record(
                conn,
                principal,
                "reveal",
                "referral_contacts",
                listing.facility_id,
                facility_id=listing.facility_id,
                after={"referral_ids": shown},
            )
    return page
