"""A client built from the served reference by a real generator books a stay for a family.

``openapi-python-client`` generates a Python package from ``/schema/openapi.json`` once per
module (about two seconds, no network). The family flow then runs through that package against
the real app, served by uvicorn on a loopback port: sign up, register the elder, record her
assessment, search near her home, hold, confirm, list the stays, cancel. Every answer comes
back as the generated model of its documented schema, and its typed fields are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import secrets
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from respite.dev.city import gazetteer
from respite.places.service import replace_places
from tests import builders

PACKAGE = "respite_client"
# No formatting of the generated code: ruff over a hundred files is most of the generator's time.
CONFIG = "post_hooks: []\n"
GENERATE_TIMEOUT = 120.0
# The generator sends no text/csv body: the bed import is the one operation it leaves out.
NOT_GENERATED = {"inventory_import_beds"}
HOME = (31.2077, 121.4260)  # Xinhua Road, Changning, Shanghai
PRICE = 28000  # fen a night


@dataclass(frozen=True)
class Generated:
    """The generated package, its models, and what the generator said."""

    package: ModuleType
    models: ModuleType
    output: str
    document: dict[str, Any]

    def operation(self, tag: str, operation_id: str) -> Any:
        """The module of one operation: ``sync`` / ``asyncio`` (and ``*_detailed``) in it."""
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


async def _generate(document: bytes, folder: Path) -> str:
    (folder / "openapi.json").write_bytes(document)
    (folder / "config.yaml").write_text(CONFIG)
    generator = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"),
        *("--path", str(folder / "openapi.json"), "--config", str(folder / "config.yaml")),
        *("--output-path", str(folder / PACKAGE)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(generator.communicate(), GENERATE_TIMEOUT)
    assert generator.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture(scope="module")
async def generated(
    shared_client: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Generated]:
    served = await shared_client.get("/schema/openapi.json")
    assert served.status_code == 200, served.text
    folder = tmp_path_factory.mktemp("generated")
    output = await _generate(served.content, folder)
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        models = importlib.import_module(f"{PACKAGE}.models")
        yield Generated(package, models, output, served.json())
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@contextlib.contextmanager
def _loopback_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock
    finally:
        sock.close()


@pytest.fixture
async def base_url(app: Litestar) -> AsyncIterator[str]:
    """The test's app (on its own database) served by uvicorn on a free loopback port."""
    with _loopback_socket() as sock:
        config = uvicorn.Config(app, log_config=None, access_log=False, ws="none")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if serving.done():
                serving.result()  # start-up failed: raise its error here
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            await serving


