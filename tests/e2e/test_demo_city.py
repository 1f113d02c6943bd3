"""The demo city reads true (issue #13, 9): facilities inside their districts, names that match
sex, elders whose searches find beds, and the README's family walkthrough, run as written.

The city is the one ``ops/run`` loads (the default ``City``), seeded once for the module; the
walkthrough's booking is the only write, and it changes none of what the other tests read.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from respite.dev import seed
from respite.dev.city import GIVEN_NAMES, SURNAMES
from respite.dev.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_STAFF
from respite.geo import haversine_m
from respite.places.model import REACH_SLACK
from tests import builders
from tests.conftest import MakeToken

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
async def demo(shared_database_url: str, shared_db: Any) -> date:
    today = builders.today()
    await seed(shared_database_url, today)
    return today


async def test_every_facility_stands_on_a_street_inside_its_district(
    demo: date, shared_db: Any
) -> None:
    rows = await shared_db.fetch(
        "SELECT f.name, f.lat, f.lon, d.lat AS d_lat, d.lon AS d_lon, d.radius_m AS d_reach,"
        " s.lat AS s_lat, s.lon AS s_lon, s.radius_m AS s_reach"
        " FROM facilities f"
        " JOIN places d ON d.kind = 'district' AND d.name = f.district"
        " JOIN places s ON s.kind = 'street' AND s.parent_id = d.id AND s.name = f.community"
    )
    assert len(rows) == await shared_db.fetchval("SELECT count(*) FROM facilities") >= 40
    for r in rows:
        assert r["name"].startswith(await _district_and_street(shared_db, r["name"]))
        assert haversine_m(r["lat"], r["lon"], r["d_lat"], r["d_lon"]) <= r["d_reach"] * REACH_SLACK
        assert haversine_m(r["lat"], r["lon"], r["s_lat"], r["s_lon"]) <= r["s_reach"]


async def _district_and_street(db: Any, name: str) -> str:
    row = await db.fetchrow("SELECT district, community FROM facilities WHERE name = $1", name)
    return f"{row['district']}{row['community']}"


async def test_every_elder_has_a_given_name_of_their_sex(demo: date, shared_db: Any) -> None:
    rows = await shared_db.fetch("SELECT name, sex FROM care_recipients")
    assert len(rows) >= 2000
    for r in rows:
        assert r["name"][0] in SURNAMES and r["name"][1:] in GIVEN_NAMES[r["sex"]], dict(r)


async def test_no_elder_has_stays_back_to_back(demo: date, shared_db: Any) -> None:
    """Stays that touch count as one run against the consecutive limit: the demo once refused
    its own elder for "97 consecutive nights"."""
    touching = await shared_db.fetchval(
        "SELECT count(*) FROM bookings a JOIN bookings b"
        " ON b.care_recipient_id = a.care_recipient_id AND b.check_in = a.check_out"
    )
    assert touching == 0


async def test_the_desk_has_arrivals_to_check_in_today(demo: date, shared_db: Any) -> None:
    """Today's arrivals wait for the desk (the first facility has some); whoever came
    earlier and has not left is checked in, those leaving today included."""
    first = await shared_db.fetchval("SELECT min(id) FROM facilities")
    arriving = await shared_db.fetch(
        "SELECT facility_id, status FROM bookings WHERE check_in = $1", demo
    )
    assert {r["status"] for r in arriving} == {"confirmed"}
    assert any(r["facility_id"] == first for r in arriving)
    staying = await shared_db.fetch(
        "SELECT DISTINCT status FROM bookings WHERE check_in < $1 AND check_out >= $1", demo
    )
    assert [r["status"] for r in staying] == ["checked_in"]


async def test_families_wait_for_the_first_facilities_each_for_their_own_elder(
    demo: date, shared_db: Any
) -> None:
    rows = await shared_db.fetch(
        "SELECT e.owner_id, c.family_id, e.facility_ids, e.status, e.discharged_on"
        " FROM waitlist_entries e JOIN care_recipients c ON c.id = e.care_recipient_id"
    )
    first_two = [
        r["id"] for r in await shared_db.fetch("SELECT id FROM facilities ORDER BY id LIMIT 2")
    ]
    assert len(rows) == 6
    assert all(r["owner_id"] == r["family_id"] for r in rows)
    assert all(r["facility_ids"] == first_two and r["status"] == "waiting" for r in rows)
    assert sum(r["discharged_on"] is not None for r in rows) == 1


def _stay(today: date) -> dict[str, str]:
    check_in = today + timedelta(days=14)
    return {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(5)).isoformat()}


async def test_the_demo_staff_sign_in_to_the_first_facility_in_their_roles(
    demo: date, shared_db: Any, shared_client: httpx.AsyncClient
) -> None:
    first = await shared_db.fetchval("SELECT min(id) FROM facilities")
    for role, email, _ in DEMO_STAFF:
        answer = await shared_client.post(
            "/v1/auth/signin", json={"login": email, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        principal = answer.json()["principal"]
        assert (principal["role"], principal["staff_role"]) == ("staff", role)
        assert principal["facility_id"] == first
    assert {r for r, _, _ in DEMO_STAFF} == {"manager", "front_desk"}


async def test_most_demo_elders_find_a_bed_near_home(
    demo: date, shared_db: Any, shared_client: httpx.AsyncClient, shared_make_token: MakeToken
) -> None:
    _, headers = await shared_make_token("admin")
    family = await shared_db.fetchval("SELECT id FROM principals WHERE email = $1", DEMO_EMAIL)
    own = [
        r["id"]
        for r in await shared_db.fetch(
            "SELECT id FROM care_recipients WHERE family_id = $1", family
        )
    ]
    sample = [
        r["id"]
        for r in await shared_db.fetch(
            "SELECT c.id FROM care_recipients c JOIN assessments a ON a.care_recipient_id = c.id"
            " WHERE a.level >= 1 ORDER BY c.id"
        )
    ][::50]
    found = {}
    for elder in own + sample:
        response = await shared_client.get(
            "/v1/availability",
            params={**_stay(demo), "care_recipient_id": elder, "near_home": "true"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        found[elder] = bool(response.json()["facilities"])
    assert len(own) == 2 and all(found[e] for e in own)
    assert sum(found[e] for e in sample) >= 0.8 * len(sample), found


# The README's family walkthrough ------------------------------------------------------------

_ASSIGN = re.compile(r"^(\w+)=(.*)$")
_DATE = re.compile(r"^\$\(date -d '\+(\d+) days' \+%F\)$")
_ECHO = re.compile(r"""^\$\(echo "\$(\w+)" \| jq -r '([^']+)'\)$""")
_PATH = re.compile(r"\.(\w+)|\[(\d+)\]")


