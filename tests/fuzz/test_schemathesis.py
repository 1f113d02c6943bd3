"""Property-based fuzzing of every operation of the OpenAPI document, once per role.

What is checked, for every generated request and its answer:

- ``not_a_server_error``: no 5xx other than the documented 503 of a backend (none is down here);
- ``status_code_conformance``: the status is one the document declares for the operation;
- ``content_type_conformance``: the media type is the declared one (problem details are
  ``application/problem+json``);
- ``response_schema_conformance``: the body matches the declared schema (success and problems).

How: the document is read from the running app (``/schema/openapi.json``); schemathesis draws
cases for each operation with Hypothesis (valid ones and, where the schema allows, invalid
ones), derandomized so CI sees the same cases every run, without shrinking and a fixed budget
per operation (``EXAMPLES``). Drawing is most of the cost, and derandomized draws do not depend
on the role: each process draws an operation's cases once (``Plan``) and every role sends its
own copy of the first ``EXAMPLES[role]`` of them. The requests are sent through the real app in this event loop (``serve_in_loop``), with the role's
bearer token, against a seeded database (a facility with beds, a block, a booking, care
recipients of every tenant, a hospital) so that ids in paths and bodies hit real objects: a
drawn id is swapped, most of the time, for one known to exist.

Stateful links are followed in a light, budget-friendly way rather than with schemathesis'
state machine (whose per-step cost and sequence search would not fit the budget): operations
run in order create → read → act → update → delete, and every object a ``POST`` creates (its
``id``, a hold's ``hold_id`` and token) joins the known ids, so later operations read, change,
confirm or release it.

Depth is checked too: each role must get a success from a few operations deep in the life of
a stay (``REACHED``: a hold and its confirm, a new bed, a block ...), proof that the cases get
past validation and tenancy to the rules behind them.

Nothing is excluded: every operation is fuzzed as every role. Two things are shaped so that the
fuzzing stays inside this machine and the run keeps its meaning: callback URLs whose host is a
name are pointed at a documentation address (192.0.2.0/24) so that no name is ever resolved
(the webhook worker is off, so nothing is sent to it either), and a sign-out revokes a
throwaway token instead of the role's own.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from respite.app import create_app
from respite.auth.model import Principal
from respite.auth.service import issue_token
from respite.referral.webhook_security import UnsafeUrlError, parse_callback_url
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop

ROLES = ("anonymous", "family", "staff", "hospital", "admin")
# Cases per operation and generation mode; anonymous calls stop at authentication mostly.
EXAMPLES = {"anonymous": 6, "family": 20, "staff": 20, "hospital": 20, "admin": 20}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A POST to a collection whose last segment is this creates an object known by this name.
CREATES = {
    "facilities": "facility_id",
    "beds": "bed_id",
    "blocks": "block_id",
    "walk-ins": "booking_id",
    "confirm": "booking_id",
    "care-recipients": "care_recipient_id",
    "hospitals": "hospital_id",
    "credentials": "credential_id",
    "referrals": "referral_id",
    "endpoints": "endpoint_id",
}
ORDER = {"POST": 0, "GET": 1, "PATCH": 4, "DELETE": 5}
# Operations that must succeed at least once per role: proof that the fuzzing reaches them.
_STAY = ["POST /v1/holds", "POST /v1/holds/{hold_id}/confirm"]
REACHED = {
    "family": [*_STAY, "POST /v1/care-recipients", "POST /v1/eligibility"],
    "staff": [
        *_STAY,
        "POST /v1/facilities/{facility_id}/beds",
        "PATCH /v1/beds/{bed_id}",
        "POST /v1/beds/{bed_id}/blocks",
    ],
    "hospital": [*_STAY, "POST /v1/care-recipients"],
    "admin": [
        "POST /v1/facilities",
        "POST /v1/hospitals",
        "POST /v1/hospitals/{hospital_id}/credentials",
    ],
}
BASE_URL = "http://testserver"


@dataclass
class World:
    """The seeded objects, the role's credentials, and every id learnt while fuzzing."""

    headers: dict[str, dict[str, str]]
    principals: dict[str, Principal]
    ids: dict[str, list[Any]]
    own: dict[str, dict[str, list[Any]]]
    """Per role, the seeded objects that are its own: drawn first, so that writes get past
    the tenancy check and reach the rules behind it."""
    hold_tokens: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    """Per operation, the statuses it answered."""

    def pick(self, role: str, name: str, rng: random.Random) -> Any:
        own = self.own.get(role, {}).get(name)
        return rng.choice(own if own and rng.random() < 0.7 else self.ids[name])

    def learn(self, name: str, value: Any) -> None:
        known = self.ids.setdefault(name, [])
        if value not in known:
            known.append(value)


