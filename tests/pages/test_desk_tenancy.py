"""Another facility's bed, booking or elder is never reachable from the desk's pages (#15).

Two facilities, A and B. A has beds, a booking, a block, a live hold, an elder staying there
(registered by a family: A's staff see them through the stay), a front desk colleague and an
open invitation; B has its manager, a bed and an elder of its own. Every route of the app
under ``/desk`` and ``/invitations`` with a path parameter is called, with every method it
answers, by B's manager with A's objects in the path (``PATH_IDS``): each answer is 404, no
page shows anything of A, and no table of the database changes (nor the hold in Redis). A
POST carries a valid CSRF token of B's desk and is sent twice: with fields that would do what
the form does (``_forms``), and with no field at all, so that a page which read the form
before the object would be caught too. As a control, A's own manager gets something other
than 404 from every GET of those routes with the same path, so the 404s are tenancy, not
broken routes.

The ids carried in query strings and form fields of routes without a path parameter (the
walk-in's elder and bed, the desk's notice of a booking, the team's new invitation) are not
found by the app's routes themselves: they are listed in ``_query_probes``.

A new route under ``/desk`` or ``/invitations`` whose path parameter is not in ``PATH_IDS``
fails the test: say which of A's objects fills it.

The invitation's page is reached by its token, which is the invitation itself (anyone who
has the link may accept, by design): another facility's staff can know an invitation's id,
never its token, so the probe puts A's invitation id where the token goes; the control uses
A's real token.

The family's pages with a path parameter (an elder, a stay, a hold) refuse B's staff before
reading anything: 403, nothing of A, nothing changed (the second test).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import httpx
import msgspec
from litestar import Litestar
from litestar.routes import HTTPRoute

from respite.auth.service import create_principal, issue_token
from respite.clock import ManualClock
from tests import builders
from tests.dates import when
from tests.forms import csrf_token
from tests.pages.beds_desk import sign_in, staff_token

PREFIXES: Final = ("/desk", "/invitations")
_PARAM: Final = re.compile(r"\{(\w+)(?::\w+)?\}")
ELDER_NAME: Final = "甲院长者周秀兰"
FRONT_DESK_NAME: Final = "甲院前台吴芳"
INVITED: Final = "tenancy-a-invited@example.test"


class World(msgspec.Struct, kw_only=True):
    """A's objects (what B's staff must never reach), and B's own."""

    facility: int
    facility_name: str
    bed: int
    bed_label: str
    hold_bed: int
    booking: int
    block: int
    hold: str
    elder: int
    notification: int
    front_desk: int
    invitation: int
    invitation_token: str
    manager_a: str
    manager_a_headers: dict[str, str]
    manager_b: str
    bed_b: int
    elder_b: int
    first: str
    last: str

    def markers(self) -> list[str]:
        """What of A a page shown to B's staff must never say."""
        return [
            self.facility_name,
            self.bed_label,
            ELDER_NAME,
            FRONT_DESK_NAME,
            INVITED,
            "tenancy-a-invited",
        ]


# A path parameter of a desk route, and which of A's objects fills it.
PATH_IDS: Final[dict[str, Callable[[World], object]]] = {
    "bed_id": lambda w: w.bed,
    "booking_id": lambda w: w.booking,
    "block_id": lambda w: w.block,
    "hold_id": lambda w: w.hold,
    "care_recipient_id": lambda w: w.elder,
    "notification_id": lambda w: w.notification,
    "staff_id": lambda w: w.front_desk,
    "invitation_id": lambda w: w.invitation,
    "token": lambda w: w.invitation,  # what another facility may know of it: its id
    "step": lambda w: "check-in",  # not an object: a step the booking allows today
    # A family's waiting-list entry and offer: the families' pages refuse staff before any
    # is read, so the id of none of A's objects is needed to show it.
    "entry_id": lambda w: w.booking,
    "offer_id": lambda w: w.booking,
}
# Where A's own manager is given something other than PATH_IDS for the control.
CONTROL_IDS: Final[dict[str, Callable[[World], object]]] = {
    "token": lambda w: w.invitation_token,
}