def _walkthrough() -> list[str]:
    block = README.read_text(encoding="utf-8").split("<!-- family-walkthrough -->", 1)[1]
    return block.split("```sh\n", 1)[1].split("\n```", 1)[0].splitlines()


def _pick(document: Any, path: str) -> str:
    assert _PATH.sub("", path) == "", f"the test reads only plain jq paths, not {path!r}"
    for name, index in _PATH.findall(path):
        document = document[name] if name else document[int(index)]
    return str(document)


class _Shell:
    """Runs the README's lines the way a shell would, curl through the test's client."""

    def __init__(self, client: httpx.AsyncClient, today: date) -> None:
        self.client, self.today = client, today
        self.variables: dict[str, str] = {}
        self.answers: list[Any] = []

    def expand(self, text: str) -> str:
        return re.sub(r"\$(\w+)", lambda m: self.variables[m.group(1)], text)

    async def run(self, line: str) -> None:
        assignment = _ASSIGN.match(line)
        if assignment is None:
            await self.command(line)
            return
        name, value = assignment.groups()
        if (days := _DATE.match(value)) is not None:
            self.variables[name] = (self.today + timedelta(int(days.group(1)))).isoformat()
        elif (echo := _ECHO.match(value)) is not None:
            document = json.loads(self.variables[echo.group(1)])
            self.variables[name] = _pick(document, echo.group(2))
        elif value.startswith("$(") and value.endswith(")"):
            self.variables[name] = await self.command(value[2:-1])
        else:
            self.variables[name] = value

    async def command(self, line: str) -> str:
        words = shlex.split(self.expand(line))
        stages: list[list[str]] = [[]]
        for word in words:
            stages.append([]) if word == "|" else stages[-1].append(word)
        text = await self.curl(stages[0])
        for stage in stages[1:]:
            assert stage[0] == "jq"
            if stage[1] == "-r":
                return _pick(json.loads(text), stage[2])
        return text

    async def curl(self, words: list[str]) -> str:
        assert words[0] == "curl"
        method, headers, body, url = "GET", {}, None, ""
        flags = iter(words[1:])
        for word in flags:
            if word == "-X":
                method = next(flags)
            elif word == "-H":
                key, _, value = next(flags).partition(": ")
                headers[key] = value
            elif word == "-d":
                body = next(flags)
            elif word != "-s":
                url = word
        path = url.removeprefix(self.variables["API"])
        response = await self.client.request(method, path, headers=headers, content=body)
        assert response.status_code < 300, (line_of(method, path), response.text)
        self.answers.append(response.json())
        return response.text


def line_of(method: str, path: str) -> str:
    return f"{method} {path}"


async def test_the_readmes_family_walkthrough_books_a_stay(
    demo: date, shared_client: httpx.AsyncClient
) -> None:
    shell = _Shell(shared_client, demo)
    for line in _walkthrough():
        await shell.run(line)
    xuhui = shell.answers[2]
    assert xuhui["place"]["name"] == "徐汇区" and xuhui["facilities"]
    assert xuhui["not_checked_against_elder"]
    booking = shell.answers[-2]
    assert booking["status"] == "confirmed"
    assert booking["check_in"] == shell.variables["CHECK_IN"]
    listed = shell.answers[-1]["items"]
    assert booking["id"] in [b["id"] for b in listed]