async def seed(db: Any, make_token: MakeToken) -> World:
    facility = await builders.facility(db)
    beds = [
        await builders.bed(db, facility),
        await builders.bed(db, facility, kind="home"),
        await builders.bed(db, facility, capabilities=("oxygen",)),
    ]
    hospital = await builders.hospital(db)
    roles = {
        "family": await make_token("family"),
        "staff": await make_token("staff", facility_id=facility),
        "hospital": await make_token("hospital", hospital_id=hospital),
        "admin": await make_token("admin"),
    }
    principals = {role: principal for role, (principal, _) in roles.items()}
    recipients = [
        await builders.recipient(db, family_id=principals["family"].id),
        await builders.recipient(db, hospital_id=hospital),
        await builders.recipient(db, facility_id=facility),
    ]
    soon = builders.today() + timedelta(days=20)
    booking = await builders.booking(
        db, beds[0], soon, soon + timedelta(days=3), recipient_id=recipients[0]
    )
    block = await builders.block(db, beds[2], soon, soon + timedelta(days=2))
    return World(
        headers={"anonymous": {}, **{role: headers for role, (_, headers) in roles.items()}},
        principals=principals,
        ids={
            "facility_id": [facility],
            "bed_id": beds,
            "block_id": [block],
            "booking_id": [booking],
            "care_recipient_id": recipients,
            "hospital_id": [hospital],
            "code": ["cn-respite", "cn-home"],
        },
        own={
            "family": {"care_recipient_id": [recipients[0]], "booking_id": [booking]},
            "hospital": {"care_recipient_id": [recipients[1]]},
            "staff": {"care_recipient_id": [recipients[2]], "bed_id": beds[:1]},
        },
    )


@pytest.fixture
def fuzz_app(settings: Settings) -> Litestar:
    # No webhook worker: nothing may be sent to the callback URLs the fuzzer registers.
    return create_app(msgspec.structs.replace(settings, webhook_worker=False), configure_logs=False)


def draw_cases(operation: Any, mode: GenerationMode, count: int) -> list[Any]:
    cases: list[Any] = []

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


def replica(case: Any) -> Any:
    """A deep copy of a drawn case, for ``shape`` to change. It shares the operation and the
    record of the case as drawn (written once, then only read; the drawn case itself is never
    changed). A case tracks changes to itself in ``__setattr__``: its slots are copied past it."""
    memo = {id(case.operation): case.operation, id(case._components): case._components}
    twin = object.__new__(type(case))
    for name in type(case).__slots__:
        object.__setattr__(twin, name, copy.deepcopy(getattr(case, name), memo))
    return twin


class Plan:
    """A document's operations in the order they are fuzzed, and the cases drawn for each."""

    def __init__(self, document: dict[str, Any]) -> None:
        schema = schemathesis.openapi.from_dict(document)
        self.operations = sorted(
            (r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)), key=operation_order
        )
        self._drawn: dict[tuple[str, GenerationMode], list[Any] | Exception] = {}

    def cases(self, operation: Any, mode: GenerationMode, count: int) -> list[Any]:
        """The first ``count`` cases of the operation in this mode, each a copy of its own;
        raises what drawing raised (an operation may have nothing to negate)."""
        key = (operation.label, mode)
        if key not in self._drawn:
            try:
                self._drawn[key] = draw_cases(operation, mode, max(EXAMPLES.values()))
            except Exception as exc:
                self._drawn[key] = exc
        drawn = self._drawn[key]
        if isinstance(drawn, Exception):
            raise drawn
        return [replica(case) for case in drawn[:count]]


