"""The pure rules of facilities, beds and blocks."""

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from respite.inventory.model import (
    MAX_BLOCK_NIGHTS,
    BedChanges,
    BlockChanges,
    BlockReason,
    BlockTerms,
    FacilityChanges,
    NewBed,
    NewBlock,
    NewFacility,
    NightRange,
    block_terms_problem,
    given_fields,
    nights_outside,
    ordered_capabilities,
    patched,
)

D = date(2030, 3, 1)


def n(start: int, end: int) -> NightRange:
    return NightRange(D + timedelta(start), D + timedelta(end))


@pytest.mark.parametrize(
    ("nights", "other", "outside"),
    [
        (n(0, 5), n(0, 5), []),
        (n(0, 5), n(1, 4), [n(0, 1), n(4, 5)]),
        (n(0, 5), n(0, 3), [n(3, 5)]),
        (n(0, 5), n(2, 5), [n(0, 2)]),
        (n(0, 5), n(-3, 8), []),
        (n(0, 5), n(5, 8), [n(0, 5)]),
        (n(0, 5), n(-2, 0), [n(0, 5)]),
        (n(0, 5), n(3, 9), [n(0, 3)]),
        (n(0, 5), n(-1, 2), [n(2, 5)]),
        (n(0, 5), n(2, 2), [n(0, 5)]),
        (n(3, 3), n(0, 5), []),
    ],
)
def test_nights_outside(nights: NightRange, other: NightRange, outside: list[NightRange]) -> None:
    assert nights_outside(nights, other) == outside


def _terms(nights: int, reason: BlockReason = "maintenance", note: str = "") -> BlockTerms:
    return BlockTerms(check_in=D, check_out=D + timedelta(nights), reason=reason, note=note)


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (_terms(1), None),
        (_terms(MAX_BLOCK_NIGHTS), None),
        (_terms(MAX_BLOCK_NIGHTS + 1), "check_out"),
        (_terms(0), "check_out"),
        (_terms(-1), "check_out"),
        (_terms(2, "other"), "note"),
        (_terms(2, "other", "   "), "note"),
        (_terms(2, "other", "burst pipe"), None),
        (_terms(2, "isolation"), None),
    ],
)
def test_block_terms(terms: BlockTerms, field: str | None) -> None:
    problem = block_terms_problem(terms)
    assert (problem.field if problem else None) == field


def _decode(body: dict[str, Any], kind: type[msgspec.Struct]) -> str | None:
    """msgspec's refusal of the body, or None when it decodes."""
    try:
        msgspec.json.decode(msgspec.json.encode(body), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        return str(exc)
    return None


FACILITY = {"name": "F", "lat": 31.2, "lon": 121.4}


@pytest.mark.parametrize(
    ("extra", "fails"),
    [
        ({}, None),
        ({"timezone": "Europe/Berlin"}, None),
        ({"timezone": "UTC"}, None),
        ({"timezone": "Asia/Shang hai"}, "timezone"),
        ({"timezone": "Factory"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"name": "枫林\t照护"}, "name"),
        ({"name": "F "}, "name"),
        ({"phone": ""}, None),
        ({"phone": "+86 (21) 6403-0000"}, None),
        ({"phone": "12"}, "phone"),
        ({"lat": 90}, None),
        ({"lat": -90.0001}, "lat"),
    ],
)
def test_new_facility(extra: dict[str, Any], fails: str | None) -> None:
    error = _decode({**FACILITY, **extra}, NewFacility)
    assert (error is None) == (fails is None), error
    if fails:
        assert error is not None and fails in error


def test_a_facility_patch_knows_which_fields_it_names() -> None:
    changes = msgspec.json.decode(b'{"phone": "", "active": false}', type=FacilityChanges)
    assert given_fields(changes) == ["phone", "active"]
    assert "name at least one" in (_decode({}, FacilityChanges) or "")
    assert _decode({"phone": None}, FacilityChanges) is not None


BED = {"kind": "respite", "label": "3F-01", "sex_rule": "any", "nightly_price": 28000}


@pytest.mark.parametrize(
    ("extra", "fails"),
    [
        ({}, None),
        ({"capabilities": ["oxygen", "oxygen", "low_bed"]}, None),
        ({"capabilities": ["sauna"]}, "capabilities"),
        ({"pressure_care_stage": 5}, "pressure_care_stage"),
        ({"nightly_price": -1}, "nightly_price"),
        ({"nightly_price": 100_000_001}, "nightly_price"),
        ({"nightly_price": 1.5}, "nightly_price"),
        ({"nightly_price": "28000"}, "nightly_price"),
        ({"label": ""}, "label"),
        ({"label": " 3F"}, "label"),
        ({"label": "x" * 41}, "label"),
        ({"kind": "hotel"}, "kind"),
        ({"sex_rule": "mixed"}, "sex_rule"),
        ({"id": 1}, "id"),
    ],
)
def test_new_bed(extra: dict[str, Any], fails: str | None) -> None:
    error = _decode({**BED, **extra}, NewBed)
    assert (error is None) == (fails is None), error
    if fails:
        assert error is not None and fails in error


def test_a_bed_patch_cannot_change_the_kind() -> None:
    assert "kind" in (_decode({"kind": "home"}, BedChanges) or "")


def test_patched_replaces_only_the_named_fields_and_orders_capabilities() -> None:
    terms = _terms(3, "other", "burst pipe")
    changes = msgspec.json.decode(b'{"check_out": "2030-03-02"}', type=BlockChanges)
    assert patched(terms, changes) == BlockTerms(
        check_in=D, check_out=date(2030, 3, 2), reason="other", note="burst pipe"
    )
    assert ordered_capabilities(frozenset({"low_bed", "oxygen", "dementia_secure"})) == [
        "dementia_secure",
        "oxygen",
        "low_bed",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"check_in": "2030-03-01", "check_out": "2030-03-01", "reason": "cleaning"}, "check_out"),
        ({"check_in": "2030-03-01", "check_out": "2030-03-02", "reason": "other"}, "note"),
        ({"check_in": "2030-03-01", "check_out": "2030-03-02", "reason": "party"}, "reason"),
        ({"check_in": "2030-02-30", "check_out": "2030-03-02", "reason": "cleaning"}, "check_in"),
    ],
)
def test_new_block_refusals(body: dict[str, Any], field: str) -> None:
    error = _decode(body, NewBlock)
    assert error is not None and field in error
