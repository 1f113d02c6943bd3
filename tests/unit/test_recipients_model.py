"""The pure rules of care recipients: normalised identifiers, dates, locations, patches."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from respite.eligibility.model import earliest_date_on_earth, latest_date_on_earth
from respite.i18n import render
from respite.recipients.model import (
    CARE_FIELDS,
    CareRecipientPatch,
    NewAssessment,
    NewCareRecipient,
    RecipientDetails,
    apply_patch,
    date_problem,
    last4,
    normalise_national_id,
    owner_only_changes,
)

ELDER: dict[str, Any] = {"name": "王秀英", "sex": "female", "birth_date": "1941-03-08"}


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("110105 19491231 002x", "11010519491231002X"),
        ("110105-19491231-002x", "11010519491231002X"),
        ("ab 12-34", "AB1234"),
    ],
)
def test_national_ids_compare_normalised(given: str, normalised: str) -> None:
    assert normalise_national_id(given) == normalised
    assert last4(normalise_national_id(given)) == normalised[-4:]


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        (datetime(2026, 1, 1, 9, 59, tzinfo=UTC), date(2026, 1, 1)),
        (datetime(2026, 1, 1, 10, 0, tzinfo=UTC), date(2026, 1, 2)),
        (datetime(2026, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=8))), date(2026, 1, 2)),
    ],
)
def test_the_latest_date_on_earth_is_utc_plus_14(now: datetime, latest: date) -> None:
    assert latest_date_on_earth(now) == latest


@pytest.mark.parametrize(
    ("now", "earliest"),
    [
        (datetime(2026, 1, 1, 11, 59, tzinfo=UTC), date(2025, 12, 31)),
        (datetime(2026, 1, 1, 12, 0, tzinfo=UTC), date(2026, 1, 1)),
        (datetime(2026, 1, 1, 19, 59, tzinfo=timezone(timedelta(hours=8))), date(2025, 12, 31)),
    ],
)
def test_the_earliest_date_on_earth_is_utc_minus_12(now: datetime, earliest: date) -> None:
    assert earliest_date_on_earth(now) == earliest


@pytest.mark.parametrize(
    ("day", "not_before", "problem"),
    [
        (date(2026, 1, 1), None, None),
        (date(2026, 1, 2), None, "January 2, 2026 is in the future"),
        (date(1879, 12, 31), date(1880, 1, 1), "must not be before January 1, 1880"),
        (date(1880, 1, 1), date(1880, 1, 1), None),
    ],
)
def test_date_problem(day: date, not_before: date | None, problem: str | None) -> None:
    said = date_problem(day, date(2026, 1, 1), not_before=not_before)
    assert (None if said is None else str(said)) == problem


def test_date_problems_in_chinese() -> None:
    future = date_problem(date(2026, 1, 2), date(2026, 1, 1))
    early = date_problem(date(1879, 12, 31), date(2026, 1, 1), not_before=date(1880, 1, 1))
    assert future is not None and early is not None
    assert render(future, "zh-CN") == "2026年1月2日晚于今天"
    assert render(early, "zh-CN") == "不能早于1880年1月1日"


def decode(body: dict[str, Any], kind: type[Any] = NewCareRecipient) -> Any:
    return msgspec.json.decode(msgspec.json.encode(body), type=kind)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        # On creation a coordinate left out is null: that is the field named.
        ({"home_lat": 31.2}, "^home_lon: give home_lat and home_lon together"),
        ({"home_lon": 121.4}, "^home_lat: give"),
        ({"home_lat": 31.2, "home_lon": None}, "^home_lon: give"),
        ({"home_lat": None, "home_lon": 121.4}, "^home_lat: give"),
    ],
)
def test_half_a_location_is_refused_naming_the_field(
    location: dict[str, Any], message: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode({**ELDER, **location})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({}, "give at least one field to change"),
        # In a patch the coordinate given alone is named: the other one keeps its value.
        ({"home_lat": 31.2}, "^home_lat: give"),
        ({"home_lon": None}, "^home_lon: give"),
        ({"home_lat": 31.2, "home_lon": None}, "^home_lon: give"),
        ({"needs": ["oxygen", "oxygen"]}, "^needs: must not repeat"),
        ({"name": " "}, "^name: must not be blank"),
    ],
)
def test_invalid_patches(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode(patch, CareRecipientPatch)


DETAILS = RecipientDetails(
    name="王秀英",
    sex="female",
    birth_date=date(1941, 3, 8),
    home_address="天平路",
    home_lat=31.2,
    home_lon=121.44,
    living_situation="alone",
    needs=["dementia"],
    pressure_injury_stage=1,
    emergency_contact_name="李明",
)


@pytest.mark.parametrize(
    ("patch", "changed"),
    [
        ({"name": "王桂英"}, {"name": "王桂英"}),
        ({"home_lat": None, "home_lon": None}, {"home_lat": None, "home_lon": None}),
        ({"needs": ["wheelchair", "dementia"]}, {"needs": ["dementia", "wheelchair"]}),
        ({"needs": []}, {"needs": []}),
        ({"national_id": "310101195001010011"}, {}),
        ({"emergency_contact_phone": None}, {}),
    ],
)
def test_a_patch_changes_only_what_it_gives(patch: dict[str, Any], changed: dict[str, Any]) -> None:
    after = apply_patch(DETAILS, decode(patch, CareRecipientPatch))
    assert after == msgspec.structs.replace(DETAILS, **changed)


@pytest.mark.parametrize(
    ("patch", "owner_only"),
    [
        ({"needs": ["wheelchair"], "pressure_injury_stage": 2}, []),
        ({"national_id": None}, ["national_id"]),
        (
            {"needs": [], "sex": "male", "name": "X", "birth_date": "1950-01-01"},
            ["name", "sex", "birth_date"],
        ),
        ({"home_lat": 31.0, "home_lon": 121.0}, ["home_lat", "home_lon"]),
        (
            {"living_situation": "alone", "emergency_contact_phone": None},
            ["living_situation", "emergency_contact_phone"],
        ),
    ],
)
def test_only_care_fields_are_not_the_owners(patch: dict[str, Any], owner_only: list[str]) -> None:
    assert owner_only_changes(decode(patch, CareRecipientPatch)) == owner_only


def test_every_field_of_a_patch_but_the_care_fields_is_the_owners() -> None:
    fields = set(CareRecipientPatch.__struct_fields__)
    assert fields >= CARE_FIELDS == frozenset({"needs", "pressure_injury_stage"})
    assert {"name", "sex", "birth_date", "national_id"} <= fields - CARE_FIELDS


ASSESSED = {"assessor": "A", "organisation": "O", "assessed_on": "2025-03-01"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"total": 60, "valid_until": "2025-02-28"}, "^valid_until: must not be before"),
        ({"total": 60, "mobility": 3}, "^self_care: domain scores must be all given"),
        ({}, "^total: give the four domain scores or total"),
    ],
)
def test_invalid_assessments_name_their_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode({**ASSESSED, **body}, NewAssessment)


def test_an_assessment_defaults_to_the_default_policy() -> None:
    form = decode({**ASSESSED, "total": 60}, NewAssessment)
    assert (form.policy_code, form.valid_until, form.extension_approved) == (
        "cn-respite",
        None,
        False,
    )
