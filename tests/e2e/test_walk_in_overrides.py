"""Overrides at the desk: staff (or an admin) book a refused walk-in only by naming every rule
that refused, each in the form the policy allows: a written reason for paperwork and limits,
an acknowledgement of that very rule for the room's sex rule and the capabilities the elder
needs, and nothing for the rules no policy lets anyone override. The booking and its audit
record list every rule overridden."""

from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_walk_in import OVERRIDE, Desk, audits, body, counts, open_desk, url


@pytest.fixture
async def desk(db: Any, make_token: MakeToken) -> Desk:
    return await open_desk(db, make_token)


@pytest.fixture(scope="module")
async def shared_desk(shared_db: Any, shared_make_token: MakeToken) -> Desk:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await open_desk(shared_db, shared_make_token)


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_staff_or_admin_override_a_missing_assessment_with_a_stored_audited_reason(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, desk: Desk, role: str
) -> None:
    unassessed = await builders.recipient(db, facility_id=desk.facility, level=None)
    _, headers = await make_token(role, facility_id=desk.facility if role == "staff" else None)
    response = await client.post(
        url(desk.facility),
        json={
            **body(desk),
            "care_recipient_id": unassessed,
            "override_reason": OVERRIDE,
            "overrides": [{"code": "no_assessment"}],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["override_reason"] == OVERRIDE
    assert booking["overrides"] == [{"code": "no_assessment", "acknowledged": False}]
    stored = await db.fetchrow(
        "SELECT override_reason, overrides, decision FROM bookings WHERE id = $1", booking["id"]
    )
    assert stored["override_reason"] == OVERRIDE
    assert stored["overrides"] == booking["overrides"]
    assert stored["decision"]["eligible"] is False
    [entry] = await audits(db, booking["id"])
    assert entry["role"] == role
    assert entry["after"]["override_reason"] == OVERRIDE
    assert entry["after"]["eligible"] is False
    assert entry["after"]["refused"] == ["no_assessment"]
    assert entry["after"]["overrides"] == booking["overrides"]
    read = await client.get(f"/v1/bookings/{booking['id']}", headers=headers)
    assert read.json()["overrides"] == booking["overrides"]


async def test_an_override_of_a_rule_that_did_not_refuse_is_refused(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_desk: Desk
) -> None:
    before = await counts(shared_db)
    eligible = await shared_client.post(
        url(shared_desk.facility),
        json=body(shared_desk, override_reason=OVERRIDE, overrides=[{"code": "no_assessment"}]),
        headers=shared_desk.headers,
    )
    assert eligible.status_code == 422, eligible.text
    assert eligible.json()["type"] == "/problems/invalid-input"
    assert eligible.json()["errors"] == [
        {"field": "overrides[0]", "message": "nothing to override: this rule did not refuse"}
    ]

    # A refused stay: overriding its refusal and rules that passed is refused as a whole.
    unassessed = await builders.recipient(shared_db, facility_id=shared_desk.facility, level=None)
    extra = await shared_client.post(
        url(shared_desk.facility),
        json={
            **body(shared_desk),
            "care_recipient_id": unassessed,
            "override_reason": OVERRIDE,
            "overrides": [
                {"code": "no_assessment"},
                {"code": "quota_exhausted"},
                {"code": "sex_rule", "acknowledged": True},
            ],
        },
        headers=shared_desk.headers,
    )
    assert extra.status_code == 422, extra.text
    assert [e["field"] for e in extra.json()["errors"]] == ["overrides[1]", "overrides[2]"]
    assert await counts(shared_db) == before


class Mismatch(msgspec.Struct):
    """A man in a wheelchair, without an assessment, and a female-only bed without access."""

    man: int
    bed: int


async def set_mismatch(db: Any, desk: Desk) -> Mismatch:
    man = await builders.recipient(
        db, facility_id=desk.facility, sex="male", needs=("wheelchair",), level=None
    )
    bed = await builders.bed(db, desk.facility, sex_rule="female", label="2F-07")
    return Mismatch(man, bed)


@pytest.fixture
async def mismatch(db: Any, desk: Desk) -> Mismatch:
    return await set_mismatch(db, desk)


@pytest.fixture(scope="module")
async def shared_mismatch(shared_db: Any, shared_desk: Desk) -> Mismatch:
    return await set_mismatch(shared_db, shared_desk)


WHEELCHAIR = "needs_capability_missing:wheelchair"


@pytest.mark.parametrize(
    ("overrides", "not_overridden"),
    [
        ([{"code": "no_assessment"}], ["sex_rule", WHEELCHAIR]),
        (
            [{"code": "no_assessment"}, {"code": "sex_rule"}, {"code": WHEELCHAIR}],
            ["sex_rule", WHEELCHAIR],
        ),
        (
            [
                {"code": "no_assessment"},
                {"code": "sex_rule", "acknowledged": False},
                {"code": WHEELCHAIR, "acknowledged": True},
            ],
            ["sex_rule"],
        ),
        (
            [{"code": "no_assessment"}, {"code": "sex_rule", "acknowledged": True}],
            [WHEELCHAIR],
        ),
        (
            [
                {"code": "sex_rule", "acknowledged": True},
                {"code": WHEELCHAIR, "acknowledged": True},
            ],
            ["no_assessment"],
        ),
    ],
)
async def test_a_reason_alone_does_not_put_a_man_in_a_female_bed_without_wheelchair_access(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_desk: Desk,
    shared_mismatch: Mismatch,
    overrides: list[dict[str, Any]],
    not_overridden: list[str],
) -> None:
    before = await counts(shared_db)
    response = await shared_client.post(
        url(shared_desk.facility),
        json={
            **body(shared_desk),
            "care_recipient_id": shared_mismatch.man,
            "bed_id": shared_mismatch.bed,
            "override_reason": OVERRIDE,
            "overrides": overrides,
        },
        headers=shared_desk.headers,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "/problems/not-eligible"
    assert problem["refused"] == ["no_assessment", "sex_rule", WHEELCHAIR]
    assert problem["not_overridden"] == not_overridden
    assert problem["override_options"] == [
        {"code": "no_assessment", "allowed": "with_reason"},
        {"code": "sex_rule", "allowed": "with_acknowledgement"},
        {"code": WHEELCHAIR, "allowed": "with_acknowledgement"},
    ]
    assert await counts(shared_db) == before


async def test_a_reason_without_the_rules_it_overrides_is_refused(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_desk: Desk, shared_mismatch: Mismatch
) -> None:
    before = await counts(shared_db)
    response = await shared_client.post(
        url(shared_desk.facility),
        json={
            **body(shared_desk),
            "care_recipient_id": shared_mismatch.man,
            "bed_id": shared_mismatch.bed,
            "override_reason": OVERRIDE,
        },
        headers=shared_desk.headers,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["overrides"]
    assert await counts(shared_db) == before


async def test_both_acknowledgements_and_the_reason_book_the_man_and_audit_every_rule(
    client: httpx.AsyncClient, db: Any, desk: Desk, mismatch: Mismatch
) -> None:
    overrides: list[dict[str, Any]] = [
        {"code": "sex_rule", "acknowledged": True},
        {"code": "no_assessment"},
        {"code": WHEELCHAIR, "acknowledged": True},
    ]
    response = await client.post(
        url(desk.facility),
        json={
            **body(desk),
            "care_recipient_id": mismatch.man,
            "bed_id": mismatch.bed,
            "override_reason": OVERRIDE,
            "overrides": overrides,
        },
        headers=desk.headers,
    )
    assert response.status_code == 201, response.text
    booking = response.json()
    listed = [{"code": o["code"], "acknowledged": o.get("acknowledged", False)} for o in overrides]
    assert booking["overrides"] == listed
    assert booking["override_reason"] == OVERRIDE
    [entry] = await audits(db, booking["id"])
    assert entry["after"]["refused"] == ["no_assessment", "sex_rule", WHEELCHAIR]
    assert entry["after"]["overrides"] == listed
    assert entry["after"]["override_reason"] == OVERRIDE


async def test_an_exhausted_quota_is_overridden_with_a_reason(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    # 56 nights a calendar year and no consecutive limit: 120 nights exhaust the quota of at
    # least one year, whatever the date.
    facility = await builders.facility(db, respite_policy_code="de-kurzzeitpflege")
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db, facility_id=facility, level=2)
    _, headers = await make_token("staff", facility_id=facility)
    today = builders.today()
    stay = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(120)).isoformat(),
    }
    refused = await client.post(url(facility), json=stay, headers=headers)
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["refused"]) == {"quota_exhausted"}
    assert refused.json()["override_options"] == [
        {"code": "quota_exhausted", "allowed": "with_reason"}
    ]

    response = await client.post(
        url(facility),
        json={**stay, "override_reason": OVERRIDE, "overrides": [{"code": "quota_exhausted"}]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    booking = response.json()
    assert (booking["policy_code"], booking["nights"]) == ("de-kurzzeitpflege", 120)
    assert booking["overrides"] == [{"code": "quota_exhausted", "acknowledged": False}]
    [entry] = await audits(db, booking["id"])
    assert entry["after"]["overrides"] == booking["overrides"]


@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize(
    "overrides",
    [
        [],
        [{"code": "level_not_eligible"}],
        [{"code": "level_not_eligible", "acknowledged": True}],
        [{"code": "level_not_eligible", "acknowledged": True}, {"code": "no_assessment"}],
    ],
)
async def test_a_refusal_the_policy_never_lets_staff_override_is_refused_whatever_is_sent(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_make_token: MakeToken,
    shared_desk: Desk,
    role: str,
    overrides: list[dict[str, Any]],
) -> None:
    intact = await builders.recipient(shared_db, facility_id=shared_desk.facility, level=0)
    _, headers = await shared_make_token(
        role, facility_id=shared_desk.facility if role == "staff" else None
    )
    before = await counts(shared_db)
    form: dict[str, Any] = {**body(shared_desk), "care_recipient_id": intact}
    if overrides:
        form |= {"override_reason": OVERRIDE, "overrides": overrides}
    response = await shared_client.post(url(shared_desk.facility), json=form, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    if len(overrides) > 1:
        # The assessment did not refuse: naming it is the first thing wrong.
        assert [e["field"] for e in problem["errors"]] == ["overrides[1]"]
    else:
        assert problem["type"] == "/problems/not-eligible"
        assert problem["override_options"] == [{"code": "level_not_eligible", "allowed": "never"}]
        assert problem["not_overridden"] == ["level_not_eligible"]
    assert await counts(shared_db) == before
