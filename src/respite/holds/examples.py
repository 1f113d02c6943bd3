"""Examples the API reference shows for holds: a family in Shanghai holds a bed for a week in
May 2027 and confirms it. Built from the Structs themselves, so they keep their shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from respite.booking.model import Booking
from respite.holds.model import HeldBed, Hold, HoldExtended, HoldRequest, HoldTokenBody
from respite.inventory.profile import FacilityContact
from respite.reference import example

FACILITY_17 = FacilityContact(
    id=17,
    name="徐汇区天平路街道长者照护之家",
    address="上海市徐汇区天平路 320 号",
    phone="021-6431 2200",
)

__all__ = ["CONFIRM", "CONFIRMED", "EXTENDED", "HELD", "HOLD_A_BED", "HOLD_IN_A_FACILITY"]

_SHANGHAI = timezone(timedelta(hours=8))
_PLACED = datetime(2027, 4, 28, 10, 0, tzinfo=_SHANGHAI)
_TOKEN = (
    "WzE3LTNmOWMyYTdiNDFkMDVlNmM4YTkyLDE3LDMxMiw0MDIxXQ.h7Kq2v9cXb1mRrT0eYw4sQk8uNfLzA3pGdJ5oVi6"
)
_BED = HeldBed(id=312, label="3F-12", facility_id=17, kind="respite")

HOLD_A_BED = example(
    "Hold bed 3F-12 for a week",
    HoldRequest(
        care_recipient_id=4021, check_in=date(2027, 5, 1), check_out=date(2027, 5, 8), bed_id=312
    ),
)
HOLD_IN_A_FACILITY = example(
    "Let the facility's tightest free respite bed be picked",
    HoldRequest(
        care_recipient_id=4021,
        check_in=date(2027, 5, 1),
        check_out=date(2027, 5, 8),
        facility_id=17,
        kind="respite",
    ),
)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


HELD = example(
    "Bed 3F-12 held for 10 minutes at 280 yuan a night",
    Hold(
        hold_id="17-3f9c2a7b41d05e6c8a92",
        token=_TOKEN,
        expires_at=_utc(_PLACED + timedelta(seconds=600)),
        seconds_left=600,
        max_expires_at=_utc(_PLACED + timedelta(seconds=1800)),
        extensions_left=2,
        bed=_BED,
        care_recipient_id=4021,
        check_in=date(2027, 5, 1),
        check_out=date(2027, 5, 8),
        nights=7,
        nightly_price=28000,
        total_price=196000,
    ),
)
CONFIRM = example("The hold's token", HoldTokenBody(token=_TOKEN))
EXTENDED = example(
    "Ten more minutes, one extension left",
    HoldExtended(
        hold_id="17-3f9c2a7b41d05e6c8a92",
        expires_at=_utc(_PLACED + timedelta(seconds=1200)),
        seconds_left=900,
        max_expires_at=_utc(_PLACED + timedelta(seconds=1800)),
        extensions_left=1,
    ),
)
_BOOKED_AT = _PLACED + timedelta(minutes=3)
CONFIRMED = example(
    "A week in 3F-12, booked",
    Booking(
        id=90512,
        bed_id=312,
        bed_label="3F-12",
        facility_id=17,
        facility=FACILITY_17,
        care_recipient_id=4021,
        check_in=date(2027, 5, 1),
        check_out=date(2027, 5, 8),
        nights=7,
        status="confirmed",
        nightly_price=28000,
        total_price=196000,
        currency="CNY",
        policy_code="cn-respite",
        policy_version=1,
        override_reason=None,
        overrides=(),
        hold_id="17-3f9c2a7b41d05e6c8a92",
        hospital_id=None,
        booked_by=2210,
        created_at=_BOOKED_AT,
        updated_at=_BOOKED_AT,
        checked_in_at=None,
        checked_out_at=None,
        cancelled_at=None,
        cancel_reason=None,
    ),
)
