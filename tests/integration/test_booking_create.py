"""create_booking, the core that confirming a hold and a walk-in share, against PostgreSQL."""

from datetime import timedelta
from typing import Any

import pytest

from respite.auth.model import Principal, Role
from respite.booking.errors import IneligibleError
from respite.booking.model import Booking, NewBooking
from respite.booking.service import create_booking
from respite.eligibility import Stay
from respite.eligibility.service import Checked, check_bed
from respite.errors import ConflictError, InvalidInputError, PermissionDeniedError
from tests import builders

TODAY = builders.today()
IN, OUT = TODAY + timedelta(days=2), TODAY + timedelta(days=5)
REASON = "assessor confirmed by phone; paperwork follows"


async def principal(
    db: Any, role: Role, *, facility_id: int | None = None, hospital_id: int | None = None
) -> Principal:
    ident = await builders.principal(db, role, facility_id=facility_id, hospital_id=hospital_id)
    return Principal(
        id=ident, role=role, name=role, facility_id=facility_id, hospital_id=hospital_id
    )


def request(checked: Checked, **extra: Any) -> NewBooking:
    return NewBooking(
        care_recipient_id=checked.subject.care_recipient_id,
        bed_id=checked.bed.bed_id,
        check_in=IN,
        check_out=OUT,
        **extra,
    )


async def book(
    db: Any, caller: Principal, elder: int, bed: int, **extra: Any
) -> tuple[Checked, Booking]:
    """Check and book in one transaction, as confirming a hold does."""
    async with db.transaction():
        checked = await check_bed(db, caller, elder, bed, Stay(check_in=IN, check_out=OUT), TODAY)
        return checked, await create_booking(db, caller, request(checked, **extra), checked)


async def written(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM bookings"),
        await db.fetchval("SELECT count(*) FROM bed_nights"),
        await db.fetchval("SELECT count(*) FROM audit_log"),
    )


async def test_a_hospital_books_for_its_patient_inside_its_transaction(db: Any) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=15000)
    hospital = await builders.hospital(db)
    caller = await principal(db, "hospital", hospital_id=hospital)
    patient = await builders.recipient(db, hospital_id=hospital, level=3)
    checked, booking = await book(db, caller, patient, bed, hold_id="h-123")
    assert (booking.status, booking.nights, booking.total_price) == ("confirmed", 3, 45000)
    assert (booking.hospital_id, booking.booked_by, booking.hold_id) == (
        hospital,
        caller.id,
        "h-123",
    )
    row = await db.fetchrow(
        "SELECT policy_id, decision, override_reason FROM bookings WHERE id = $1", booking.id
    )
    assert row["policy_id"] == checked.policy.id
    assert row["decision"]["eligible"] is True and row["override_reason"] is None
    assert (
        await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking.id) == 3
    )
    entry = await db.fetchrow("SELECT action, role, after FROM audit_log WHERE entity = 'booking'")
    assert (entry["action"], entry["role"]) == ("create", "hospital")
    assert entry["after"]["hold_id"] == "h-123"


async def test_a_refusal_carries_every_reason(db: Any) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    caller = Principal(id=owner, role="family", name="family")
    elder = await builders.recipient(db, family_id=owner, level=None)  # never assessed
    before = await written(db)
    with pytest.raises(IneligibleError) as refused:
        await book(db, caller, elder, bed)
    extensions = refused.value.extensions
    assert "no_assessment" in extensions["refused"]
    assert {r["code"] for r in extensions["reasons"] if not r["ok"]} == set(extensions["refused"])
    assert extensions["policy_code"] == "cn-respite"
    assert await written(db) == before


@pytest.mark.parametrize("who", ["family", "hospital", "staff of another facility"])
async def test_only_the_beds_staff_or_an_admin_may_override(db: Any, who: str) -> None:
    facility, elsewhere = await builders.facility(db), await builders.facility(db)
    bed = await builders.bed(db, facility)
    if who == "family":
        caller = await principal(db, "family")
        elder = await builders.recipient(db, family_id=caller.id, level=0)
    elif who == "hospital":
        caller = await principal(db, "hospital", hospital_id=await builders.hospital(db))
        elder = await builders.recipient(db, hospital_id=caller.hospital_id, level=0)
    else:
        caller = await principal(db, "staff", facility_id=elsewhere)
        elder = await builders.recipient(db, facility_id=elsewhere, level=0)
    before = await written(db)
    checked = await check_bed(db, caller, elder, bed, Stay(check_in=IN, check_out=OUT), TODAY)
    assert not checked.decision.eligible
    with pytest.raises(PermissionDeniedError):
        await book(db, caller, elder, bed, override_reason=REASON)
    assert await written(db) == before


async def test_a_taken_night_is_a_conflict_and_the_rollback_leaves_nothing(db: Any) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    held = await builders.booking(db, bed, OUT - timedelta(days=1), OUT + timedelta(days=2))
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    before = await written(db)
    with pytest.raises(ConflictError) as taken:
        await book(db, caller, elder, bed)
    assert taken.value.extensions["conflicting_booking"] == held
    assert taken.value.extensions["night"] == (OUT - timedelta(days=1)).isoformat()
    assert await written(db) == before


@pytest.mark.parametrize(
    ("first", "last", "status", "refused"),
    [
        (OUT - timedelta(days=1), OUT + timedelta(days=3), "confirmed", True),  # last night
        (IN - timedelta(days=3), IN + timedelta(days=1), "checked_in", True),  # first night
        (OUT, OUT + timedelta(days=2), "confirmed", False),  # starts the morning we leave
        (IN - timedelta(days=2), IN, "confirmed", False),  # ends the day we arrive
        (IN, OUT, "cancelled", False),
        (IN, OUT, "no_show", False),
        (IN - timedelta(days=1), OUT, "checked_out", False),  # left early: nights freed
    ],
)
async def test_one_elder_takes_one_bed_a_night(
    db: Any, first: Any, last: Any, status: str, refused: bool
) -> None:
    facility = await builders.facility(db)
    bed, elsewhere = await builders.bed(db, facility), await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    await builders.booking(db, elsewhere, first, last, recipient_id=elder, status=status)
    before = await written(db)
    if not refused:
        _, booking = await book(db, caller, elder, bed)
        assert booking.status == "confirmed"
        return
    with pytest.raises(ConflictError) as taken:
        await book(db, caller, elder, bed)
    assert taken.value.extensions["conflicting_stay"] == {
        "check_in": first.isoformat(),
        "check_out": last.isoformat(),
    }
    assert await written(db) == before


async def test_it_refuses_to_run_outside_a_transaction_or_for_another_bed(db: Any) -> None:
    facility = await builders.facility(db)
    bed, other_bed = await builders.bed(db, facility), await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    checked = await check_bed(db, caller, elder, bed, Stay(check_in=IN, check_out=OUT), TODAY)
    with pytest.raises(RuntimeError, match="transaction"):
        await create_booking(db, caller, request(checked), checked)
    mismatched = NewBooking(care_recipient_id=elder, bed_id=other_bed, check_in=IN, check_out=OUT)

    async def book_mismatched() -> None:
        async with db.transaction():
            await create_booking(db, caller, mismatched, checked)

    with pytest.raises(ValueError, match="another bed"):
        await book_mismatched()
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0


async def test_an_override_reason_of_blanks_is_refused(db: Any) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility, level=0)
    before = await written(db)
    with pytest.raises(InvalidInputError) as refused:
        await book(db, caller, elder, bed, override_reason="    ok        ")
    assert refused.value.errors[0].field == "override_reason"
    assert await written(db) == before