@functools.cache
def plan_of(document: str) -> Plan:
    """One plan a process for each document (every role's app serves the same one)."""
    return Plan(json.loads(document))


def operation_order(operation: Any) -> tuple[int, str]:
    """Create, then read, then confirm the holds, then act on objects (before an update
    changes them, as a new birth date would make a held elder ineligible at confirm), then
    update, then delete them. Confirms come before the other steps: cancelling the booking
    that lets staff see a family's elder would hide the elder their hold is for."""
    method = operation.method.upper()
    rank = ORDER.get(method, 4)
    last = operation.path.rsplit("/", 1)[-1]
    if method == "POST" and last == "confirm":
        rank = 2
    elif method == "POST" and last not in CREATES.keys() | {"holds"}:
        rank = 3
    return rank, operation.path


def safe_callback_url(url: Any) -> Any:
    """A URL that the service would resolve gets a literal documentation address instead."""
    if not isinstance(url, str):
        return url
    try:
        target = parse_callback_url(url, allow_loopback_http=False)
    except (UnsafeUrlError, ValueError):
        return url  # refused before any lookup
    try:
        parts = urlsplit(url)
        netloc = "192.0.2.10" + (f":{target.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    except ValueError:
        return url


STAYS = (("check_in", "check_out"), ("start", "end"), ("from", "to"))


def plausible_dates(container: Any, rng: random.Random) -> None:
    """Drawn dates are mostly far from today; make some stays ones a service would accept."""
    if not isinstance(container, dict):
        return
    today = builders.today()
    for first, last in STAYS:
        if first in container and last in container and rng.random() < 0.6:
            begin = today + timedelta(days=rng.randint(1, 40))
            container[first] = begin.isoformat()
            container[last] = (begin + timedelta(days=rng.randint(1, 10))).isoformat()
    if "discharge_date" in container and rng.random() < 0.6:
        container["discharge_date"] = (today + timedelta(days=rng.randint(0, 10))).isoformat()


def shape(case: Any, world: World, role: str, rng: random.Random) -> None:
    """Point the case at known objects most of the time, and keep it on this machine."""
    # A hold names bed_id or facility_id, both optional in the schema: name a bed often.
    hold = case.operation.label == "POST /v1/holds" and isinstance(case.body, dict)
    if hold and rng.random() < 0.6:
        case.body.pop("facility_id", None)
        case.body["bed_id"] = world.pick(role, "bed_id", rng)
    own_elders = world.own.get(role, {}).get("care_recipient_id")
    if hold and own_elders and rng.random() < 0.5:
        # The role's own elder, with an assessment, at the seeded facility (any free bed of it:
        # a bed the fuzzing blocked or booked does not refuse it) on plausible dates: a hold
        # that gets past validation, tenancy and eligibility. Without it, whether any hold
        # reached confirm would hang on what the generator happened to draw, and it draws
        # other cases whenever any schema of the document changes.
        case.body.pop("referral_id", None)
        case.body.pop("bed_id", None)
        begin = builders.today() + timedelta(days=rng.randint(1, 40))
        case.body.update(
            care_recipient_id=own_elders[0],
            facility_id=world.ids["facility_id"][0],
            kind="respite",
            check_in=begin.isoformat(),
            check_out=(begin + timedelta(days=rng.randint(1, 10))).isoformat(),
        )
    plausible_dates(case.body, rng)
    plausible_dates(case.query, rng)
    for name in list(case.path_parameters or {}):
        if world.ids.get(name) and rng.random() < 0.75:
            case.path_parameters[name] = world.pick(role, name, rng)
    hold_id = (case.path_parameters or {}).get("hold_id")
    body = case.body
    if isinstance(body, dict):
        for name in list(body):
            if world.ids.get(name) and rng.random() < 0.6:
                body[name] = world.pick(role, name, rng)
        if "url" in body:
            body["url"] = safe_callback_url(body["url"])
        if hold_id in world.hold_tokens and "token" in body and rng.random() < 0.75:
            body["token"] = world.hold_tokens[hold_id]
    if hold_id in world.hold_tokens and case.headers is not None and rng.random() < 0.75:
        case.headers["Hold-Token"] = world.hold_tokens[hold_id]
    if case.headers and "Idempotency-Key" in case.headers and rng.random() < 0.75:
        # Drawn keys repeat across cases, and a key reused for another request is refused.
        case.headers["Idempotency-Key"] = f"fuzz-{rng.getrandbits(64):016x}"


async def send(client: httpx.AsyncClient, case: Any, auth: dict[str, str]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = {**kwargs["headers"], **auth}
    if kwargs.get("cookies"):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    return await client.request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        content=kwargs.get("data"),
    )


def learn(world: World, operation: Any, response: httpx.Response) -> None:
    if operation.method.upper() != "POST" or response.status_code not in (200, 201):
        return
    body = response.json()
    if not isinstance(body, dict):
        return
    if "hold_id" in body and "token" in body:
        world.learn("hold_id", body["hold_id"])
        world.hold_tokens[body["hold_id"]] = body["token"]
        return
    name = CREATES.get(operation.path.rstrip("/").rsplit("/", 1)[-1])
    if name is not None and isinstance(body.get("id"), int):
        world.learn(name, body["id"])


def describe(
    role: str, operation: Any, case: Any, response: httpx.Response, exc: BaseException
) -> str:
    """What failed (first line, used to group repeats), how to reproduce it, the answer."""
    failures = getattr(exc, "exceptions", [exc])
    reasons = []
    for failure in failures:
        text = [line.strip() for line in str(failure).splitlines() if line.strip()]
        reasons.append(" ".join(text[:2]))
    return "\n".join(
        [
            f"- {role} {operation.label} -> {response.status_code}: " + " / ".join(reasons),
            f"    {case.as_curl_command(headers={'Authorization': '[role token]'})}",
            f"    {response.text[:300]}",
        ]
    )


def summary(findings: list[str]) -> str:
    """Each distinct finding once, with how often it was seen and its first example."""
    first: dict[str, str] = {}
    seen: dict[str, int] = {}
    for finding in findings:
        key = finding.splitlines()[0]
        first.setdefault(key, finding)
        seen[key] = seen.get(key, 0) + 1
    return "\n".join(f"({seen[key]}x) {first[key]}" for key in first)


async def auth_for(db: Any, world: World, role: str, operation: Any) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if operation.path == "/v1/auth/signout":
        issued = await issue_token(db, world.principals[role], None)
        return {"Authorization": f"Bearer {issued.token}"}
    return world.headers[role]


async def fuzz_operation(
    client: httpx.AsyncClient, db: Any, world: World, role: str, plan: Plan, operation: Any
) -> list[str]:
    rng = random.Random(f"{role} {operation.label}")
    findings: list[str] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            cases = plan.cases(operation, mode, EXAMPLES[role])
        except Exception as exc:  # some operations have nothing to negate
            if mode is GenerationMode.NEGATIVE:
                continue
            raise AssertionError(f"{operation.label}: cannot draw cases: {exc}") from exc
        for case in cases:
            shape(case, world, role, rng)
            response = await send(client, case, await auth_for(db, world, role, operation))
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:
                findings.append(describe(role, operation, case, response, exc))
            learn(world, operation, response)
            world.statuses.setdefault(operation.label, []).append(response.status_code)
    return findings


@pytest.mark.parametrize("role", ROLES)
async def test_every_operation_as_role(
    fuzz_app: Litestar, db: Any, make_token: MakeToken, role: str
) -> None:
    world = await seed(db, make_token)
    async with serve_in_loop(fuzz_app) as client:
        plan = plan_of((await client.get("/schema/openapi.json")).text)
        assert len(plan.operations) >= 50, "the document lost its operations"
        findings: list[str] = []
        for operation in plan.operations:
            findings += await fuzz_operation(client, db, world, role, plan, operation)
    assert not findings, f"{len(findings)} findings:\n" + summary(findings)
    # The fuzzing went past validation and tenancy into the life cycle of a stay.
    for label in REACHED.get(role, ()):
        answered = world.statuses.get(label, [])
        assert any(200 <= status < 300 for status in answered), (
            f"{label} never succeeded: {answered}"
        )
