"""Examples the API reference shows for referrals: a Shanghai hospital places a patient leaving
on 4 June 2027 for two weeks of respite, and is told of each change by callbacks. Built from
the Structs themselves, so they keep their shape."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final

from msgspec.structs import replace

from respite.availability.model import FreeBed, PolicyRef
from respite.eligibility.reasons import reason
from respite.recipients.model import NewAssessment, NewCareRecipient
from respite.reference import example
from respite.referral.model import (
    Area,
    Candidate,
    CloserFacility,
    Contact,
    EventType,
    HospitalContact,
    NewReferral,
    PreferredArea,
    Referral,
    ReferralAnswer,
    SearchWindow,
)
from respite.referral.webhook_model import (
    Actor,
    Event,
    EventBed,
    EventBooking,
    EventData,
    EventHold,
    EventOffer,
)

__all__ = ["ANSWERED", "EVENTS", "REFER_A_PATIENT"]

_SHANGHAI = timezone(timedelta(hours=8))
_OPENED = datetime(2027, 6, 1, 14, 5, tzinfo=_SHANGHAI)
_DISCHARGE = date(2027, 6, 4)
_LEAVES = date(2027, 6, 18)

REFER_A_PATIENT = example(
    "Two weeks of respite after discharge on 4 June, near the patient's daughter in Xuhui",
    NewReferral(
        patient=NewCareRecipient(
            name="陈建国",
            sex="male",
            birth_date=date(1941, 3, 12),
            home_address="上海市徐汇区漕溪北路 88 弄 3 号 601 室",
            home_lat=31.1889,
            home_lon=121.4376,
            living_situation="alone",
            needs=["wheelchair", "fall_risk"],
        ),
        assessment=NewAssessment(
            total=41,
            assessor="刘护士长",
            organisation="复旦大学附属中山医院老年医学科",
            assessed_on=date(2027, 5, 28),
        ),
        discharge_date=_DISCHARGE,
        nights=14,
        preferred_area=PreferredArea(
            lat=31.1889, lon=121.4376, radius_km=5.0, description="徐汇区漕河泾街道"
        ),
        contact=HospitalContact(
            name="周晓燕",
            department="出院准备服务中心",
            phone="+86 21 6404 1990",
            email="discharge@zs-hospital.example.cn",
        ),
        note="出院后需每日两次协助站立训练。",
    ),
)

_REFERRAL = Referral(
    id=5531,
    hospital_id=3,
    care_recipient_id=4388,
    status="open",
    kind="respite",
    discharge_date=_DISCHARGE,
    nights=14,
    preferred_area=Area(lat=31.1889, lon=121.4376, radius_km=5.0, description="徐汇区漕河泾街道"),
    contact=Contact(
        name="周晓燕",
        department="出院准备服务中心",
        email="discharge@zs-hospital.example.cn",
        phone_last4="1990",
    ),
    note="出院后需每日两次协助站立训练。",
    hold_id=None,
    booking_id=None,
    facility=None,
    status_reason=None,
    created_at=_OPENED,
    updated_at=_OPENED,
)
_BED = FreeBed(
    bed_id=604,
    label="2F-04",
    sex_rule="male",
    capabilities=["wheelchair", "low_bed"],
    pressure_care_stage=2,
    nightly_price=24000,
    total_price=336000,
)
ANSWERED = example(
    "Open, with the nearest facility that has a bed the patient may take",
    ReferralAnswer(
        referral=_REFERRAL,
        search=SearchWindow(check_in=_DISCHARGE, check_out=_LEAVES),
        candidates=[
            Candidate(
                rank=1,
                facility_id=21,
                name="徐汇区漕河泾街道长者照护之家",
                distance_km=1.8,
                currency="CNY",
                policy=PolicyRef(code="cn-respite", version=1),
                price_from=24000,
                free_beds=1,
                held_beds=0,
                beds=[_BED],
                closer_not_offered=[
                    CloserFacility(
                        facility_id=23,
                        name="徐汇区田林街道综合为老服务中心",
                        distance_km=0.9,
                        reasons=[
                            reason(
                                "needs_capability_missing:wheelchair",
                                {"capability": "wheelchair", "needs": "wheelchair"},
                            )
                        ],
                    )
                ],
            )
        ],
        refused=[],
        summary=None,
        holds_unknown=False,
    ),
)

_EVENT_BED = EventBed(
    id=604, label="2F-04", facility_id=21, facility_name="徐汇区漕河泾街道长者照护之家"
)
_BOOKING = EventBooking(
    id=91877,
    status="confirmed",
    bed=_EVENT_BED,
    check_in=_DISCHARGE,
    check_out=_LEAVES,
    nights=14,
)
_HOSPITAL = Actor(party="hospital", role="hospital")
_FACILITY = Actor(party="facility", role="staff")
_NO_ONE = Actor(party="system", role=None)
_DATA = EventData(
    referral_id=5531,
    referral_status="open",
    previous_status="open",
    care_recipient_id=4388,
    actor=_HOSPITAL,
)


def _event(number: int, kind: EventType, at: datetime, data: EventData) -> Event:
    return Event(id=f"evt_5f1c0a9e2b7d4c31a8e6{number:04d}", type=kind, created_at=at, data=data)


def _booked(status: str) -> EventBooking:
    return replace(_BOOKING, status=status)


_HELD = _event(
    1,
    "referral.held",
    _OPENED + timedelta(minutes=12),
    replace(
        _DATA,
        referral_status="held",
        hold=EventHold(
            hold_id="21-9a0b7c6d5e4f3a2b1c0d",
            expires_at=_OPENED + timedelta(minutes=22),
            bed=_EVENT_BED,
            check_in=_DISCHARGE,
            check_out=_LEAVES,
        ),
    ),
)
_OFFER = EventOffer(
    offer_id=88,
    entry_id=501,
    status="open",
    deadline=_OPENED + timedelta(hours=7),
    bed=_EVENT_BED,
    check_in=_DISCHARGE,
    check_out=_LEAVES,
)
_CHANGES: Final[dict[EventType, tuple[str, Event]]] = {
    "referral.held": ("A bed was held for the patient", _HELD),
    "booking.confirmed": (
        "The hold was confirmed: a bed is booked",
        _event(
            2,
            "booking.confirmed",
            _OPENED + timedelta(minutes=15),
            replace(
                _DATA,
                referral_status="booked",
                previous_status="held",
                booking=_booked("confirmed"),
            ),
        ),
    ),
    "booking.checked_in": (
        "The patient arrived at the facility",
        _event(
            3,
            "booking.checked_in",
            datetime(2027, 6, 4, 15, 40, tzinfo=_SHANGHAI),
            replace(
                _DATA,
                referral_status="admitted",
                previous_status="booked",
                booking=_booked("checked_in"),
                actor=_FACILITY,
            ),
        ),
    ),
    "booking.checked_out": (
        "The patient left the facility",
        _event(
            4,
            "booking.checked_out",
            datetime(2027, 6, 18, 10, 5, tzinfo=_SHANGHAI),
            replace(
                _DATA,
                referral_status="completed",
                previous_status="admitted",
                booking=_booked("checked_out"),
                actor=_FACILITY,
            ),
        ),
    ),
    "booking.cancelled": (
        "The booking was cancelled: the referral is open again, pick another bed",
        _event(
            5,
            "booking.cancelled",
            _OPENED + timedelta(days=1),
            replace(
                _DATA,
                previous_status="booked",
                booking=_booked("cancelled"),
                actor=_FACILITY,
                reason="facility closed for repairs that week",
            ),
        ),
    ),
    "booking.no_show": (
        "The patient did not come: the referral is cancelled",
        _event(
            6,
            "booking.no_show",
            datetime(2027, 6, 5, 9, 0, tzinfo=_SHANGHAI),
            replace(
                _DATA,
                referral_status="cancelled",
                previous_status="booked",
                booking=_booked("no_show"),
                actor=_FACILITY,
                reason="no_show",
            ),
        ),
    ),
    "booking.changed": (
        "The stay was extended by two nights",
        _event(
            11,
            "booking.changed",
            _OPENED + timedelta(days=2),
            replace(
                _DATA,
                previous_status="booked",
                booking=replace(
                    _booked("confirmed"), check_out=_LEAVES + timedelta(days=2), nights=16
                ),
                actor=_FACILITY,
            ),
        ),
    ),
    "referral.cancelled": (
        "The hospital cancelled the referral",
        _event(
            7,
            "referral.cancelled",
            _OPENED + timedelta(hours=3),
            replace(
                _DATA,
                referral_status="cancelled",
                reason="the patient's family will care for him at home",
            ),
        ),
    ),
    "referral.expired": (
        "Nothing was booked by the discharge date",
        _event(
            8,
            "referral.expired",
            datetime(2027, 6, 5, 0, 1, tzinfo=_SHANGHAI),
            replace(
                _DATA,
                referral_status="expired",
                actor=_NO_ONE,
                reason="no booking by the discharge date",
            ),
        ),
    ),
    "waitlist.offer_made": (
        "The waiting list offers the patient a freed bed",
        _event(
            9,
            "waitlist.offer_made",
            _OPENED + timedelta(hours=5),
            replace(_DATA, actor=_NO_ONE, offer=_OFFER),
        ),
    ),
    "waitlist.offer_lapsed": (
        "The offer lapsed unaccepted",
        _event(
            10,
            "waitlist.offer_lapsed",
            _OPENED + timedelta(hours=7),
            replace(_DATA, actor=_NO_ONE, offer=replace(_OFFER, status="lapsed")),
        ),
    ),
}
EVENTS: Final = {kind: example(summary, event) for kind, (summary, event) in _CHANGES.items()}
"""One example callback body per event type."""
