"""search_availability against real PostgreSQL and Redis: free, booked, blocked and held beds at
every boundary, radius and home-radius rules, eligibility, both sort orders, pages while
bookings change, alternatives, and a Redis that does not answer."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from respite.auth.model import Principal
from respite.availability import plan
from respite.availability.model import (
    AvailabilityPage,
    AvailabilityQuery,
    SearchParams,
    validate_query,
)
from respite.availability.policies import PolicyCache, in_force, load_versions
from respite.availability.service import search_availability
from respite.cache import RedisClient, create_redis
from respite.clock import ManualClock
from respite.deps import Deps
from respite.errors import InvalidInputError, NotFoundError
from respite.geo import EARTH_RADIUS_M, haversine_m
from respite.holds.store import HoldStore, StoredHold
from respite.settings import Settings
from tests import builders, dates
from tests.dates import When
from tests.domain_deps import opened_deps

CENTRE = (31.23, 121.47)
KM_PER_DEG_LAT = EARTH_RADIUS_M * 3.141592653589793 / 180 / 1000


def north(km: float, of: tuple[float, float] = CENTRE) -> tuple[float, float]:
    return (of[0] + km / KM_PER_DEG_LAT, of[1])


def east(km: float, of: tuple[float, float] = CENTRE) -> tuple[float, float]:
    """A point ``km`` east along the parallel (close enough to great-circle at these sizes)."""
    lat, lon = of
    lo, hi = lon, lon + 2 * km / KM_PER_DEG_LAT
    for _ in range(60):  # bisect to the exact great-circle distance
        mid = (lo + hi) / 2
        if haversine_m(lat, lon, lat, mid) < km * 1000:
            lo = mid
        else:
            hi = mid
    return (lat, (lo + hi) / 2)


@pytest.fixture
def when(clock: ManualClock) -> When:
    return dates.when(clock)


@pytest.fixture
async def deps(settings: Settings, clock: ManualClock) -> AsyncIterator[Deps]:
    async with opened_deps(settings, clock) as opened:
        yield opened


def with_redis(deps: Deps, client: RedisClient) -> Deps:
    return Deps(
        pool=deps.pool,
        redis=client,
        holds=HoldStore(client),
        clock=deps.clock,
        settings=deps.settings,
    )


class Search:
    """Runs searches through the use case, as a principal (or anonymously), at the clock's now."""

    def __init__(self, deps: Deps, when: When, principal: Principal | None = None):
        self.deps, self.when, self.principal = deps, when, principal

    def by(self, principal: Principal) -> Search:
        return Search(self.deps, self.when, principal)

    def params(self, stay: tuple[date, date] | None = None, **params: Any) -> SearchParams:
        check_in, check_out = stay or self.when.days(0, 3)
        raw: dict[str, Any] = {"near": f"{CENTRE[0]},{CENTRE[1]}", **params}
        return SearchParams(check_in=check_in, check_out=check_out, **raw)

    def query(self, stay: tuple[date, date] | None = None, **params: Any) -> AvailabilityQuery:
        return validate_query(self.params(stay, **params), self.deps.clock.now())

    async def __call__(
        self, stay: tuple[date, date] | None = None, **params: Any
    ) -> AvailabilityPage:
        return await search_availability(self.deps, self.principal, self.params(stay, **params))

    async def walk(self, between: Any = None, **params: Any) -> list[list[int]]:
        """Every page of a search, following next cursors; ``between(pages)`` runs after each."""
        search = self.params(**params)
        pages: list[list[int]] = []
        while True:
            page = await search_availability(self.deps, self.principal, search)
            pages.append([f.facility_id for f in page.facilities])
            if between is not None:
                await between(pages)
            if page.next_cursor is None:
                return pages
            search = msgspec.structs.replace(search, cursor=page.next_cursor)


@pytest.fixture
def search(deps: Deps, when: When) -> Search:
    return Search(deps, when)


def ids(page: AvailabilityPage) -> list[int]:
    return [f.facility_id for f in page.facilities]


def beds(page: AvailabilityPage) -> list[int]:
    return [b.bed_id for f in page.facilities for b in f.beds]


async def place_hold(
    deps: Deps, facility_id: int, bed_id: int, stay: tuple[date, date], ttl: float = 600
) -> str:
    """A hold placed through the hold store at the clock's now."""
    hold_id = secrets.token_hex(8)
    now = deps.clock.now().timestamp()
    hold = StoredHold(
        bed_id=bed_id,
        check_in=stay[0].isoformat(),
        check_out=stay[1].isoformat(),
        expires_at=now + ttl,
        created_at=now,
        principal_id=1,
        care_recipient_id=1,
        token_hash="x",
    )
    placed = await deps.holds.place(facility_id, hold_id, hold, now)
    assert placed.placed
    return hold_id


