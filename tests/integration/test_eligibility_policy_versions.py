"""Policies are versioned data: a booking keeps the version it was checked against, and a new
version changes future decisions only."""

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from respite.auth.model import Principal
from respite.clock import ManualClock, local_today
from respite.deps import Deps
from respite.eligibility import PRESETS, CalendarYear, PolicyPublication, Stay
from respite.eligibility.policies import (
    NewPolicyVersion,
    PolicyLookup,
    get_policy,
    publish_policy,
)
from respite.eligibility.service import Checked, check_bed
from respite.eligibility.store import current_policy, ensure_presets
from respite.eligibility.subject import Viewer
from respite.nights import claim_nights
from respite.settings import Settings
from tests import builders
from tests.domain_deps import opened_deps


@pytest.fixture
async def deps(settings: Settings, clock: ManualClock) -> AsyncIterator[Deps]:
    async with opened_deps(settings, clock) as opened:
        yield opened


@pytest.fixture
def today(clock: ManualClock) -> date:
    return local_today("Asia/Shanghai", clock.now())


def stay(today: date, offset: int, nights: int) -> Stay:
    start = today + timedelta(days=offset)
    return Stay(check_in=start, check_out=start + timedelta(days=nights))


def family_viewer(deps: Deps, family_id: int) -> Viewer:
    principal = Principal(id=family_id, role="family", name="family")
    return Viewer.of(principal, deps.clock.now(), deps.settings)


async def admin(db: Any) -> Principal:
    return Principal(id=await builders.principal(db, "admin"), role="admin", name="admin")


async def record_booking(db: Any, checked: Checked, care_recipient_id: int, booked: Stay) -> int:
    """What a confirmed booking stores about its eligibility: the policy version and decision."""
    booker = await builders.principal(db, "admin")
    async with db.transaction():
        booking = int(
            await db.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
                " nightly_price, total_price, policy_id, decision, booked_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10) RETURNING id",
                checked.bed.bed_id,
                checked.bed.facility_id,
                care_recipient_id,
                booked.check_in,
                booked.check_out,
                checked.bed.nightly_price,
                checked.bed.nightly_price * booked.nights,
                checked.policy.id,
                msgspec.json.encode(checked.decision, enc_hook=str).decode(),
                booker,
            )
        )
        await claim_nights(
            db, checked.bed.bed_id, booked.check_in, booked.check_out, booking_id=booking
        )
    return booking


def stricter(nights: int, effective_from: date) -> PolicyPublication:
    fields = msgspec.structs.asdict(PRESETS["cn-respite"])
    fields["quota"] = CalendarYear(nights=nights)
    return PolicyPublication(**fields, effective_from=effective_from)


async def test_the_migration_stores_every_preset_as_version_1(db: Any, today: date) -> None:
    for code, preset in PRESETS.items():
        stored = await current_policy(db, code, today)
        assert stored is not None
        assert (stored.version, stored.effective_from) == (1, date(2020, 1, 1))
        assert stored.policy == preset
    await ensure_presets(db)
    assert await db.fetchval("SELECT count(*) FROM policies") == len(PRESETS)


async def test_a_booking_keeps_its_version_and_decision_after_a_new_version(
    db: Any, deps: Deps, today: date
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    family = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=family, level=2)
    owner = family_viewer(deps, family)
    booked = stay(today, 10, 10)
    checked = await check_bed(db, owner, elder, bed, booked, today)
    assert checked.decision.eligible and checked.policy.version == 1
    booking = await record_booking(db, checked, elder, booked)
    recorded = await db.fetchrow(
        "SELECT policy_id, decision::text AS decision FROM bookings WHERE id = $1", booking
    )
    version_1 = await db.fetchval("SELECT document::text FROM policies WHERE id = $1", recorded[0])

    published = await publish_policy(
        deps, await admin(db), NewPolicyVersion(code="cn-respite", publication=stricter(2, today))
    )

    assert published.version == 2
    after = await db.fetchrow(
        "SELECT b.policy_id, b.decision::text AS decision, p.version, p.document::text AS document"
        " FROM bookings b JOIN policies p ON p.id = b.policy_id WHERE b.id = $1",
        booking,
    )
    assert (after["policy_id"], after["decision"]) == (recorded["policy_id"], recorded["decision"])
    assert (after["version"], after["document"]) == (1, version_1)
    # Stored as judged: codes and figures, and each message in English (the records' language).
    kept = msgspec.json.decode(after["decision"])
    assert kept["eligible"] and kept == msgspec.to_builtins(checked.decision, enc_hook=str)

    # The same stay checked again now falls under version 2, which refuses it.
    again = await check_bed(db, owner, elder, bed, booked, today, excluding_booking=booking)
    assert again.policy.version == 2 and again.policy.id == published.id
    assert not again.decision.eligible
    # (Two periods if the stay crosses a new year: 10 nights exceed 2 in at least one.)
    assert {r.code for r in again.decision.reasons if not r.ok} == {"quota_exhausted"}


async def test_the_version_in_force_on_check_in_applies(db: Any, deps: Deps, today: date) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    family = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=family, level=2)
    owner = family_viewer(deps, family)
    switch = today + timedelta(days=20)
    new = NewPolicyVersion(code="cn-respite", publication=stricter(1, switch))
    await publish_policy(deps, await admin(db), new)

    before_switch = await check_bed(db, owner, elder, bed, stay(today, 15, 4), today)
    on_switch = await check_bed(db, owner, elder, bed, stay(today, 20, 4), today)

    assert (before_switch.policy.version, before_switch.decision.eligible) == (1, True)
    assert (on_switch.policy.version, on_switch.decision.eligible) == (2, False)
    versions = await get_policy(deps, await admin(db), PolicyLookup(code="cn-respite", on=switch))
    assert versions.current_version == 2
    assert [v.version for v in versions.versions] == [2, 1]


async def test_a_document_always_describes_its_own_code(db: Any, today: date) -> None:
    document = msgspec.json.encode(PRESETS["cn-respite"]).decode()
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO policies (code, version, effective_from, document)"
            " VALUES ('other', 1, $1, $2::text::jsonb)",
            today,
            document,
        )
