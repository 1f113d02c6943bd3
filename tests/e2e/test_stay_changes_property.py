"""Any sequence of extend, shorten, move and cancel, through the API, leaves the bed-night and
elder-night ledgers exactly the live stays: each live booking claims the nights of its stay on
its bed and for its elder, nothing else claims them, a cancelled booking claims nothing, and a
refused step changes nothing (hypothesis draws the sequences)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import builders
from tests.conftest import MakeToken

Op = tuple[str, int, int, int]
"""(what, which booking, a number of days, which bed)."""

OPS = st.lists(
    st.tuples(
        st.sampled_from(["extend", "shorten_end", "shorten_start", "move", "shift", "cancel"]),
        st.integers(0, 2),
        st.integers(1, 4),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=12,
)


def day(offset: int) -> date:
    return builders.today() + timedelta(days=offset)


async def ledgers_match(db: Any, bookings: list[int]) -> None:
    rows = await db.fetch(
        "SELECT id, bed_id, care_recipient_id, check_in, check_out, status FROM bookings"
        " WHERE id = any($1::bigint[])",
        bookings,
    )
    for row in rows:
        beds = await db.fetch(
            "SELECT bed_id, night FROM bed_nights WHERE booking_id = $1 ORDER BY night", row["id"]
        )
        elders = await db.fetch(
            "SELECT care_recipient_id, night FROM recipient_nights WHERE booking_id = $1"
            " ORDER BY night",
            row["id"],
        )
        if row["status"] in ("confirmed", "checked_in"):
            span = (row["check_out"] - row["check_in"]).days
            nights = [row["check_in"] + timedelta(days=n) for n in range(span)]
            assert [(r["bed_id"], r["night"]) for r in beds] == [(row["bed_id"], n) for n in nights]
            assert [(r["care_recipient_id"], r["night"]) for r in elders] == [
                (row["care_recipient_id"], n) for n in nights
            ]
        else:
            assert beds == [] and elders == []


def changed(booking: dict[str, Any], op: Op, beds: list[int]) -> dict[str, Any] | None:
    """The change ``op`` asks of ``booking``; None for a cancel."""
    what, _, days, bed = op
    check_in, check_out = (
        date.fromisoformat(booking["check_in"]),
        date.fromisoformat(booking["check_out"]),
    )
    one = timedelta(days=days)
    if what == "cancel":
        return None
    if what == "extend":
        check_out += one
    elif what == "shorten_end":
        check_out -= one
    elif what == "shorten_start":
        check_in += one
    elif what == "shift":
        check_in, check_out = check_in + one, check_out + one
    change: dict[str, Any] = {"check_in": str(check_in), "check_out": str(check_out)}
    if what == "move":
        change["bed_id"] = beds[bed]
    return change


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_any_sequence_of_changes_keeps_the_ledgers_exactly_the_live_stays(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    loop = asyncio.get_event_loop()

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=OPS)
    def run(ops: list[Op]) -> None:
        loop.run_until_complete(scenario(client, db, make_token, ops))

    run()


async def scenario(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, ops: list[Op]
) -> None:
    facility = await builders.facility(db)
    beds = [await builders.bed(db, facility, price=20000 + 1000 * n) for n in range(3)]
    _, staff = await make_token("staff", facility_id=facility)
    bookings: list[dict[str, Any]] = []
    for n in range(3):
        elder = await builders.recipient(db, facility_id=facility)
        walked = await client.post(
            f"/v1/facilities/{facility}/walk-ins",
            json={
                "care_recipient_id": elder,
                "bed_id": beds[n],
                "check_in": str(day(10 + 2 * n)),
                "check_out": str(day(14 + 2 * n)),
            },
            headers=staff,
        )
        assert walked.status_code == 201, walked.text
        bookings.append(walked.json())
    ids = [booking["id"] for booking in bookings]
    await ledgers_match(db, ids)
    for op in ops:
        booking = bookings[op[1]]
        change = changed(booking, op, beds)
        if change is None:
            answer = await client.post(
                f"/v1/bookings/{booking['id']}/cancel", json={"reason": "plans"}, headers=staff
            )
        else:
            quoted = await client.post(
                f"/v1/bookings/{booking['id']}/change/quote", json=change, headers=staff
            )
            assert quoted.status_code in (200, 409, 422), quoted.text
            price = quoted.json().get("nightly_price", 20000)
            answer = await client.post(
                f"/v1/bookings/{booking['id']}/change",
                json={**change, "nightly_price": price},
                headers=staff,
            )
        assert answer.status_code in (200, 409, 422), answer.text
        if answer.status_code == 200:
            bookings[op[1]] = answer.json()
        else:
            now = await client.get(f"/v1/bookings/{booking['id']}", headers=staff)
            assert now.json() == booking, "a refused step changed the booking"
        await ledgers_match(db, ids)
