"""A hospital's callback receiver for the tests: a real HTTP server on loopback that checks
every signature the way the README tells integrators to, and the scene the referral tests
share (a hospital with a credential, a facility with beds, a patient's referral body).

The receiver answers each callback as its script says (a status, after an optional delay),
200 when the script is empty, and records everything it was sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from tests import builders
from tests.builders import SUITE_START
from tests.conftest import MakeToken

TOLERANCE_SECONDS = 300


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> bool:
    """Standard Webhooks, as in the README: HMAC-SHA256 of "{id}.{timestamp}.{body}" under
    the base64 key after "whsec_", compared with each "v1," signature of the header."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(signature.removeprefix("v1,"), expected)
        for signature in headers["webhook-signature"].split()
        if signature.startswith("v1,")
    )


class RunningClock:
    """The suite's clock, running: it starts at the suite's start and moves as fast as the
    machine's, so an app's worker retries on its own (in milliseconds, with a fast backoff)
    while "today" stays the suite's. A receiver checks signatures by the same clock."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def now(self) -> datetime:
        return SUITE_START + timedelta(seconds=time.monotonic() - self._started)

    def timestamp(self) -> float:
        return self.now().timestamp()


class Reply(msgspec.Struct, frozen=True):
    status: int = 200
    delay: float = 0.0


class Received(msgspec.Struct):
    headers: dict[str, str]
    body: bytes
    valid: bool
    reply: Reply
    at: float

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


class Receiver:
    """``async with Receiver() as rx``: listens on 127.0.0.1 at ``rx.url``; over HTTPS with
    ``tls`` (whose certificate a test may change between two connections)."""

    def __init__(
        self, clock: Callable[[], float] = time.time, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.tls = tls
        self.secrets: list[str] = []
        self.script: list[Reply] = []
        self.received: list[Received] = []
        self.clock = clock
        self._changed = asyncio.Condition()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hooks/respite"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            reply = self.script.pop(0) if self.script else Reply()
            valid = any(verify_signature(s, headers, body, self.clock()) for s in self.secrets)
            async with self._changed:
                self.received.append(Received(headers, body, valid, reply, time.monotonic()))
                self._changed.notify_all()
            if reply.delay:
                await asyncio.sleep(reply.delay)
            writer.write(
                f"HTTP/1.1 {reply.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def wait_for(
        self, done: Callable[[list[Received]], bool], seconds: float = 10.0
    ) -> list[Received]:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: done(self.received))
        return self.received

    def events(self, *, accepted_only: bool = True) -> list[dict[str, Any]]:
        """Events in the order they arrived, each once (as a consumer de-duplicates by id)."""
        seen: dict[str, dict[str, Any]] = {}
        for item in self.received:
            if accepted_only and not (200 <= item.reply.status < 300 and item.reply.delay == 0):
                continue
            seen.setdefault(item.event["id"], item.event)
        return list(seen.values())

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


def has_types(*types: str) -> Callable[[list[Received]], bool]:
    def done(received: list[Received]) -> bool:
        got = [
            json.loads(r.body)["type"]
            for r in received
            if 200 <= r.reply.status < 300 and r.reply.delay == 0
        ]
        return all(got.count(t) >= types.count(t) for t in set(types))

    return done


# The scene shared by the referral tests ----------------------------------------------------------


class Hospital(msgspec.Struct):
    id: int
    headers: dict[str, str]
    credential_id: int


async def hospital(
    client: httpx.AsyncClient, admin: dict[str, str], name: str = "瑞金医院"
) -> Hospital:
    created = await client.post("/v1/hospitals", json={"name": name}, headers=admin)
    assert created.status_code == 201, created.text
    hospital_id = created.json()["id"]
    issued = await client.post(
        f"/v1/hospitals/{hospital_id}/credentials",
        json={"label": "HIS production"},
        headers=admin,
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    return Hospital(hospital_id, {"Authorization": f"Bearer {token}"}, issued.json()["id"])


async def register(client: httpx.AsyncClient, hospital_: Hospital, receiver: Receiver) -> int:
    response = await client.post(
        "/v1/webhooks/endpoints", json={"url": receiver.url}, headers=hospital_.headers
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return int(response.json()["id"])


class Site(msgspec.Struct):
    facility: int
    beds: list[int]
    staff: dict[str, str]


async def site(db: Any, make_token: MakeToken, *, beds: int = 2, lat: float = 31.24) -> Site:
    facility = await builders.facility(db, lat=lat, lon=121.47)
    bed_ids = [await builders.bed(db, facility, price=25000) for _ in range(beds)]
    _, staff = await make_token("staff", facility_id=facility)
    return Site(facility, bed_ids, staff)


def referral_body(nights: int = 5, **override: Any) -> dict[str, Any]:
    today = builders.today()
    body: dict[str, Any] = {
        "patient": {
            "name": "王秀英",
            "sex": "female",
            "birth_date": "1940-05-01",
            "home_address": "上海市黄浦区瑞金二路 197 号",
            "home_lat": 31.23,
            "home_lon": 121.47,
            "needs": [],
            "national_id": "310101194005011234",
            "emergency_contact_phone": "+86 138 0013 8000",
        },
        "assessment": {
            "total": 50,
            "assessor": "Dr Li",
            "organisation": "Ruijin Hospital",
            "assessed_on": (today - timedelta(days=3)).isoformat(),
        },
        "kind": "respite",
        "discharge_date": today.isoformat(),
        "nights": nights,
        "contact": {
            "name": "Nurse Zhou",
            "department": "Discharge planning",
            "phone": "+86 21 6437 0045",
            "email": "zhou@ruijin.test",
        },
    }
    body.update(override)
    return body


async def refer(
    client: httpx.AsyncClient, hospital_: Hospital, key: str = "ref-1", **override: Any
) -> httpx.Response:
    return await client.post(
        "/v1/referrals",
        json=referral_body(**override),
        headers={**hospital_.headers, "Idempotency-Key": key},
    )


async def hold_and_confirm(
    client: httpx.AsyncClient, hospital_: Hospital, referral: dict[str, Any], bed: int, key: str
) -> dict[str, Any]:
    check_in = referral["discharge_date"]
    check_out = (datetime.fromisoformat(check_in) + timedelta(days=referral["nights"] or 30)).date()
    held = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": referral["care_recipient_id"],
            "bed_id": bed,
            "check_in": check_in,
            "check_out": check_out.isoformat(),
            "referral_id": referral["id"],
        },
        headers=hospital_.headers,
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    confirmed = await client.post(
        f"/v1/holds/{hold['hold_id']}/confirm",
        json={"token": hold["token"]},
        headers={**hospital_.headers, "Idempotency-Key": key},
    )
    assert confirmed.status_code == 201, confirmed.text
    booking: dict[str, Any] = confirmed.json()
    return booking


async def settled(
    client: httpx.AsyncClient, hospital_: Hospital, count: int, seconds: float = 10.0
) -> list[dict[str, Any]]:
    """The hospital's deliveries once ``count`` of them have an outcome: the receiver has its
    answer a moment before the worker records it."""
    async with asyncio.timeout(seconds):
        while True:
            response = await client.get(
                "/v1/webhooks/deliveries", params={"limit": 200}, headers=hospital_.headers
            )
            items: list[dict[str, Any]] = response.json()["items"]
            if len([d for d in items if d["status"] != "pending"]) >= count:
                return items
            await asyncio.sleep(0.02)


# The receiver's own checks: a signature that does not hold must be refused. --------------------


SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def _signed(body: bytes, msg_id: str = "evt_1", at: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(b"k" * 32, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest.digest()).decode(),
    }


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        (lambda h, b: (h, b), True),
        (lambda h, b: (h, b + b" "), False),
        (lambda h, b: ({**h, "webhook-id": "evt_2"}, b), False),
        (lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b), False),
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA " + h["webhook-signature"]}, b), True),
        (
            lambda h, b: (
                {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
                b,
            ),
            False,
        ),
    ],
)
def test_the_receiver_checks_signatures(change: Any, valid: bool) -> None:
    body = b'{"id":"evt_1"}'
    headers, sent = change(_signed(body), body)
    assert verify_signature(SECRET, headers, sent) is valid


def test_the_receiver_refuses_a_stale_timestamp() -> None:
    body = b"{}"
    assert not verify_signature(SECRET, _signed(body, at=int(time.time()) - 301), body)


async def test_the_receiver_answers_as_scripted() -> None:
    async with Receiver() as rx:
        rx.secrets.append(SECRET)
        rx.script = [Reply(500)]
        body = b'{"id":"evt_1","type":"t"}'
        async with httpx.AsyncClient() as http:
            first = await http.post(rx.url, content=body, headers=_signed(body))
            second = await http.post(rx.url, content=body, headers=_signed(body))
        assert (first.status_code, second.status_code) == (500, 200)
        assert [r.valid for r in rx.received] == [True, True]
        assert rx.types() == ["t"]
