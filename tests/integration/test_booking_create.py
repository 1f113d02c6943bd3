"""book(), the one booking rule that confirming a hold and a walk-in share, against PostgreSQL."""

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from respite.auth.model import Principal, Role
from respite.booking.book import book
from respite.booking.errors import (
    BedTakenError,
    ElderAlreadyStayingError,
    IneligibleError,
)
from respite.booking.events import BookingChange
from respite.booking.model import Booking
from respite.booking.model import NewBooking as Request
from respite.clock import ManualClock
from respite.db import Conn
from respite.eligibility import Stay
from respite.eligibility.errors import NoPolicyInForceError
from respite.eligibility.overrides import Override
from respite.eligibility.service import check_bed
from respite.eligibility.subject import Viewer
from respite.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from respite.i18n import t
from respite.settings import Settings
from tests import builders

REASON = "assessor confirmed by phone; paperwork follows"
# book() reads only staff_recent_stay_days of the settings: the default serves.
DEFAULTS = Settings()


class Stays(msgspec.Struct, frozen=True):
    today: date
    check_in: date
    check_out: date


@pytest.fixture
def stays() -> Stays:
    today = builders.today()
    return Stays(today, today + timedelta(days=2), today + timedelta(days=5))


class Recorder:
    """A listener that remembers what it was told."""

    def __init__(self) -> None:
        self.changes: list[BookingChange] = []

    async def hold_requested(self, *_: Any) -> None:
        raise AssertionError("book() places no hold")

    async def hold_placed(self, *_: Any) -> None:
        raise AssertionError("book() places no hold")

    async def booking_changed(self, conn: Conn, change: BookingChange) -> None:
        assert conn.is_in_transaction()
        self.changes.append(change)


async def principal(
    db: Any, role: Role, *, facility_id: int | None = None, hospital_id: int | None = None
) -> Principal:
    ident = await builders.principal(db, role, facility_id=facility_id, hospital_id=hospital_id)
    return Principal(
        id=ident, role=role, name=role, facility_id=facility_id, hospital_id=hospital_id
    )


async def book_in_transaction(
    db: Any,
    clock: ManualClock,
    stays: Stays,
    caller: Principal,
    elder: int,
    bed: int,
    listener: Recorder | None = None,
    **extra: Any,
) -> Booking:
    request = Request(
        care_recipient_id=elder,
        bed_id=bed,
        check_in=stays.check_in,
        check_out=stays.check_out,
        **extra,
    )
    async with db.transaction():
        listeners = [listener] if listener else []
        return await book(
            db, caller, request, now=clock.now(), settings=DEFAULTS, listeners=listeners
        )


async def written(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM bookings"),
        await db.fetchval("SELECT count(*) FROM bed_nights"),
        await db.fetchval("SELECT count(*) FROM audit_log"),
    )


async def test_a_hospital_books_for_its_patient_and_listeners_are_told(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=15000)
    hospital = await builders.hospital(db)
    caller = await principal(db, "hospital", hospital_id=hospital)
    patient = await builders.recipient(db, hospital_id=hospital, level=3)
    recorder = Recorder()
    booking = await book_in_transaction(
        db, clock, stays, caller, patient, bed, recorder, hold_id="h-123", referral_id=77
    )
    assert (booking.status, booking.nights, booking.total_price) == ("confirmed", 3, 45000)
    assert (booking.hospital_id, booking.booked_by, booking.hold_id) == (
        hospital,
        caller.id,
        "h-123",
    )
    row = await db.fetchrow(
        "SELECT policy_id, decision, override_reason FROM bookings WHERE id = $1", booking.id
    )
    policy = await db.fetchval("SELECT id FROM policies WHERE code = 'cn-respite'")
    assert row["policy_id"] == policy
    assert row["decision"]["eligible"] is True and row["override_reason"] is None
    assert (
        await db.fetchval("SELECT count(*) FROM bed_nights WHERE booking_id = $1", booking.id) == 3
    )
    entry = await db.fetchrow("SELECT action, role, after FROM audit_log WHERE entity = 'booking'")
    assert (entry["action"], entry["role"]) == ("create", "hospital")
    assert entry["after"]["hold_id"] == "h-123"
    assert recorder.changes == [
        BookingChange(booking=booking, event="booking.confirmed", principal=caller, referral_id=77)
    ]