# Free, booked, blocked, held: every boundary -------------------------------------------------

# The claim covers nights 10..14: [D+10, D+15).
BOUNDARIES = [
    ((5, 10), True),  # ends the morning the claim starts
    ((15, 20), True),  # starts the morning the claim ends
    ((9, 11), False),  # shares the claim's first night
    ((14, 16), False),  # shares the claim's last night
    ((12, 13), False),  # one night inside
    ((0, 40), False),  # around it
    ((10, 15), False),  # the same nights
]


@pytest.mark.parametrize(("span", "free"), BOUNDARIES)
@pytest.mark.parametrize("claim", ["booking", "block"])
async def test_booked_and_blocked_nights_at_every_boundary(
    when: When, db: Any, search: Search, claim: str, span: tuple[int, int], free: bool
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    claimed = await builders.bed(db, facility, price=100)
    untouched = await builders.bed(db, facility, price=200)
    make = builders.booking if claim == "booking" else builders.block
    await make(db, claimed, *when.days(10, 15))

    page = await search(when.days(*span))

    assert beds(page) == ([claimed, untouched] if free else [untouched])


async def test_cancelled_bookings_and_lifted_blocks_free_their_nights(
    when: When, db: Any, search: Search
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    booking = await builders.booking(db, bed, *when.days(0, 3))
    assert beds(await search()) == []
    await db.execute("DELETE FROM bed_nights WHERE booking_id = $1", booking)
    await db.execute("UPDATE bookings SET status = 'cancelled' WHERE id = $1", booking)
    assert beds(await search()) == [bed]


@pytest.mark.parametrize(("span", "free"), BOUNDARIES)
async def test_held_beds_at_every_boundary(
    when: When, db: Any, search: Search, deps: Deps, span: tuple[int, int], free: bool
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    held = await builders.bed(db, facility, price=100)
    other = await builders.bed(db, facility, price=200)
    await place_hold(deps, facility, held, when.days(10, 15))

    page = await search(when.days(*span))

    assert beds(page) == ([held, other] if free else [other])
    assert page.facilities[0].held_beds == (0 if free else 1)
    assert not page.holds_unknown


async def test_an_expired_hold_takes_nothing_and_a_fully_held_facility_is_not_offered(
    when: When, db: Any, search: Search, deps: Deps, clock: ManualClock
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    await place_hold(deps, facility, bed, when.days(0, 3), ttl=60)
    assert ids(await search()) == []
    clock.advance(timedelta(seconds=61))  # past the hold's expiry, not on it
    assert beds(await search()) == [bed]


async def test_when_redis_is_down_beds_are_possibly_held_never_plainly_free(
    when: When, db: Any, settings: Settings, deps: Deps
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    await place_hold(deps, facility, bed, when.days(0, 3))
    # A Redis that refuses connections: a port nothing listens on.
    with_dead_redis = msgspec.structs.replace(settings, redis_timeout=0.2)
    dead = create_redis(with_dead_redis, "redis://127.0.0.1:9/0")
    try:
        page = await Search(with_redis(deps, dead), when)()
    finally:
        await dead.aclose()
    assert page.holds_unknown
    assert [(b.bed_id, b.possibly_held) for f in page.facilities for b in f.beds] == [(bed, True)]


# Where: radius, listed facilities, home radius ---------------------------------------------


async def test_the_radius_is_exact_around_near(db: Any, search: Search) -> None:
    inside = await builders.facility(db, lat=north(4.99)[0], lon=CENTRE[1])
    outside = await builders.facility(db, lat=north(5.01)[0], lon=CENTRE[1])
    east_inside = await builders.facility(db, lat=east(4.99)[0], lon=east(4.99)[1])
    east_outside = await builders.facility(db, lat=east(5.01)[0], lon=east(5.01)[1])
    for facility in (inside, outside, east_inside, east_outside):
        await builders.bed(db, facility)

    page = await search(radius_km=5)

    assert sorted(ids(page)) == sorted([inside, east_inside])
    assert all(f.distance_km == pytest.approx(4.99, abs=0.005) for f in page.facilities)


async def test_listed_facilities_only_and_no_radius(db: Any, search: Search) -> None:
    far = await builders.facility(db, lat=north(300)[0], lon=CENTRE[1])
    near = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    unlisted = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    for facility in (far, near, unlisted):
        await builders.bed(db, facility)

    page = await search(near=None, facility_ids=(far, near))

    # Without a place to measure from there is no distance, and distance order is by id.
    assert ids(page) == sorted([far, near])
    assert [f.distance_km for f in page.facilities] == [None, None]


async def test_home_beds_need_the_home_inside_the_service_radius_not_near(
    db: Any, search: Search
) -> None:
    home = east(6)
    serves_home = await builders.facility(
        db, lat=east(2, home)[0], lon=east(2, home)[1], radius_m=3000
    )
    serves_near = await builders.facility(db, lat=east(1)[0], lon=east(1)[1], radius_m=3000)
    for facility in (serves_home, serves_near):
        await builders.bed(db, facility, kind="home")
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner, home=home, level=3)
    search = search.by(Principal(id=owner, role="family", name="F"))

    page = await search(kind="home", care_recipient_id=elder, radius_km=10)

    assert ids(page) == [serves_home]
    assert [e.facility_id for e in page.excluded] == [serves_near]
    reason = page.excluded[0].reasons[0]
    assert reason.code == "outside_service_radius"
    assert reason.figures["distance_m"] == pytest.approx(5000, abs=2)


async def test_anonymous_home_bed_search_uses_near_or_home_as_the_home(
    db: Any, search: Search
) -> None:
    facility = await builders.facility(db, lat=east(2)[0], lon=east(2)[1], radius_m=3000)
    await builders.bed(db, facility, kind="home")
    assert ids(await search(kind="home")) == [facility]
    far_home = "{},{}".format(*east(9))
    page = await search(kind="home", home=far_home)
    assert ids(page) == [] and page.excluded[0].reasons[0].code == "outside_service_radius"


# Who: eligibility ----------------------------------------------------------------------------


async def test_eligibility_filters_beds_and_explains_each_excluded_facility(
    db: Any, search: Search
) -> None:
    lacks_oxygen = await builders.facility(db, lat=north(1)[0], lon=CENTRE[1])
    await builders.bed(db, lacks_oxygen, capabilities=("wheelchair",))
    women_only = await builders.facility(db, lat=north(2)[0], lon=CENTRE[1])
    await builders.bed(db, women_only, sex_rule="female", capabilities=("oxygen",))
    fits = await builders.facility(db, lat=north(4.2)[0], lon=CENTRE[1])
    fitting = await builders.bed(db, fits, sex_rule="male", capabilities=("oxygen",))
    await builders.bed(db, fits, sex_rule="female", capabilities=("oxygen",))
    await builders.bed(db, fits, sex_rule="any")
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner, sex="male", needs=("oxygen",))
    search = search.by(Principal(id=owner, role="family", name="F"))

    page = await search(care_recipient_id=elder)

    assert beds(page) == [fitting]
    assert [(e.facility_id, [r.code for r in e.reasons]) for e in page.excluded] == [
        (lacks_oxygen, ["needs_capability_missing:oxygen"]),
        (women_only, ["sex_rule"]),
    ]
    assert page.summary is not None and page.summary.in_("en").startswith(
        "The nearest facility with a matching free bed is 4.2 km away; the 2 closer ones"
    )
    assert page.refused == []


async def test_anonymous_needs_and_sex_filter_the_same_way(db: Any, search: Search) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    plain = await builders.bed(db, facility, price=100)
    oxygen = await builders.bed(db, facility, capabilities=("oxygen",), price=200)
    women = await builders.bed(db, facility, sex_rule="female", capabilities=("oxygen",), price=300)
    stage3 = await builders.bed(db, facility, pressure_care_stage=3, price=400)

    assert beds(await search()) == [plain, oxygen, women, stage3]
    assert beds(await search(needs=("oxygen",))) == [oxygen, women]
    assert beds(await search(needs=("oxygen",), sex="male")) == [oxygen]
    assert beds(await search(pressure_stage=2)) == [stage3]


async def test_a_person_the_programme_refuses_is_told_once_and_offered_nothing(
    db: Any, search: Search
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    await builders.bed(db, facility)
    owner = await builders.principal(db, "family")
    intact = await builders.recipient(db, family_id=owner, level=0)
    search = search.by(Principal(id=owner, role="family", name="F"))

    page = await search(care_recipient_id=intact)

    assert page.facilities == [] and page.excluded == [] and page.alternatives == []
    assert [(r.policy.code, [x.code for x in r.reasons]) for r in page.refused] == [
        ("cn-respite", ["level_not_eligible"])
    ]
    # Only where it matters: no facility with a bed for them around there, nothing to say.
    elsewhere = await search(care_recipient_id=intact, near="{},{}".format(*north(80)))
    assert elsewhere.refused == [] and elsewhere.facilities == []


async def test_another_familys_elder_is_not_found(db: Any, search: Search) -> None:
    elder = await builders.recipient(db)
    stranger = await builders.principal(db, "family")
    search = search.by(Principal(id=stranger, role="family", name="F"))
    with pytest.raises(NotFoundError):
        await search(care_recipient_id=elder)


async def test_an_elder_without_a_home_needs_a_place(db: Any, search: Search) -> None:
    owner = await builders.principal(db, "family")
    elder = await builders.recipient(db, family_id=owner, home=None)
    search = search.by(Principal(id=owner, role="family", name="F"))
    with pytest.raises(InvalidInputError) as caught:
        await search(near=None, care_recipient_id=elder)
    assert caught.value.errors[0].field == "near"


async def test_inactive_facilities_and_beds_are_never_offered(db: Any, search: Search) -> None:
    closed = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1], active=False)
    await builders.bed(db, closed)
    open_ = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    kept = await builders.bed(db, open_)
    inactive = await builders.bed(db, open_)
    retired = await builders.bed(db, open_)
    await db.execute("UPDATE beds SET active = false WHERE id = $1", inactive)
    await db.execute("UPDATE beds SET retired_at = now() WHERE id = $1", retired)
    assert beds(await search()) == [kept]


async def test_the_policy_in_force_on_check_in_is_applied_and_shown(
    when: When, db: Any, search: Search
) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    oxygen_bed = await builders.bed(db, facility, capabilities=("oxygen",))
    plain_bed = await builders.bed(db, facility)
    document = await db.fetchval(
        "SELECT document::text FROM policies WHERE code = 'cn-respite' AND version = 1"
    )
    changed = msgspec.json.decode(document)
    changed["needs_capabilities"]["fall_risk"] = ["oxygen"]  # an odd rule, easy to see
    await db.execute(
        "INSERT INTO policies (code, version, effective_from, document)"
        " VALUES ('cn-respite', 2, $1, $2::text::jsonb)",
        when.d + timedelta(days=1),
        msgspec.json.encode(changed).decode(),
    )

    before = await search(when.days(0, 1), needs=("fall_risk",))
    after = await search(when.days(1, 2), needs=("fall_risk",))

    assert before.facilities == [] and before.excluded[0].policy.version == 1
    assert beds(after) == [oxygen_bed] and after.facilities[0].policy.version == 2
    assert plain_bed not in beds(after)


# Order and pages -----------------------------------------------------------------------------


async def test_distance_and_price_orders(db: Any, search: Search) -> None:
    near_dear = await builders.facility(db, lat=north(1)[0], lon=CENTRE[1])
    await builders.bed(db, near_dear, price=30000)
    mid_cheap = await builders.facility(db, lat=north(2)[0], lon=CENTRE[1])
    await builders.bed(db, mid_cheap, price=10000)
    far_mid = await builders.facility(db, lat=north(3)[0], lon=CENTRE[1])
    await builders.bed(db, far_mid, price=20000)
    await builders.bed(db, far_mid, price=9000, sex_rule="female")

    assert ids(await search()) == [near_dear, mid_cheap, far_mid]
    by_price = await search(sort="price")
    assert ids(by_price) == [far_mid, mid_cheap, near_dear]
    assert [f.price_from for f in by_price.facilities] == [9000, 10000, 30000]
    men = await search(sort="price", sex="male")
    assert ids(men) == [mid_cheap, far_mid, near_dear]
    assert [b.nightly_price for b in men.facilities[1].beds] == [20000]
    assert men.facilities[1].beds[0].total_price == 20000 * 3


async def _city(db: Any, count: int) -> list[int]:
    facilities = []
    for i in range(count):
        facility = await builders.facility(db, lat=north(0.3 * (i + 1))[0], lon=CENTRE[1])
        await builders.bed(db, facility, price=10000 + 1000 * ((i * 7) % count))
        facilities.append(facility)
    return facilities


@pytest.mark.parametrize("sort", ["distance", "price"])
async def test_pages_have_no_duplicates_or_gaps_while_bookings_change(
    when: When, db: Any, search: Search, sort: str
) -> None:
    facilities = await _city(db, 13)
    booked: set[int] = set()

    async def meanwhile(pages: list[list[int]]) -> None:
        if len(pages) != 1:
            return
        # Book the bed of a facility already shown and of one not reached yet.
        shown, unseen = pages[0][0], next(f for f in facilities if f not in pages[0])
        for facility in (shown, unseen):
            bed = await db.fetchval("SELECT id FROM beds WHERE facility_id = $1", facility)
            await builders.booking(db, bed, when.d, when.d + timedelta(days=3))
        booked.update({shown, unseen})

    pages = await search.walk(between=meanwhile, sort=sort, limit=5)
    everything = [f for page in pages for f in page]

    assert len(everything) == len(set(everything)), pages
    assert set(everything) == set(facilities) - (booked - set(pages[0]))
    assert [len(page) for page in pages] == [5, 5, 2]


async def test_pages_raced_by_concurrent_bookings_never_repeat_a_facility(
    when: When, db: Any, search: Search
) -> None:
    facilities = await _city(db, 20)
    untouched = set(facilities[::2])
    targets = [f for f in facilities if f not in untouched]

    async def book(facility: int) -> None:
        async with search.deps.pool.acquire() as conn:
            bed = await conn.fetchval("SELECT id FROM beds WHERE facility_id = $1", facility)
            await builders.booking(conn, bed, when.d, when.d + timedelta(days=3))

    walks = [search.walk(limit=3), search.walk(sort="price", limit=4)]
    bookings = [asyncio.create_task(book(f)) for f in targets]  # racing the walks
    walked = await asyncio.gather(*walks)
    await asyncio.gather(*bookings)

    for pages in walked:
        everything = [f for page in pages for f in page]
        assert len(everything) == len(set(everything))
        assert untouched <= set(everything)  # available throughout: never skipped
    assert ids(await search(limit=50)) == sorted(untouched, key=facilities.index)


# Alternatives --------------------------------------------------------------------------------


async def test_alternatives_offer_the_nearest_shifted_stay_per_facility(
    when: When, db: Any, search: Search
) -> None:
    first_night_taken = await builders.facility(db, lat=north(1)[0], lon=CENTRE[1])
    bed_a = await builders.bed(db, first_night_taken)
    await builders.booking(db, bed_a, *when.days(0, 1))
    last_night_taken = await builders.facility(db, lat=north(2)[0], lon=CENTRE[1])
    bed_b = await builders.bed(db, last_night_taken)
    await builders.booking(db, bed_b, *when.days(2, 3))
    both_sides = await builders.facility(db, lat=north(3)[0], lon=CENTRE[1])
    bed_c = await builders.bed(db, both_sides)
    await builders.booking(db, bed_c, *when.days(-1, 1))
    await builders.booking(db, bed_c, *when.days(2, 4))
    free = await builders.facility(db, lat=north(4)[0], lon=CENTRE[1])
    await builders.bed(db, free)

    page = await search()

    assert ids(page) == [free]
    assert [(a.facility_id, a.shift_days, a.beds[0].bed_id) for a in page.alternatives] == [
        (first_night_taken, 1, bed_a),
        (last_night_taken, -1, bed_b),
        (both_sides, 4, bed_c),
    ]
    first = page.alternatives[0]
    assert (first.check_in, first.check_out) == when.days(1, 4)


async def test_no_alternatives_when_three_facilities_have_the_stay(
    when: When, db: Any, search: Search
) -> None:
    for km in (1, 2, 3):
        facility = await builders.facility(db, lat=north(km)[0], lon=CENTRE[1])
        await builders.bed(db, facility)
    booked = await builders.facility(db, lat=north(4)[0], lon=CENTRE[1])
    bed = await builders.bed(db, booked)
    await builders.booking(db, bed, *when.days(0, 1))
    page = await search()
    assert len(page.facilities) == 3 and page.alternatives == []


async def test_alternatives_never_start_before_today(when: When, db: Any, search: Search) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    await builders.booking(db, bed, when.today + timedelta(days=2), when.today + timedelta(days=3))
    page = await search((when.today, when.today + timedelta(days=3)))
    assert [(a.check_in, a.shift_days) for a in page.alternatives] == [
        (when.today + timedelta(days=3), 3)
    ]


async def test_alternatives_skip_held_beds(when: When, db: Any, search: Search, deps: Deps) -> None:
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    await builders.booking(db, bed, *when.days(0, 1))
    assert [a.shift_days for a in (await search()).alternatives] == [1]
    await place_hold(deps, facility, bed, when.days(3, 4))
    # +1, +2 and +3 share the held night, -1 and -2 the booked one.
    assert [a.shift_days for a in (await search()).alternatives] == [-3]


async def test_a_facility_found_but_held_gets_its_shifted_stay(
    when: When, db: Any, search: Search, deps: Deps
) -> None:
    # The page finds one facility (fewer than three), whose only bed Redis holds.
    facility = await builders.facility(db, lat=CENTRE[0], lon=CENTRE[1])
    bed = await builders.bed(db, facility)
    await place_hold(deps, facility, bed, when.days(0, 3))
    page = await search()
    assert page.facilities == []
    assert [(a.facility_id, a.shift_days) for a in page.alternatives] == [(facility, 3)]


async def test_holds_that_empty_a_full_page_still_bring_shifted_stays(
    when: When, db: Any, search: Search, deps: Deps
) -> None:
    # Three facilities have the stay in PostgreSQL; Redis holds two of them.
    facilities, held = [], []
    for km in (1, 2, 3):
        facility = await builders.facility(db, lat=north(km)[0], lon=CENTRE[1])
        bed = await builders.bed(db, facility)
        facilities.append(facility)
        if km < 3:
            await place_hold(deps, facility, bed, when.days(0, 1))
            held.append(facility)
    page = await search()
    assert ids(page) == [facilities[2]]
    assert [(a.facility_id, a.shift_days) for a in page.alternatives] == [(f, 1) for f in held]


# The SQL itself ------------------------------------------------------------------------------


async def test_sql_and_python_agree_on_distances(db: Any) -> None:
    assert await db.fetchval("SELECT respite_distance_m(NULL, NULL, 1, 2)") is None
    points = [(31.23, 121.47, 31.23, 121.47), (0, 0, 0, 180), (89.9, 10, -89.9, -170)]
    points += [(31.23, 121.47, lat, lon) for lat, lon in (north(4.999), east(5.001), east(49.9))]
    for lat1, lon1, lat2, lon2 in points:
        sql = await db.fetchval("SELECT respite_distance_m($1, $2, $3, $4)", lat1, lon1, lat2, lon2)
        assert sql == pytest.approx(haversine_m(lat1, lon1, lat2, lon2), rel=1e-12, abs=1e-6)


async def test_the_plan_serves_the_search_from_indexes(when: When, db: Any, search: Search) -> None:
    for km in (1, 2, 3):
        facility = await builders.facility(db, lat=north(km)[0], lon=CENTRE[1])
        bed = await builders.bed(db, facility)
        await builders.booking(db, bed, *when.days(-10, -5))
    await db.execute("ANALYZE")
    await db.execute("SET enable_seqscan = off")  # tiny tables: ask whether indexes *can* serve
    statements = []
    for params in ({}, {"sort": "price"}, {"near": None, "facility_ids": (1, 2)}):
        assert await search(**params) is not None
        query = search.query(**params)
        versions = await load_versions(db)
        policies = in_force(versions, query.kind, query.stay.check_in)
        filters = plan.filters_for(
            {c: p.policy for c, p in policies.items()},
            sex=None,
            needs=frozenset(),
            min_stage=0,
            home=None,
            origin=query.near,
        )
        statements.append(plan.page_statement(query, filters, 21))
    for statement in statements:
        rows = await db.fetch("EXPLAIN " + statement.sql, *statement.args)
        text = "\n".join(r[0] for r in rows)
        assert "Seq Scan" not in text, text
        assert "bed_nights_pkey" in text and "beds_search" in text
        if "box" in text:
            assert "facilities_location" in text


async def test_the_policy_cache_reads_again_after_its_time_to_live(when: When, db: Any) -> None:
    now = [100.0]
    cache = PolicyCache(ttl=10.0, clock=lambda: now[0])
    before = await cache.versions(db)
    await db.execute(
        "INSERT INTO policies (code, version, effective_from, document)"
        " SELECT code, 2, effective_from, document FROM policies"
        " WHERE code = 'cn-respite' AND version = 1"
    )
    now[0] = 109.9
    assert await cache.versions(db) is before
    now[0] = 110.0
    after = await cache.versions(db)
    assert len(after) == len(before) + 1
    assert in_force(after, "respite", when.d)["cn-respite"].version == 2