def _forms(w: World) -> dict[str, dict[str, str]]:
    """For each POST route, fields that would do what its form does, were the object B's."""
    dates = {"check_in": w.first, "check_out": w.last}
    return {
        "/desk/bookings/{booking_id:int}/cancel": {"reason": "changed plans"},
        "/desk/bookings/{booking_id:int}/{step:str}": {"back": "booking"},
        "/desk/elders/{care_recipient_id:int}/emergency-contact": {"reason": "to call them"},
        "/desk/beds/{bed_id:int}/edit": {
            "label": "TAKEN-OVER",
            "sex_rule": "any",
            "nightly_price": "150",
            "pressure_care_stage": "0",
            "active": "true",
        },
        "/desk/beds/{bed_id:int}/blocks": {**dates, "reason": "maintenance"},
        "/desk/blocks/{block_id:int}": {**dates, "reason": "cleaning"},
        "/invitations/{token:str}": {"name": "B's spy", "password": "a long enough secret"},
    }


def _query_probes(w: World) -> list[tuple[str, str, dict[str, str], int]]:
    """Ids in query strings and forms: (method, path, fields, status B's manager gets)."""
    stay = {"from": w.first, "to": w.last}
    walk_in = {"check_in": w.first, "check_out": w.last, "attempt": "a" * 24}
    return [
        ("GET", "/desk/walk-in", {"bed": str(w.bed)}, 404),
        ("GET", "/desk/walk-in", {"bed": str(w.bed), "q": "周"}, 404),
        ("GET", "/desk/walk-in/new", {"bed": str(w.bed)}, 404),
        ("GET", "/desk/walk-in/book", {"elder": str(w.elder)}, 404),
        ("GET", "/desk/walk-in/book", {"elder": str(w.elder), "bed": str(w.bed_b), **stay}, 404),
        ("GET", "/desk/walk-in/book", {"elder": str(w.elder_b), "bed": str(w.bed), **stay}, 404),
        ("POST", "/desk/walk-in/new", {"bed": str(w.bed)}, 404),
        (
            "POST",
            "/desk/walk-in/new",
            {"bed": str(w.bed), "name": "新长者", "sex": "female", "birth_date": "1940-01-01"},
            404,
        ),
        (
            "POST",
            "/desk/walk-in/book",
            {"care_recipient_id": str(w.elder), "bed_id": str(w.bed_b), **walk_in},
            404,
        ),
        (
            "POST",
            "/desk/walk-in/book",
            {"care_recipient_id": str(w.elder_b), "bed_id": str(w.bed), **walk_in},
            404,
        ),
        (
            "POST",
            "/desk/walk-in/book",
            {"care_recipient_id": str(w.elder), "bed_id": str(w.bed), **walk_in},
            404,
        ),
        # The desk's notice of a step just taken names the elder and bed: for another
        # facility's booking there is none (the page itself is B's own day).
        ("GET", "/desk", {"done": "check_in", "booking": str(w.booking)}, 200),
        ("GET", "/desk", {"done": "cancel", "booking": str(w.booking)}, 200),
        ("GET", "/desk/team", {"invited": str(w.invitation)}, 200),
    ]


def _query_controls(w: World) -> list[tuple[str, dict[str, str]]]:
    """The pages of ``_query_probes`` with A's own ids, as A's staff open them."""
    stay = {"from": w.first, "to": w.last}
    return [
        ("/desk/walk-in", {"bed": str(w.bed)}),
        ("/desk/walk-in/new", {"bed": str(w.bed)}),
        ("/desk/walk-in/book", {"elder": str(w.elder)}),
        ("/desk/walk-in/book", {"elder": str(w.elder), "bed": str(w.bed), **stay}),
    ]


def desk_routes(app: Litestar) -> list[tuple[str, list[str], list[str]]]:
    """(path, methods, path parameters) of every desk route with a path parameter."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(PREFIXES):
            continue
        names = _PARAM.findall(route.path)
        assert sorted(names) == sorted(route.path_parameters), route.path
        if names:
            methods = sorted(str(m) for m in set(route.methods) - {"OPTIONS", "HEAD"})
            found.append((route.path, methods, names))
    return found


def fill(path: str, values: dict[str, Callable[[World], object]], w: World) -> str:
    return _PARAM.sub(lambda m: str(values[m[1]](w)), path)


async def snapshot(db: Any) -> dict[str, list[str]]:
    """Every row of every table of the app's schema, as text."""
    tables = await db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    )
    rows: dict[str, list[str]] = {}
    for table in tables:
        name = table["tablename"]
        found = await db.fetch(f'SELECT to_jsonb(t)::text AS row FROM "{name}" t')
        rows[name] = sorted(r["row"] for r in found)
    return rows


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [
        f"{name}: {sorted(set(after.get(name, [])) ^ set(rows))[:3]}"
        for name, rows in before.items()
        if after.get(name) != rows
    ] + [name for name in after if name not in before]