async def test_a_listener_that_refuses_rolls_everything_back(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    class Refuser(Recorder):
        async def booking_changed(self, conn: Conn, change: BookingChange) -> None:
            raise InvalidInputError.one("referral_id", t("input.invalid"))

    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    before = await written(db)
    with pytest.raises(InvalidInputError):
        await book_in_transaction(db, clock, stays, caller, elder, bed, Refuser())
    assert await written(db) == before


async def test_a_refusal_carries_every_reason(db: Any, clock: ManualClock, stays: Stays) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    caller = Principal(id=owner, role="family", name="family")
    elder = await builders.recipient(db, family_id=owner, level=None)  # never assessed
    before = await written(db)
    with pytest.raises(IneligibleError) as refused:
        await book_in_transaction(db, clock, stays, caller, elder, bed)
    extensions = refused.value.extensions
    assert "no_assessment" in extensions["refused"]
    assert {r["code"] for r in extensions["reasons"] if not r["ok"]} == set(extensions["refused"])
    assert extensions["policy_code"] == "cn-respite"
    assert await written(db) == before


@pytest.mark.parametrize("who", ["family", "hospital", "staff of another facility"])
async def test_only_the_beds_staff_or_an_admin_may_override(
    db: Any, clock: ManualClock, stays: Stays, who: str
) -> None:
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
    stay = Stay(check_in=stays.check_in, check_out=stays.check_out)
    viewer = Viewer.of(caller, clock.now(), DEFAULTS)
    checked = await check_bed(db, viewer, elder, bed, stay, stays.today)
    assert not checked.decision.eligible
    overriding = (Override(code="level_not_eligible"),)
    # Staff place an elder only at their own facility: elsewhere the elder is not found.
    refusal = NotFoundError if who == "staff of another facility" else PermissionDeniedError
    with pytest.raises(refusal):
        await book_in_transaction(
            db, clock, stays, caller, elder, bed, override_reason=REASON, overrides=overriding
        )
    assert await written(db) == before


async def test_a_taken_night_is_a_conflict_and_the_rollback_leaves_nothing(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    night = stays.check_out - timedelta(days=1)
    held = await builders.booking(db, bed, night, stays.check_out + timedelta(days=2))
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    before = await written(db)
    with pytest.raises(BedTakenError) as taken:
        await book_in_transaction(db, clock, stays, caller, elder, bed)
    assert taken.value.extensions == {
        "bed_id": bed,
        "night": night.isoformat(),
        "conflicting_booking": held,
        "conflicting_block": None,
    }
    assert await written(db) == before


@pytest.mark.parametrize(
    ("first", "last", "status", "refused"),
    [
        (4, 8, "confirmed", True),  # the last night
        (-1, 3, "checked_in", True),  # the first night
        (5, 7, "confirmed", False),  # starts the morning we leave
        (0, 2, "confirmed", False),  # ends the day we arrive
        (2, 5, "cancelled", False),
        (2, 5, "no_show", False),
        (1, 5, "checked_out", False),  # left early: nights freed
    ],
)
async def test_one_elder_takes_one_bed_a_night(
    db: Any, clock: ManualClock, stays: Stays, first: int, last: int, status: str, refused: bool
) -> None:
    facility = await builders.facility(db)
    bed, elsewhere = await builders.bed(db, facility), await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    other_in, other_out = stays.today + timedelta(first), stays.today + timedelta(last)
    await builders.booking(db, elsewhere, other_in, other_out, recipient_id=elder, status=status)
    before = await written(db)
    if not refused:
        booking = await book_in_transaction(db, clock, stays, caller, elder, bed)
        assert booking.status == "confirmed"
        return
    with pytest.raises(ElderAlreadyStayingError) as taken:
        await book_in_transaction(db, clock, stays, caller, elder, bed)
    assert taken.value.extensions == {
        "care_recipient_id": elder,
        "conflicting_stay": {"check_in": other_in.isoformat(), "check_out": other_out.isoformat()},
    }
    assert await written(db) == before


async def test_it_refuses_to_run_outside_a_transaction(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    request = Request(
        care_recipient_id=elder, bed_id=bed, check_in=stays.check_in, check_out=stays.check_out
    )
    with pytest.raises(RuntimeError, match="transaction"):
        await book(db, caller, request, now=clock.now(), settings=DEFAULTS, listeners=[])
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0


async def test_an_override_reason_of_blanks_is_refused(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility, level=0)
    before = await written(db)
    with pytest.raises(InvalidInputError) as refused:
        await book_in_transaction(
            db,
            clock,
            stays,
            caller,
            elder,
            bed,
            override_reason="    ok        ",
            overrides=(Override(code="level_not_eligible"),),
        )
    assert refused.value.errors[0].field == "override_reason"
    assert await written(db) == before


async def test_an_override_reason_names_the_rules_it_overrides(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility, level=None)
    before = await written(db)
    with pytest.raises(InvalidInputError) as refused:
        await book_in_transaction(db, clock, stays, caller, elder, bed, override_reason=REASON)
    assert refused.value.errors[0].field == "overrides"
    assert await written(db) == before
    booking = await book_in_transaction(
        db,
        clock,
        stays,
        caller,
        elder,
        bed,
        override_reason=REASON,
        overrides=(Override(code="no_assessment"),),
    )
    assert (booking.override_reason, booking.overrides) == (
        REASON,
        (Override(code="no_assessment"),),
    )


async def test_a_retired_bed_is_not_found(db: Any, clock: ManualClock, stays: Stays) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    await db.execute("UPDATE beds SET retired_at = now(), active = false WHERE id = $1", bed)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    with pytest.raises(NotFoundError) as missing:
        await book_in_transaction(db, clock, stays, caller, elder, bed)
    assert missing.value.extensions == {"entity": "bed"}


async def test_a_facility_without_a_policy_in_force_is_named(
    db: Any, clock: ManualClock, stays: Stays
) -> None:
    facility = await builders.facility(db, respite_policy_code="nowhere-respite")
    bed = await builders.bed(db, facility)
    caller = await principal(db, "admin")
    elder = await builders.recipient(db, facility_id=facility)
    before = await written(db)
    with pytest.raises(NoPolicyInForceError) as missing:
        await book_in_transaction(db, clock, stays, caller, elder, bed)
    assert missing.value.extensions == {
        "policy_code": "nowhere-respite",
        "on": stays.check_in.isoformat(),
    }
    assert await written(db) == before
