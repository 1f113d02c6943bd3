"""``respite seed``: a believable city to try respite with — Shanghai.

Shanghai's gazetteer (its 16 districts and the streets of ten, ``city.py``), about 40
facilities each on a real street inside its district, ~1,500 beds (four in five respite beds,
the rest home-care beds), ~2,000 elders living near them with names that match their sex and
assessments across every level, and bookings and blocks over the next 90 days at roughly 70 %
occupancy — each elder in one bed a night (invariant 7), and never in two stays back to back,
so that no elder is refused for a run of nights the demo made up; six families wait for a bed at
the first two facilities (the waiting list). The demo family's own elders
(``family@demo.respite``) have no stays yet: their first search finds beds. Every point is in
GCJ-02, the demo's stated coordinate system. Loaded with COPY in one transaction; a second run
finds the demo data and only prints fresh tokens.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

from respite.auth.model import Principal, Role, StaffRole, hash_password
from respite.auth.service import issue_token
from respite.db import Conn, connect
from respite.dev.city import Street, elder_name, gazetteer, point_near, streets
from respite.dev.stays import Stock, load_stays, reserve_ids
from respite.eligibility import CAPABILITIES, NEEDS, level_for_total
from respite.eligibility.model import Sex
from respite.eligibility.store import ensure_presets
from respite.places.service import replace_places

__all__ = ["seed"]

DEMO_EMAIL = "family@demo.respite"
DEMO_PASSWORD = "respite-demo-password"
# The first facility's staff, to try the desk's pages with (the same password).
DEMO_STAFF = (
    ("manager", "manager@demo.respite", "王经理"),
    ("front_desk", "desk@demo.respite", "李前台"),
)
KINDS_OF_PLACE = ["长者照护之家", "综合为老服务中心", "社区养老院", "日间照料中心"]
OPERATORS = ["福寿康", "爱照护", "九如城", "亲和源", "申养", "佰仁堂"]
# A facility stands this close to its street's centroid; an elder's home this close to one.
FACILITY_SPREAD_M = 400
HOME_SPREAD_M = 1200
# One care level in ten is intact (level 0), which no respite programme takes: a demo elder's
# search should mostly find a bed. Totals for levels 0 to 4, by weight.
LEVEL_WEIGHTS = (1, 3, 3, 2, 1)
OWN_LEVEL_WEIGHTS = (0, 3, 3, 2, 0)


class City(msgspec.Struct, frozen=True, kw_only=True):
    """How big a city to make."""

    facilities: int = 40
    beds: int = 1500
    elders: int = 2000


async def seed(dsn: str, today: date, city: City | None = None) -> None:
    """Load the demo city (unless it is there) with stays around ``today``, the facilities'
    local date (they are all in Shanghai), and print fresh tokens to try it with."""
    city = city or City()
    conn = await connect(dsn)
    try:
        await ensure_presets(conn)
        async with conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM principals WHERE email = $1", DEMO_EMAIL):
                await _load_city(conn, random.Random(20261125), city, today)
                print(
                    f"seeded {city.facilities} facilities, {city.beds} beds, {city.elders} elders"
                )
            else:
                print("demo data already present; not loading it again")
            await _print_tokens(conn)
    finally:
        await conn.close()


async def _load_city(conn: Conn, rng: random.Random, city: City, today: date) -> None:
    n_facilities, n_beds, n_elders = city.facilities, city.beds, city.elders
    await conn.execute("INSERT INTO hospitals (name) VALUES ('上海市第六人民医院')")
    places = gazetteer()
    await replace_places(conn, places)
    every_street = streets(places)
    sites = _sites(rng, every_street, n_facilities)
    facility_ids = await reserve_ids(conn, "facilities", n_facilities)
    await conn.copy_records_to_table(
        "facilities",
        columns=[
            "id",
            "name",
            "operator",
            "address",
            "district",
            "community",
            "lat",
            "lon",
            "phone",
            "service_radius_m",
        ],
        records=[_facility(rng, fid, *site) for fid, site in zip(facility_ids, sites, strict=True)],
    )
    bed_rows = [_bed(rng, facility_ids[i % n_facilities], i) for i in range(n_beds)]
    bed_ids = await reserve_ids(conn, "beds", n_beds)
    await conn.copy_records_to_table(
        "beds",
        columns=[
            "id",
            "facility_id",
            "kind",
            "label",
            "sex_rule",
            "capabilities",
            "pressure_care_stage",
            "nightly_price",
        ],
        records=[(bid, *row) for bid, row in zip(bed_ids, bed_rows, strict=True)],
    )
    families = await _families(conn, n_elders // 2)
    near = [street for street, _ in sites]
    elder_ids = await _elders(conn, rng, _Homes(near, every_street), families, n_elders, today)
    # The demo family's elders (every len(families)-th) stay free for its own first search.
    others = [e for i, e in enumerate(elder_ids) if i % len(families) != 0]
    stock = Stock(
        beds=list(zip(bed_ids, bed_rows, strict=True)), elders=others, booked_by=families[0]
    )
    await load_stays(conn, rng, stock, today)
    await _staff(conn, facility_ids[0])
    await _waiting(conn, facility_ids[:2], elder_ids, families, today)


# Other families waiting for the first two facilities (the desk's queue has people in it), one
# elder just out of hospital; nothing is offered until nights free up there.
WAITING = 6


async def _waiting(
    conn: Conn, facility_ids: list[int], elder_ids: list[int], families: list[int], today: date
) -> None:
    joined = datetime.combine(today, time(9), tzinfo=UTC)
    await conn.executemany(
        "INSERT INTO waitlist_entries (owner_id, care_recipient_id, kind, facility_ids,"
        " earliest_check_in, latest_check_out, nights, min_nights, discharged_on, joined_at)"
        " VALUES ($1, $2, 'respite', $3, $4, $5, 7, 5, $6, $7)",
        [
            (
                families[n % len(families)],
                elder_ids[n],
                facility_ids,
                today + timedelta(days=3),
                today + timedelta(days=35),
                today - timedelta(days=2) if n == WAITING else None,
                joined - timedelta(days=WAITING - n),
            )
            for n in range(1, WAITING + 1)
        ],
    )


async def _staff(conn: Conn, facility_id: int) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    await conn.executemany(
        "INSERT INTO principals (role, name, email, password_hash, facility_id, staff_role)"
        " VALUES ('staff', $1, $2, $3, $4, $5)",
        [(name, email, password_hash, facility_id, role) for role, email, name in DEMO_STAFF],
    )


def _sites(rng: random.Random, every: list[Street], count: int) -> list[tuple[Street, int]]:
    """A street for each facility (each street once while they last) and its number there."""
    picked: list[tuple[Street, int]] = []
    while len(picked) < count:
        round_number = len(picked) // len(every) + 1
        chosen = rng.sample(every, min(len(every), count - len(picked)))
        picked.extend((street, round_number) for street in chosen)
    return picked


def _facility(rng: random.Random, fid: int, street: Street, number: int) -> tuple[Any, ...]:
    lat, lon = point_near(rng, street, FACILITY_SPREAD_M)
    ordinal = "" if number == 1 else f"（{number}）"
    name = f"{street.district}{street.name}{rng.choice(KINDS_OF_PLACE)}{ordinal}"
    road = street.name.removesuffix("街道").removesuffix("镇")
    road = road if road.endswith("路") else f"{road}路"
    address = f"上海市{street.district}{road}{rng.randint(1, 999)}号"
    phone = f"021-{rng.randint(5000_0000, 6999_9999)}"
    return (
        fid,
        name,
        rng.choice(OPERATORS),
        address,
        street.district,
        street.name,
        lat,
        lon,
        phone,
        rng.choice([3000, 5000, 8000]),
    )


class _Homes(msgspec.Struct, frozen=True):
    """Where elders live: four in five near a street with a facility, the rest anywhere."""

    near_facilities: list[Street]
    anywhere: list[Street]

    def street(self, rng: random.Random) -> Street:
        return rng.choice(self.near_facilities if rng.random() < 0.8 else self.anywhere)


def _bed(rng: random.Random, facility_id: int, index: int) -> tuple[Any, ...]:
    kind = "home" if rng.random() < 0.2 else "respite"
    caps = sorted(c for c in CAPABILITIES if rng.random() < 0.25)
    if kind == "home":
        label, price = f"HB-{index:04d}", rng.randrange(8000, 20001, 500)
    else:
        label, price = f"{rng.randint(1, 6)}F-{index:04d}", rng.randrange(15000, 45001, 500)
    sex_rule = rng.choices(["any", "female", "male"], weights=[6, 2, 2])[0]
    return (facility_id, kind, label, sex_rule, caps, rng.choice([0, 0, 1, 2, 3, 4]), price)


async def _families(conn: Conn, count: int) -> list[int]:
    password_hash = hash_password(DEMO_PASSWORD)
    emails = [DEMO_EMAIL] + [f"family{i}@demo.respite" for i in range(1, count)]
    rows = await conn.fetch(
        "INSERT INTO principals (role, name, email, password_hash) "
        "SELECT 'family', '家属' || n, e, $2 FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n) "
        "RETURNING id",
        emails,
        password_hash,
    )
    return sorted(r["id"] for r in rows)


async def _elders(
    conn: Conn, rng: random.Random, homes: _Homes, families: list[int], count: int, today: date
) -> list[int]:
    ids = await reserve_ids(conn, "care_recipients", count)
    records, assessments = [], []
    for i, elder_id in enumerate(ids):
        own = i % len(families) == 0  # the demo family's: near a facility, never intact
        street = rng.choice(homes.near_facilities) if own else homes.street(rng)
        lat, lon = point_near(rng, street, HOME_SPREAD_M)
        needs = sorted(n for n in NEEDS if rng.random() < 0.05)
        birth = date(rng.randint(1928, 1962), rng.randint(1, 12), rng.randint(1, 28))
        sex: Sex = rng.choice(["female", "male"])
        situation = rng.choice(["alone", "with_family", "with_family", "other"])
        records.append(
            (
                elder_id,
                families[i % len(families)],
                elder_name(rng, sex),
                sex,
                birth,
                f"上海市{street.district}{street.name}",
                lat,
                lon,
                situation,
                needs,
                rng.choice([0, 0, 0, 0, 1, 2]),
            )
        )
        total = rng.choices(
            [90, rng.randint(66, 89), rng.randint(46, 65), rng.randint(30, 45), rng.randint(0, 29)],
            weights=OWN_LEVEL_WEIGHTS if own else LEVEL_WEIGHTS,
        )[0]
        level = level_for_total(total)
        assessed = today - timedelta(days=rng.randint(10, 300))
        assessments.append(
            (
                elder_id,
                total,
                level,
                level,
                "demo assessor",
                "上海市老年照护统一需求评估中心",
                assessed,
                assessed + timedelta(days=365),
            )
        )
    await conn.copy_records_to_table(
        "care_recipients",
        columns=[
            "id",
            "family_id",
            "name",
            "sex",
            "birth_date",
            "home_address",
            "home_lat",
            "home_lon",
            "living_situation",
            "needs",
            "pressure_injury_stage",
        ],
        records=records,
    )
    await conn.copy_records_to_table(
        "assessments",
        columns=[
            "care_recipient_id",
            "total",
            "base_level",
            "level",
            "assessor",
            "organisation",
            "assessed_on",
            "valid_until",
        ],
        records=assessments,
    )
    return ids


async def _print_tokens(conn: Conn) -> None:
    family = await conn.fetchrow("SELECT id, name FROM principals WHERE email = $1", DEMO_EMAIL)
    assert family is not None
    facility = await conn.fetchval("SELECT min(id) FROM facilities")
    hospital = await conn.fetchval("SELECT min(id) FROM hospitals")
    print("\nTokens to try the API with (shown once; each run mints new ones):")
    demo_family = Principal(id=family["id"], role="family", name=family["name"])
    issued = await issue_token(conn, demo_family, None, "demo")
    print(f"  family   {issued.token}   (signs in as {DEMO_EMAIL} / {DEMO_PASSWORD})")
    for role, email, _ in DEMO_STAFF:
        print(f"  staff of facility {facility}, {role}: signs in as {email} / {DEMO_PASSWORD}")
    tenants: tuple[tuple[Role, int | None, int | None], ...] = (
        ("staff", facility, None),
        ("hospital", None, hospital),
        ("admin", None, None),
    )
    for role, facility_id, hospital_id in tenants:
        principal = await _demo_principal(conn, role, facility_id, hospital_id)
        issued = await issue_token(conn, principal, None, "demo")
        where = (
            f" of facility {facility_id}"
            if facility_id
            else f" of hospital {hospital_id}"
            if hospital_id
            else ""
        )
        print(f"  {role:<8} {issued.token}   ({role}{where})")


async def _demo_principal(
    conn: Conn, role: Role, facility_id: int | None, hospital_id: int | None
) -> Principal:
    name = f"demo {role}"
    staff_role: StaffRole | None = "manager" if role == "staff" else None
    row = await conn.fetchrow("SELECT id FROM principals WHERE name = $1 AND role = $2", name, role)
    principal_id = (
        row["id"]
        if row
        else await conn.fetchval(
            "INSERT INTO principals (role, name, facility_id, hospital_id, staff_role)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            role,
            name,
            facility_id,
            hospital_id,
            staff_role,
        )
    )
    return Principal(
        id=principal_id,
        role=role,
        name=name,
        facility_id=facility_id,
        hospital_id=hospital_id,
        staff_role=staff_role,
    )
