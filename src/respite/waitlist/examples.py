"""Examples the API reference shows for the waiting list: a daughter puts her mother on the
list for respite beds in Xuhui for a week in May 2027, is offered a bed, and accepts it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from respite.i18n import t
from respite.inventory.profile import FacilityContact
from respite.reference import example
from respite.waitlist.model import Entry, JoinRequest, Offer

__all__ = ["JOIN_BY_FACILITIES", "JOIN_BY_PLACE", "OFFERED", "WAITING"]

_SHANGHAI = timezone(timedelta(hours=8))
_JOINED = datetime(2027, 4, 20, 9, 30, tzinfo=_SHANGHAI)
_MADE = datetime(2027, 4, 28, 10, 0, tzinfo=_SHANGHAI)
_DEADLINE = datetime(2027, 4, 28, 22, 0, tzinfo=_SHANGHAI)
_FACILITY = FacilityContact(
    id=17,
    name="徐汇区天平路街道长者照护之家",
    address="上海市徐汇区天平路 320 号",
    phone="021-6431 2200",
)

JOIN_BY_PLACE = example(
    "Wait for a respite bed near a street, a week within May",
    JoinRequest(
        care_recipient_id=4021,
        kind="respite",
        earliest_check_in=date(2027, 5, 1),
        latest_check_out=date(2027, 5, 31),
        nights=7,
        min_nights=5,
        place="天平路街道",
        radius_km=3.0,
    ),
)
JOIN_BY_FACILITIES = example(
    "Wait at two named facilities, after a hospital stay",
    JoinRequest(
        care_recipient_id=4021,
        kind="respite",
        earliest_check_in=date(2027, 5, 1),
        latest_check_out=date(2027, 5, 15),
        nights=7,
        facility_ids=[17, 23],
        discharged_on=date(2027, 4, 30),
    ),
)
_OFFER = Offer(
    id=88,
    entry_id=501,
    status="open",
    facility=_FACILITY,
    facility_id=17,
    bed_id=312,
    bed_label="3F-12",
    care_recipient_id=4021,
    check_in=date(2027, 5, 3),
    check_out=date(2027, 5, 10),
    nights=7,
    nightly_price=32000,
    total_price=224000,
    made_at=_MADE,
    deadline=_DEADLINE,
    deadline_local=t("waitlist.deadline", at=_DEADLINE),
    seconds_left=43200,
    booking_id=None,
    ended_at=None,
)
WAITING = example(
    "Waiting, third in line",
    Entry(
        id=501,
        status="waiting",
        care_recipient_id=4021,
        kind="respite",
        facility_ids=[17, 23],
        earliest_check_in=date(2027, 5, 1),
        latest_check_out=date(2027, 5, 15),
        nights=7,
        min_nights=7,
        discharged_on=date(2027, 4, 30),
        referral_id=None,
        priority="recent_discharge",
        priority_words=t("waitlist.priority.discharged_within", days=14),
        position=3,
        joined_at=_JOINED,
        ended_at=None,
        booking_id=None,
        offer=None,
        passes=[],
    ),
)
OFFERED = example("A bed offered until 22:00", _OFFER)
