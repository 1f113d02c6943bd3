"""The pure rules of referrals: the life cycle, what a request must carry, the stay searched,
the ranking of candidates with the closer facilities not offered, and hold tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from respite.availability.model import (
    Alternative,
    AvailabilityPage,
    ExcludedFacility,
    FacilityBeds,
    PolicyRef,
)
from respite.eligibility.model import Reason
from respite.holds.token import PURPOSE, HoldToken, read_token, sign_token
from respite.i18n import t
from respite.referral.model import (
    STATUSES,
    IllegalReferralTransition,
    NewReferral,
    advance,
    rank_candidates,
    search_window,
)
from respite.signing import Signer

LEGAL = {
    ("open", "hold"): "held",
    ("open", "confirm"): "booked",
    ("open", "cancel"): "cancelled",
    ("open", "expire"): "expired",
    ("held", "hold"): "held",
    ("held", "confirm"): "booked",
    ("held", "cancel"): "cancelled",
    ("held", "expire"): "expired",
    ("booked", "check_in"): "admitted",
    ("booked", "no_show"): "cancelled",
    ("booked", "booking_cancelled"): "open",
    ("admitted", "check_out"): "completed",
    # A stay changed (extended, shortened, moved): the referral stays where it is.
    ("booked", "change"): "booked",
    ("admitted", "change"): "admitted",
}
TRIGGERS = (
    "hold",
    "confirm",
    "check_in",
    "check_out",
    "no_show",
    "booking_cancelled",
    "cancel",
    "expire",
    "change",
)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_status_and_trigger(status: Any, trigger: Any) -> None:
    expected = LEGAL.get((status, trigger))
    if expected is None:
        with pytest.raises(IllegalReferralTransition, match=f"is {status}") as refused:
            advance(status, trigger)
        allowed = sorted(t for (s, t) in LEGAL if s == status)
        assert sorted(refused.value.allowed) == allowed
    else:
        assert advance(status, trigger) == expected


def test_final_states_allow_nothing() -> None:
    for status in ("completed", "cancelled", "expired"):
        with pytest.raises(IllegalReferralTransition, match="nothing"):
            advance(status, "hold")


BASE: dict[str, Any] = {
    "care_recipient_id": 7,
    "discharge_date": "2030-03-01",
    "nights": 7,
    "contact": {"name": "Nurse Zhou"},
}
PATIENT = {"name": "王秀英", "sex": "female", "birth_date": "1940-05-01"}
ASSESSMENT = {"total": 50, "assessor": "a", "organisation": "b", "assessed_on": "2030-02-20"}


def decode(**change: Any) -> NewReferral:
    body = {k: v for k, v in {**BASE, **change}.items() if v is not ...}
    return msgspec.json.decode(msgspec.json.encode(body), type=NewReferral, strict=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"patient": PATIENT, "assessment": ASSESSMENT}, "patient: give the patient"),
        ({"care_recipient_id": ...}, "patient: give the patient"),
        ({"care_recipient_id": ..., "patient": PATIENT}, "assessment: a new patient"),
        ({"nights": None}, "nights: a respite stay needs"),
        ({"nights": 91}, "nights: a respite stay is at most 90"),
        ({"nights": 367, "kind": "home"}, "<= 366"),
        ({"nights": 0}, ">= 1"),
        (
            {
                "care_recipient_id": ...,
                "patient": PATIENT,
                "assessment": ASSESSMENT,
                "kind": "home",
            },
            "patient: a home-care bed",
        ),
        ({"contact": {"name": " "}}, "name: must not be blank"),
        ({"contact": {"name": "Zhou", "phone": "abc"}}, "contact.phone"),
        ({"preferred_area": {"lat": 31.2, "lon": 181}}, "preferred_area.lon"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_a_request_is_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode(**change)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"kind": "home", "nights": None},
        {"kind": "home", "nights": 366},
        {"nights": 90, "preferred_area": {"lat": 31.2, "lon": 121.4, "radius_km": 50}},
        {
            "care_recipient_id": ...,
            "patient": {**PATIENT, "home_lat": 31.2, "home_lon": 121.4},
            "assessment": ASSESSMENT,
            "kind": "home",
            "nights": None,
        },
    ],
)
def test_valid_requests(change: dict[str, Any]) -> None:
    assert decode(**change).discharge_date == date(2030, 3, 1)


@pytest.mark.parametrize(
    ("discharge", "nights", "today", "window"),
    [
        (date(2030, 3, 1), 7, date(2030, 2, 1), (date(2030, 3, 1), date(2030, 3, 8))),
        (date(2030, 3, 1), None, date(2030, 2, 1), (date(2030, 3, 1), date(2030, 3, 31))),
        # Once discharge has passed, the search starts today, for as many nights.
        (date(2030, 3, 1), 7, date(2030, 3, 5), (date(2030, 3, 5), date(2030, 3, 12))),
    ],
)
def test_the_stay_searched(
    discharge: date, nights: int | None, today: date, window: tuple[date, date]
) -> None:
    assert search_window(discharge, nights, today) == window


POLICY = PolicyRef(code="cn-respite", version=1)


def reason(code: str, ok: bool = False) -> Reason:
    return Reason(code=code, ok=ok, message=t("reason.no_assessment"), figures={})


def offered(facility_id: int, km: float | None) -> FacilityBeds:
    return FacilityBeds(
        facility_id=facility_id,
        name=f"F{facility_id}",
        distance_km=km,
        currency="CNY",
        policy=POLICY,
        price_from=100,
        free_beds=1,
        held_beds=0,
        beds=[],
    )


def excluded(facility_id: int, km: float | None, *codes: str) -> ExcludedFacility:
    return ExcludedFacility(
        facility_id=facility_id,
        name=f"F{facility_id}",
        distance_km=km,
        policy=POLICY,
        reasons=[reason(c) for c in codes] + [reason("level_eligible", ok=True)],
    )


def page(
    facilities: list[FacilityBeds],
    excluded_: list[ExcludedFacility],
    alternatives: list[Alternative] | None = None,
) -> AvailabilityPage:
    return AvailabilityPage(
        check_in=date(2030, 3, 1),
        check_out=date(2030, 3, 8),
        nights=7,
        kind="respite",
        sort="distance",
        facilities=facilities,
        excluded=excluded_,
        alternatives=alternatives or [],
    )


def test_each_candidate_lists_only_the_facilities_closer_than_itself() -> None:
    ranked = rank_candidates(
        page(
            [offered(10, 2.0), offered(11, 5.0)],
            [excluded(1, 1.0, "sex_rule"), excluded(2, 3.0, "needs_capability_missing:oxygen")],
        )
    )
    assert [(c.rank, c.facility_id) for c in ranked] == [(1, 10), (2, 11)]
    assert [f.facility_id for f in ranked[0].closer_not_offered] == [1]
    assert [f.facility_id for f in ranked[1].closer_not_offered] == [1, 2]
    assert [r.code for r in ranked[1].closer_not_offered[1].reasons] == [
        "needs_capability_missing:oxygen"
    ]  # only the refusing reasons


def test_a_closer_facility_full_for_these_nights_says_when_it_is_free() -> None:
    shifted = Alternative(
        facility_id=3,
        name="F3",
        distance_km=0.5,
        currency="CNY",
        policy=POLICY,
        check_in=date(2030, 3, 3),
        check_out=date(2030, 3, 10),
        shift_days=2,
        free_beds=1,
        beds=[],
    )
    (candidate,) = rank_candidates(page([offered(10, 2.0)], [], [shifted]))
    (full,) = candidate.closer_not_offered
    assert full.facility_id == 3
    assert full.reasons[0].code == "no_free_bed_for_stay"
    assert full.reasons[0].figures == {"check_in": "2030-03-03", "shift_days": 2}


def test_without_a_distance_every_facility_not_offered_is_listed() -> None:
    (candidate,) = rank_candidates(page([offered(10, None)], [excluded(1, 4.0, "sex_rule")]))
    assert [f.facility_id for f in candidate.closer_not_offered] == [1]
    assert rank_candidates(page([], [excluded(1, 4.0, "sex_rule")])) == []


def test_hold_tokens_carry_the_referral_and_older_tokens_no_longer_read() -> None:
    token = HoldToken(
        hold_id="3-" + "a" * 20,
        facility_id=3,
        bed_id=12,
        care_recipient_id=310,
        check_in=date(2030, 3, 1),
        check_out=date(2030, 3, 8),
        principal_id=5,
        referral_id=41,
        nightly_price=30000,
        created_at=1_900_000_000.0,
    )
    assert read_token("k", sign_token("k", token)) == token
    # A token as signed before holds could name a referral (seven fields) carries neither the
    # price it showed nor its age: it confirms nothing (see test_holds_model).
    payload = msgspec.json.encode(["3-" + "a" * 20, 3, 12, 310, "2030-03-01", "2030-03-08", 5])
    assert read_token("k", Signer("k", PURPOSE).sign(payload)) is None