async def world(client: httpx.AsyncClient, db: Any, clock: ManualClock) -> World:
    d = when(clock)
    facility = await builders.facility(db, name="甲院颐养中心")
    facility_name = await db.fetchval("SELECT name FROM facilities WHERE id = $1", facility)
    bed = await builders.bed(db, facility, label="甲院-A01")
    hold_bed = await builders.bed(db, facility, label="甲院-A02")
    elder = await builders.recipient(db)  # a family's elder, seen by A's staff through the stay
    await db.execute("UPDATE care_recipients SET name = $2 WHERE id = $1", elder, ELDER_NAME)
    booking = await builders.booking(
        db, bed, d.today, d.today + timedelta(days=3), recipient_id=elder
    )
    block = await builders.block(db, bed, *d.days(10, 12))
    # The elder's family was told of the stay (as the notifications' listener tells it).
    notification = await db.fetchval(
        "INSERT INTO notifications (principal_id, kind, facts, dedupe_key, created_at)"
        " SELECT family_id, 'booking.cancelled', $2, 'tenancy', now() FROM care_recipients"
        " WHERE id = $1 RETURNING id",
        elder,
        {
            "booking_id": booking,
            "facility_name": facility_name,
            "facility_phone": "",
            "bed_label": "甲院-A01",
            "check_in": d.today.isoformat(),
            "check_out": (d.today + timedelta(days=3)).isoformat(),
        },
    )
    manager_a = await staff_token(db, facility, "manager")
    manager_a_headers = {"Authorization": f"Bearer {manager_a}"}
    hold = await builders.placed_hold(
        client, manager_a_headers, elder=elder, bed=hold_bed, first=5, nights=2
    )
    colleague = await create_principal(
        db, "staff", FRONT_DESK_NAME, facility_id=facility, staff_role="front_desk"
    )
    await issue_token(db, colleague, None)
    invited = await client.post(
        f"/v1/facilities/{facility}/staff-invitations",
        json={"login": INVITED},
        headers=manager_a_headers,
    )
    assert invited.status_code == 201, invited.text

    other = await builders.facility(db, name="乙院")
    bed_b = await builders.bed(db, other, label="乙院-B01")
    elder_b = await builders.recipient(db, facility_id=other)
    first, last = d.days(20, 22)
    return World(
        facility=facility,
        facility_name=facility_name,
        bed=bed,
        bed_label="甲院-A01",
        hold_bed=hold_bed,
        booking=booking,
        block=block,
        hold=hold["hold_id"],
        elder=elder,
        notification=notification,
        front_desk=colleague.id,
        invitation=invited.json()["invitation"]["id"],
        invitation_token=invited.json()["token"],
        manager_a=manager_a,
        manager_a_headers=manager_a_headers,
        manager_b=await staff_token(db, other, "manager"),
        bed_b=bed_b,
        elder_b=elder_b,
        first=first.isoformat(),
        last=last.isoformat(),
    )


def leaks(answer: httpx.Response, w: World) -> list[str]:
    return [marker for marker in w.markers() if marker in answer.text]


