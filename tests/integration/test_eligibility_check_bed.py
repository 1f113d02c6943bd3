"""check_bed: the decision for one bed, loaded as the viewer sees the elder, in three queries."""

from datetime import date, timedelta
from typing import Any

import pytest

from respite.auth.model import Principal
from respite.clock import ManualClock, local_today
from respite.eligibility import Stay
from respite.eligibility.errors import NoPolicyInForceError
from respite.eligibility.service import check_bed
from respite.eligibility.subject import Viewer
from respite.errors import NotFoundError
from tests import builders


@pytest.fixture
def today(clock: ManualClock) -> date:
    """Today at the builders' facilities (Shanghai) by the test's clock."""
    return local_today("Asia/Shanghai", clock.now())


def stay(today: date, offset: int, nights: int) -> Stay:
    start = today + timedelta(days=offset)
    return Stay(check_in=start, check_out=start + timedelta(days=nights))


def family(principal_id: int) -> Viewer:
    """A family looking at the suite's start (what a family sees does not depend on it)."""
    principal = Principal(id=principal_id, role="family", name="Family")
    return Viewer(principal=principal, now=builders.SUITE_START, staff_recent_stay_days=30)


async def test_an_eligible_elder_and_bed(db: Any, today: date) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, price=18000, label="3F-12")
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner, level=2)

    checked = await check_bed(db, family(owner), elder, bed, stay(today, 3, 5), today)

    assert checked.decision.eligible, checked.decision.reasons
    assert checked.decision.policy_code == "cn-respite"
    assert (checked.policy.policy.code, checked.policy.version) == ("cn-respite", 1)
    assert checked.policy.id == await db.fetchval(
        "SELECT id FROM policies WHERE code = 'cn-respite' AND version = 1"
    )
    assert (checked.bed.bed_id, checked.bed.facility_id, checked.bed.kind) == (
        bed,
        facility,
        "respite",
    )
    assert (checked.bed.nightly_price, checked.bed.label) == (18000, "3F-12")
    assert checked.bed.timezone == "Asia/Shanghai"
    assert checked.subject.care_recipient_id == elder
    assert checked.decision.level == 2


async def test_the_bed_kind_picks_the_facility_policy(db: Any, today: date) -> None:
    facility = await builders.facility(db)
    home_bed = await builders.bed(db, facility, kind="home")
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner, level=1)

    checked = await check_bed(db, family(owner), elder, home_bed, stay(today, 1, 30), today)

    assert checked.policy.policy.code == "cn-home-bed"
    assert not checked.decision.eligible
    refused = [r.code for r in checked.decision.reasons if not r.ok]
    assert refused == ["level_not_eligible"]


async def test_nights_used_count_and_a_booking_can_exclude_its_own(db: Any, today: date) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner)
    check_in = today + timedelta(days=2)
    booked = await builders.booking(
        db, bed, check_in, check_in + timedelta(days=20), recipient_id=elder
    )
    longer = Stay(check_in=check_in + timedelta(days=20), check_out=check_in + timedelta(days=31))

    checked = await check_bed(db, family(owner), elder, bed, longer, today)
    assert not checked.decision.eligible
    assert "stay_exceeds_consecutive_limit" in [r.code for r in checked.decision.reasons]

    itself = Stay(check_in=check_in, check_out=check_in + timedelta(days=20))
    again = await check_bed(db, family(owner), elder, bed, itself, today, excluding_booking=booked)
    assert again.decision.eligible, again.decision.reasons


async def test_another_familys_elder_is_not_found(db: Any, today: date) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db)
    stranger = await builders.principal(db, "family")

    with pytest.raises(NotFoundError) as caught:
        await check_bed(db, family(stranger), elder, bed, stay(today, 1, 2), today)
    assert caught.value.extensions == {"entity": "care recipient"}


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE beds SET retired_at = now() WHERE id = $1",
        "UPDATE beds SET active = false WHERE id = $1",
        "UPDATE facilities SET active = false WHERE id = (SELECT facility_id FROM beds WHERE id = $1)",
        "SELECT $1::bigint + 1",
    ],
)
async def test_an_unbookable_or_unknown_bed_is_not_found(db: Any, today: date, change: str) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner)
    await db.execute(change, bed)
    unknown = change.startswith("SELECT")

    with pytest.raises(NotFoundError) as caught:
        await check_bed(
            db, family(owner), elder, bed + 1 if unknown else bed, stay(today, 1, 2), today
        )
    assert caught.value.extensions == {"entity": "bed"}


async def test_a_facility_linked_to_an_unpublished_policy_is_a_conflict(
    db: Any, today: date
) -> None:
    facility = await builders.facility(db, respite_policy_code="xx-nothing")
    bed = await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner)

    with pytest.raises(NoPolicyInForceError) as caught:
        await check_bed(db, family(owner), elder, bed, stay(today, 1, 2), today)
    on = (today + timedelta(days=1)).isoformat()
    assert caught.value.extensions == {"policy_code": "xx-nothing", "on": on}