def test_every_operation_but_the_csv_import_is_generated(generated: Generated) -> None:
    api = Path(str(generated.package.__file__)).parent / "api"
    operations = {
        operation["operationId"]: operation["tags"][0].replace(" ", "_")
        for item in generated.document["paths"].values()
        for operation in item.values()
    }
    missing = {op for op, tag in operations.items() if not (api / tag / f"{op}.py").exists()}
    assert missing == NOT_GENERATED
    warnings = [line for line in generated.output.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "/beds/import" in warnings[0], generated.output


@dataclass(frozen=True)
class Family:
    """The generated client signed in as a family, and the beds it books among."""

    generated: Generated
    client: Any
    facility: int
    bed: int
    today: date
    stay: tuple[date, date]

    @property
    def models(self) -> ModuleType:
        return self.generated.models

    async def call(self, tag: str, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        """One operation through the generated function: its answer as a generated model."""
        operation = self.generated.operation(tag, operation_id)
        return await operation.asyncio(*args, client=self.client, **kwargs)


async def find_beds(family: Family, elder: Any) -> Any:
    """The search a family's app makes: beds for the elder in her district, by its name (the
    gazetteer's), checked against her record."""
    check_in, check_out = family.stay
    return await family.call(
        "availability",
        "availability_search",
        check_in=check_in,
        check_out=check_out,
        place="长宁区",
        care_recipient_id=elder.id,
    )


async def _sign_up(generated: Generated, base_url: str) -> str:
    """A new family account (no token is needed to make one): its token."""
    m = generated.models
    register = generated.operation("auth", "auth_register")
    async with generated.package.Client(base_url=base_url) as anyone:
        issued = await register.asyncio(
            client=anyone,
            body=m.FamilyRegistration(
                name="李敏", password="a long enough secret", email=f"{secrets.token_hex(4)}@x.cn"
            ),
        )
    assert isinstance(issued, m.TokenIssued), issued
    assert (issued.principal.role, issued.principal.name) == ("family", "李敏")
    token: str = issued.token
    return token


async def _register_elder(family: Family) -> Any:
    m = family.models
    elder = await family.call(
        "care_recipients",
        "care_recipients_create",
        body=m.NewCareRecipient(
            name="王桂芳",
            sex=m.NewCareRecipientSex.FEMALE,
            birth_date=date(1944, 11, 3),
            home_lat=HOME[0],
            home_lon=HOME[1],
            needs=[m.NewCareRecipientNeedsItem.OXYGEN],
            national_id="310105194411030027",
        ),
    )
    assert isinstance(elder, m.CareRecipientView), elder
    assert (elder.name, elder.birth_date, elder.national_id_last4) == (
        "王桂芳",
        date(1944, 11, 3),
        "0027",
    )
    assert elder.owner.kind == "family" and elder.latest_assessment is None
    scores = m.NewAssessment(
        total=58, assessor="张医生", organisation="长宁区评估中心", assessed_on=family.today
    )
    assessment = await family.call(
        "care_recipients", "care_recipients_assess", elder.id, body=scores
    )
    assert isinstance(assessment, m.AssessmentView), assessment
    assert (assessment.total, assessment.base_level, assessment.level) == (58, 2, 2)
    return elder


async def _search_and_hold(family: Family, elder: Any) -> Any:
    m = family.models
    page = await find_beds(family, elder)
    assert isinstance(page, m.AvailabilityPage), page
    assert (page.check_in, page.check_out, page.nights) == (*family.stay, 7)
    offered = page.facilities[0]
    assert page.place.name == "长宁区" and page.place.kind == "district"
    # Measured from the district's centroid, about 3 km from her street.
    assert offered.facility_id == family.facility and 2.5 < offered.distance_km < 3.5
    beds = [(b.bed_id, b.nightly_price, b.total_price) for b in offered.beds]
    assert beds == [(family.bed, PRICE, 7 * PRICE)]  # the bed without oxygen is not offered
    check_in, check_out = family.stay
    hold = await family.call(
        "holds",
        "holds_place",
        body=m.HoldRequest(
            care_recipient_id=elder.id, check_in=check_in, check_out=check_out, bed_id=family.bed
        ),
    )
    assert isinstance(hold, m.Hold), hold
    assert (hold.bed.id, hold.bed.label, hold.care_recipient_id) == (family.bed, "3F-12", elder.id)
    assert (hold.nights, hold.nightly_price, hold.total_price) == (7, PRICE, 7 * PRICE)
    return hold


async def _confirm(family: Family, hold: Any) -> Any:
    m = family.models
    key = f"confirm-{secrets.token_hex(8)}"
    body = m.HoldTokenBody(token=hold.token)
    booking = await family.call(
        "holds", "holds_confirm", hold.hold_id, body=body, idempotency_key=key
    )
    assert isinstance(booking, m.Booking), booking
    assert (booking.status, booking.hold_id, booking.bed_id) == (
        "confirmed",
        hold.hold_id,
        family.bed,
    )
    assert (booking.check_in, booking.total_price, booking.currency) == (
        family.stay[0],
        7 * PRICE,
        "CNY",
    )
    again = await family.call(
        "holds", "holds_confirm", hold.hold_id, body=body, idempotency_key=key
    )
    assert isinstance(again, m.Booking) and again.id == booking.id  # a retry: the same answer
    return booking


async def _list_and_cancel(family: Family, booking: Any) -> None:
    m = family.models
    mine = await family.call("bookings", "bookings_list_bookings")
    assert isinstance(mine, m.PageBooking), mine
    assert [b.id for b in mine.items] == [booking.id] and mine.next_cursor is None
    reason = "她的女儿休假提前结束"
    cancelled = await family.call(
        "bookings", "bookings_cancel", booking.id, body=m.Cancellation(reason=reason)
    )
    assert isinstance(cancelled, m.Booking), cancelled
    assert (cancelled.id, cancelled.status, cancelled.cancel_reason) == (
        booking.id,
        "cancelled",
        reason,
    )


async def _refused(family: Family, elder: Any) -> None:
    """A refusal is typed too: problem details naming the field."""
    m = family.models
    day = family.stay[0]
    problem = await family.call(
        "holds",
        "holds_place",
        body=m.HoldRequest(care_recipient_id=elder.id, check_in=day, check_out=day, bed_id=1),
    )
    assert isinstance(problem, m.ProblemDetails), problem
    assert problem.status == 422 and [e.field for e in problem.errors] == ["check_out"]


async def test_a_family_books_and_cancels_a_stay_through_the_generated_client(
    generated: Generated, base_url: str, db: Any
) -> None:
    await replace_places(db, gazetteer())
    facility = await builders.facility(db, lat=HOME[0] + 0.01, lon=HOME[1])
    bed = await builders.bed(db, facility, capabilities=("oxygen",), price=PRICE, label="3F-12")
    await builders.bed(db, facility, price=PRICE)  # no oxygen: never offered to her
    today = builders.today()
    stay = (today + timedelta(days=10), today + timedelta(days=17))
    token = await _sign_up(generated, base_url)
    async with generated.package.AuthenticatedClient(base_url=base_url, token=token) as client:
        family = Family(generated, client, facility, bed, today, stay)
        elder = await _register_elder(family)
        hold = await _search_and_hold(family, elder)
        booking = await _confirm(family, hold)
        await _list_and_cancel(family, booking)
        await _refused(family, elder)