async def test_no_page_reaches_another_facilitys_bed_booking_or_elder(
    client: httpx.AsyncClient, db: Any, app: Litestar, clock: ManualClock
) -> None:
    routes = desk_routes(app)
    unmapped = {
        f"{path}: {name}" for path, _, names in routes for name in names if name not in PATH_IDS
    }
    assert not unmapped, f"say in PATH_IDS which of A's objects fills {sorted(unmapped)}"
    # The routes this test was written against are all still here (a renamed parameter or
    # a route gone would otherwise quietly shrink what is probed).
    assert len(routes) >= 14 and any(p.startswith("/invitations") for p, _, _ in routes)

    w = await world(client, db, clock)
    forms = _forms(w)
    sign_in(client, w.manager_b)
    desk = await client.get("/desk/walk-in")
    assert desk.status_code == 200, desk.text
    csrf = csrf_token(desk.text)
    before = await snapshot(db)

    wrong: list[str] = []
    probed = 0
    for path, methods, _ in routes:
        url = fill(path, PATH_IDS, w)
        for method in methods:
            sent = [forms.get(path, {}), {}] if method != "GET" else [{}]
            for fields in sent:
                data = {"_csrf_token": csrf, **fields} if method != "GET" else None
                answer = await client.request(method, url, data=data)
                probed += 1
                if answer.status_code != 404 or leaks(answer, w):
                    wrong.append(
                        f"{method} {url} {sorted(fields)}: {answer.status_code}"
                        f" {leaks(answer, w)} {answer.text[:160]!r}"
                    )
    for method, path, fields, status in _query_probes(w):
        if method == "GET":
            answer = await client.get(path, params=fields)
        else:
            answer = await client.post(path, data={"_csrf_token": csrf, **fields})
        probed += 1
        notice = status == 200 and 'class="notice"' in answer.text
        if answer.status_code != status or leaks(answer, w) or notice:
            wrong.append(
                f"{method} {path} {fields}: {answer.status_code} {leaks(answer, w)}"
                f" {answer.text[:160]!r}"
            )
    assert not wrong, "\n".join(wrong)
    assert probed >= 30
    assert changed(before, await snapshot(db)) == []
    hold = await client.get(f"/v1/holds/{w.hold}", headers=w.manager_a_headers)
    assert hold.status_code == 200, hold.text  # still live: B did not release it

    # The control: A's own manager reaches every one of those pages.
    sign_in(client, w.manager_a)
    unreached = []
    for path, methods, _ in routes:
        if "GET" not in methods:
            continue
        url = fill(path, {**PATH_IDS, **CONTROL_IDS}, w)
        answer = await client.get(url)
        if answer.status_code == 404 or answer.status_code >= 500:
            unreached.append(f"GET {url}: {answer.status_code} {answer.text[:160]!r}")
    for path, fields in _query_controls(w):
        answer = await client.get(path, params=fields)
        if answer.status_code != 200:
            unreached.append(f"GET {path} {fields}: {answer.status_code}")
    assert not unreached, "\n".join(unreached)


# Pages outside the desk with a path parameter that are not about a tenant's objects: the
# public facility page (anyone may read it, signed in or not), the problem types' pages, the
# static files and the API's schema.
PUBLIC: Final = ("/facilities/", "/problems/", "/static/", "/schema")


async def test_the_families_pages_refuse_staff_before_reading_anything(
    client: httpx.AsyncClient, db: Any, app: Litestar, clock: ManualClock
) -> None:
    """The family's pages of an elder, a stay or a hold (A's, in the path) answer B's staff
    "families only" (403) without a word of A, and change nothing."""
    routes = [
        (route.path, sorted(str(m) for m in set(route.methods) - {"OPTIONS", "HEAD"}))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and route.path_parameters
        and not route.path.startswith((*PREFIXES, "/v1", *PUBLIC))
    ]
    unmapped = sorted({n for path, _ in routes for n in _PARAM.findall(path) if n not in PATH_IDS})
    assert not unmapped, f"say which of A's objects fills {unmapped}"
    assert {"/elders/{care_recipient_id:int}", "/stays/{booking_id:int}"} <= {p for p, _ in routes}

    w = await world(client, db, clock)
    sign_in(client, w.manager_b)
    csrf = csrf_token((await client.get("/desk/walk-in")).text)
    before = await snapshot(db)
    wrong = []
    for path, methods in routes:
        url = fill(path, PATH_IDS, w)
        for method in methods:
            data = {"_csrf_token": csrf} if method != "GET" else None
            answer = await client.request(method, url, data=data)
            if answer.status_code not in (403, 404) or leaks(answer, w):
                wrong.append(f"{method} {url}: {answer.status_code} {leaks(answer, w)}")
    assert not wrong, "\n".join(wrong)
    assert changed(before, await snapshot(db)) == []
