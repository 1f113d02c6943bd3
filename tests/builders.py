"""Test data written straight to the database, with random labels so tests never collide.

For arranging state only; what is under test goes through the service or the HTTP API.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from respite.clock import local_today
from respite.nights import claim_elder_nights, claim_nights

# The instant the suite's clocks stand at (the ``clock`` fixture starts every test here): every
# test sees the same "today" however long the run and whenever it crosses a midnight.
SUITE_START = datetime.now(UTC).replace(microsecond=0)


def today(timezone: str = "Asia/Shanghai") -> date:
    """Today at a facility of ``timezone`` (builders' facilities are in Shanghai) by the
    suite's clock, which is not the machine's date for eight hours of every UTC day."""
    return local_today(timezone, SUITE_START)


async def facility(
    db: Any, *, lat: float = 31.23, lon: float = 121.47, radius_m: int = 5000, **extra: Any
) -> int:
    columns = {
        "name": f"F-{secrets.token_hex(3)}",
        "lat": lat,
        "lon": lon,
        "service_radius_m": radius_m,
        **extra,
    }
    names = ", ".join(columns)
    params = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return int(
        await db.fetchval(
            f"INSERT INTO facilities ({names}) VALUES ({params}) RETURNING id", *columns.values()
        )
    )


async def bed(
    db: Any,
    facility_id: int,
    *,
    kind: str = "respite",
    sex_rule: str = "any",
    capabilities: tuple[str, ...] = (),
    pressure_care_stage: int = 0,
    price: int = 20000,
    label: str | None = None,
) -> int:
    return int(
        await db.fetchval(
            "INSERT INTO beds (facility_id, kind, label, sex_rule, capabilities, pressure_care_stage,"
            " nightly_price) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            facility_id,
            kind,
            label or f"B-{secrets.token_hex(3)}",
            sex_rule,
            list(capabilities),
            pressure_care_stage,
            price,
        )
    )


async def recipient(
    db: Any,
    *,
    family_id: int | None = None,
    hospital_id: int | None = None,
    facility_id: int | None = None,
    sex: str = "female",
    birth_date: date = date(1940, 5, 1),
    needs: tuple[str, ...] = (),
    home: tuple[float, float] | None = (31.23, 121.47),
    living_situation: str = "with_family",
    level: int | None = 2,
    assessed_on: date | None = None,
) -> int:
    """A care recipient owned by exactly one tenant, with an assessment at ``level`` (or none)."""
    if family_id is None and hospital_id is None and facility_id is None:
        family_id = await principal(db, "family")
    rid = int(
        await db.fetchval(
            "INSERT INTO care_recipients (family_id, hospital_id, facility_id, name, sex, birth_date,"
            " home_lat, home_lon, living_situation, needs) VALUES ($1, $2, $3, '王秀英', $4, $5, $6, $7, $8, $9)"
            " RETURNING id",
            family_id,
            hospital_id,
            facility_id,
            sex,
            birth_date,
            home[0] if home else None,
            home[1] if home else None,
            living_situation,
            list(needs),
        )
    )
    if level is not None:
        on = assessed_on or today() - timedelta(days=30)
        total = {0: 90, 1: 80, 2: 50, 3: 40, 4: 10}[level]
        await db.execute(
            "INSERT INTO assessments (care_recipient_id, total, base_level, level, assessed_on, valid_until)"
            " VALUES ($1, $2, $3, $3, $4, $5)",
            rid,
            total,
            level,
            on,
            on + timedelta(days=365),
        )
    return rid


async def principal(
    db: Any,
    role: str = "family",
    *,
    facility_id: int | None = None,
    hospital_id: int | None = None,
    staff_role: str = "manager",
) -> int:
    email = f"{secrets.token_hex(5)}@example.test" if role == "family" else None
    return int(
        await db.fetchval(
            "INSERT INTO principals"
            " (role, name, email, password_hash, facility_id, hospital_id, staff_role)"
            " VALUES ($1, $1, $2, $3, $4, $5, $6) RETURNING id",
            role,
            email,
            "x" if role == "family" else None,
            facility_id,
            hospital_id,
            staff_role if role == "staff" else None,
        )
    )


async def hospital(db: Any) -> int:
    return int(
        await db.fetchval(
            "INSERT INTO hospitals (name) VALUES ($1) RETURNING id", f"H-{secrets.token_hex(3)}"
        )
    )


async def booking(
    db: Any,
    bed_id: int,
    check_in: date,
    check_out: date,
    *,
    recipient_id: int | None = None,
    status: str = "confirmed",
) -> int:
    """A booking with its nights claimed (the elder's too while it is live), as if confirmed
    earlier."""
    facility_id = await db.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed_id)
    rid = recipient_id or await recipient(db, facility_id=facility_id)
    booker = await principal(db, "admin")
    async with db.transaction():
        bid = int(
            await db.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out, status,"
                " nightly_price, total_price, booked_by) VALUES ($1, $2, $3, $4, $5, $6, 100, 100, $7)"
                " RETURNING id",
                bed_id,
                facility_id,
                rid,
                check_in,
                check_out,
                status,
                booker,
            )
        )
        if status in ("confirmed", "checked_in"):
            await claim_elder_nights(db, rid, check_in, check_out, booking_id=bid)
            await claim_nights(db, bed_id, check_in, check_out, booking_id=bid)
    return bid


async def block(
    db: Any, bed_id: int, check_in: date, check_out: date, reason: str = "maintenance"
) -> int:
    facility_id = await db.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed_id)
    async with db.transaction():
        kid = int(
            await db.fetchval(
                "INSERT INTO blocks (bed_id, facility_id, check_in, check_out, reason)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                bed_id,
                facility_id,
                check_in,
                check_out,
                reason,
            )
        )
        await claim_nights(db, bed_id, check_in, check_out, block_id=kid)
    return kid


async def placed_hold(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    elder: int,
    bed: int,
    first: int,
    nights: int,
) -> dict[str, Any]:
    """A hold placed through the API for ``nights`` nights from ``first`` days after today."""
    check_in = today() + timedelta(days=first)
    response = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": elder,
            "bed_id": bed,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    hold: dict[str, Any] = response.json()
    return hold
