"""The delivery worker against real PostgreSQL and a real receiver, with time moved by hand:
retries back off for a day and then stop, a referral's events keep their order, two workers
never attempt one delivery, a lease that ran out is taken over, and nothing is posted to an
address that is not allowed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.referral import queries as q
from respite.referral.delivery import DeliveryWorker
from respite.referral.expiry import EXPIRE_BATCH
from respite.referral.outbox import LockedReferral, write_event
from respite.referral.webhook_model import RETRY_STEPS, EventData, actor_of
from respite.referral.webhook_security import new_secret
from respite.settings import Settings
from tests import builders
from tests.certificates import Authority, server_context
from tests.e2e.test_webhook_receiver import Receiver, Reply, verify_signature


@pytest.fixture
def worker_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, webhook_allow_loopback_http=True, webhook_timeout=0.5, webhook_batch=10
    )


@pytest.fixture
async def pool(worker_settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(worker_settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def rx(clock: ManualClock) -> AsyncIterator[Receiver]:
    async with Receiver(lambda: clock.now().timestamp()) as receiver:
        yield receiver


def worker(pool: Pool, settings: Settings, clock: ManualClock, name: str = "w1") -> DeliveryWorker:
    # rand 1.0: each delay is its whole step, so the schedule can be checked exactly.
    return DeliveryWorker(pool, settings, name=name, clock=clock, rand=lambda: 1.0)


class Outbox(msgspec.Struct):
    hospital: int
    principal: int
    recipient: int
    endpoint: int


async def outbox(db: Any, url: str, secret: str) -> Outbox:
    hospital = await builders.hospital(db)
    principal = await builders.principal(db, "hospital", hospital_id=hospital)
    recipient = await builders.recipient(db, hospital_id=hospital)
    endpoint = await db.fetchval(
        "INSERT INTO webhook_endpoints (hospital_id, url, secret, created_by)"
        " VALUES ($1, $2, $3, $4) RETURNING id",
        hospital,
        url,
        secret,
        principal,
    )
    return Outbox(hospital, principal, recipient, endpoint)


async def referral(db: Any, box: Outbox) -> LockedReferral:
    referral_id = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
        " contact_name, created_by) VALUES ($1, $2, 'respite', $4, 5, 'Zhou', $3)"
        " RETURNING id",
        box.hospital,
        box.recipient,
        box.principal,
        builders.today(),
    )
    return LockedReferral(
        id=referral_id,
        hospital_id=box.hospital,
        care_recipient_id=box.recipient,
        status="open",
        booking_id=None,
    )


async def emit(db: Any, ref: LockedReferral, clock: ManualClock, times: int = 1) -> list[str]:
    data = EventData(
        referral_id=ref.id,
        referral_status="held",
        previous_status="open",
        care_recipient_id=ref.care_recipient_id,
        actor=actor_of("hospital"),
    )
    ids = []
    for _ in range(times):
        async with db.transaction():
            ids.append(await write_event(db, ref, "referral.held", data, clock.now()))
    return ids


async def test_a_failing_receiver_is_retried_for_a_day_with_backoff_then_given_up(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    secret = new_secret()
    rx.secrets.append(secret)
    box = await outbox(db, rx.url, secret)
    await emit(db, await referral(db, box), clock)
    rx.script = [Reply(500)] * 1000
    w = worker(pool, worker_settings, clock)
    start, delays = clock.now(), []
    while True:
        assert await w.deliver_due() == 1
        row = await db.fetchrow("SELECT status, next_attempt_at, attempts FROM webhook_deliveries")
        if row["status"] == "dead":
            break
        delays.append((row["next_attempt_at"] - clock.now()).total_seconds())
        assert await w.deliver_due() == 0  # not due before its time
        clock.advance(timedelta(seconds=delays[-1]))
    cap = RETRY_STEPS[-1]
    assert delays[: len(RETRY_STEPS)] == pytest.approx(list(RETRY_STEPS))
    assert delays[len(RETRY_STEPS) :] == pytest.approx([cap] * (len(delays) - len(RETRY_STEPS)))
    elapsed = (clock.now() - start).total_seconds()
    assert elapsed >= worker_settings.webhook_retry_window_seconds >= 24 * 3600
    attempts = await db.fetch("SELECT attempt, status_code, error FROM webhook_attempts ORDER BY 1")
    assert [a["attempt"] for a in attempts] == list(range(1, row["attempts"] + 1))
    assert {(a["status_code"], a["error"]) for a in attempts} == {(500, "HTTP 500")}
    assert len(rx.received) == row["attempts"] and all(r.valid for r in rx.received)
    clock.advance(timedelta(seconds=cap * 2))
    assert await w.deliver_due() == 0  # dead stays dead


async def test_each_failed_attempt_is_logged_with_its_ids_outcome_and_next_try(
    db: Any,
    pool: Pool,
    worker_settings: Settings,
    clock: ManualClock,
    rx: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = new_secret()
    box = await outbox(db, rx.url, secret)
    ref = await referral(db, box)
    await emit(db, ref, clock)
    rx.script = [Reply(500), Reply(200, delay=2), Reply(200), Reply(503), Reply(503)]
    w = worker(pool, worker_settings, clock)
    # A retry window of a second: the second failure of the next event is its last.
    narrow = worker(
        pool, msgspec.structs.replace(worker_settings, webhook_retry_window_seconds=1), clock
    )
    with caplog.at_level(logging.INFO, logger="respite.webhooks"):
        assert await w.deliver_due() == 1  # 500
        first_try = clock.now()
        clock.advance(timedelta(seconds=RETRY_STEPS[0]))
        assert await w.deliver_due() == 1  # no answer within the timeout
        clock.advance(timedelta(seconds=RETRY_STEPS[1]))
        assert await w.deliver_due() == 1  # delivered: nothing to tell
        await emit(db, ref, clock)
        assert await narrow.deliver_due() == 1  # 503
        clock.advance(timedelta(seconds=RETRY_STEPS[0]))
        assert await narrow.deliver_due() == 1  # 503, and the window is over

    first, second = await db.fetchval("SELECT array_agg(id ORDER BY id) FROM webhook_deliveries")
    failed = [r for r in caplog.records if r.name == "respite.webhooks"]
    assert {r.levelname for r in failed} == {"WARNING"}
    fields = [vars(r) for r in failed]
    assert [(f["delivery_id"], f["attempt"], f["status"], f["error_kind"]) for f in fields] == [
        (first, 1, 500, "http_status"),
        (first, 2, None, "timeout"),
        (second, 1, 503, "http_status"),
        (second, 2, 503, "http_status"),
    ]
    assert [f["dead"] for f in fields] == [False, False, False, True]
    assert fields[0]["retry_at"] == first_try + timedelta(seconds=RETRY_STEPS[0])
    assert fields[3]["retry_at"] is None
    assert failed[3].getMessage().endswith("attempt 2: given up")
    assert {(f["referral_id"], f["hospital_id"]) for f in fields} == {(ref.id, box.hospital)}
    text = " ".join(f"{r.getMessage()} {vars(r)!r}" for r in caplog.records)
    assert "王秀英" not in text and "Zhou" not in text and secret not in text


async def test_a_referrals_events_wait_for_the_first_to_get_through(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    secret = new_secret()
    rx.secrets.append(secret)
    box = await outbox(db, rx.url, secret)
    first, second = await referral(db, box), await referral(db, box)
    a_events = await emit(db, first, clock, 3)
    b_events = await emit(db, second, clock, 1)
    rx.script = [Reply(500)]  # the first request is first's first event
    w = worker(pool, worker_settings, clock)
    assert await w.deliver_due() == 2  # the head of each referral's queue, no more
    assert [r.event["id"] for r in rx.received] == [a_events[0], b_events[0]]
    assert await w.deliver_due() == 0  # first's head waits for its retry; the rest behind it
    clock.advance(timedelta(seconds=RETRY_STEPS[0]))
    for _ in range(3):
        assert await w.deliver_due() == 1
    arrived = [r.event["id"] for r in rx.received if r.reply.status == 200]
    assert [e for e in arrived if e in a_events] == a_events
    statuses = await db.fetch("SELECT DISTINCT status FROM webhook_deliveries")
    assert [s["status"] for s in statuses] == ["delivered"]


async def test_two_workers_claim_disjoint_deliveries(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    box = await outbox(db, rx.url, new_secret())
    for _ in range(12):
        await emit(db, await referral(db, box), clock)
    batch = msgspec.structs.replace(worker_settings, webhook_batch=5)
    one, two = worker(pool, batch, clock, "one"), worker(pool, batch, clock, "two")
    first, second = await asyncio.gather(one.claim(), two.claim())
    assert len(first) == len(second) == 5
    assert not {c.id for c in first} & {c.id for c in second}
    attempts = await db.fetch("SELECT delivery_id, worker FROM webhook_attempts")
    assert len(attempts) == 10 and {a["worker"] for a in attempts} == {"one", "two"}


async def test_many_rounds_of_two_workers_attempt_each_delivery_once(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    secret = new_secret()
    rx.secrets.append(secret)
    box = await outbox(db, rx.url, secret)
    events = []
    for _ in range(15):
        events += await emit(db, await referral(db, box), clock, 3)
    one, two = (
        worker(pool, worker_settings, clock, "one"),
        worker(pool, worker_settings, clock, "two"),
    )
    while sum(await asyncio.gather(one.deliver_due(), two.deliver_due())):
        pass
    assert sorted(r.event["id"] for r in rx.received) == sorted(events)
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == len(events)
    assert (
        await db.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
        == 45
    )


async def test_a_lease_that_ran_out_is_taken_over_and_the_late_result_ignored(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    box = await outbox(db, rx.url, new_secret())
    await emit(db, await referral(db, box), clock)
    stalled, other = (
        worker(pool, worker_settings, clock, "stalled"),
        worker(pool, worker_settings, clock, "other"),
    )
    (claimed,) = await stalled.claim()  # then it stalls: no outcome
    assert await other.claim() == []
    clock.advance(timedelta(seconds=worker_settings.webhook_timeout * 2 + 11))
    assert await other.deliver_due() == 1
    async with pool.acquire() as conn:  # the stalled worker's late report of success
        await conn.execute(
            q.FINISH_DELIVERED, claimed.id, claimed.attempt, stalled.now(), 200, None, 1
        )
    rows = await db.fetch("SELECT attempt, worker, status_code FROM webhook_attempts ORDER BY 1")
    assert [(r["attempt"], r["worker"]) for r in rows] == [(1, "stalled"), (2, "other")]
    assert await db.fetchval("SELECT attempts FROM webhook_deliveries") == 2


async def test_an_address_that_is_not_allowed_is_never_posted_to(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    # Written straight to the table, as if DNS now answered differently than at registration.
    box = await outbox(db, "https://10.1.2.3/hook", new_secret())
    await emit(db, await referral(db, box), clock)
    assert await worker(pool, worker_settings, clock).deliver_due() == 1
    row = await db.fetchrow("SELECT status_code, error FROM webhook_attempts")
    assert row["status_code"] is None
    assert row["error"].startswith("refused:") and "private" in row["error"]


async def test_a_worker_stopped_mid_attempt_records_it_and_leaves_the_delivery_due(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    box = await outbox(db, rx.url, new_secret())
    await emit(db, await referral(db, box), clock)
    rx.script = [Reply(200, delay=5)]
    slow = msgspec.structs.replace(worker_settings, webhook_timeout=10.0)
    task = asyncio.create_task(worker(pool, slow, clock).deliver_due())
    await rx.wait_for(lambda got: len(got) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    attempt = await db.fetchrow("SELECT error, finished_at FROM webhook_attempts")
    assert attempt["error"] == "interrupted" and attempt["finished_at"] is not None
    delivery = await db.fetchrow("SELECT status, locked_until FROM webhook_deliveries")
    assert (delivery["status"], delivery["locked_until"]) == ("pending", None)
    assert await worker(pool, worker_settings, clock, "next").deliver_due() == 1


async def test_both_secrets_sign_during_a_rotation(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    old, new = new_secret(), new_secret()
    box = await outbox(db, rx.url, new)
    await db.execute(
        "UPDATE webhook_endpoints SET previous_secret = $1, previous_until = $2",
        old,
        clock.now() + timedelta(hours=1),
    )
    ref = await referral(db, box)
    await emit(db, ref, clock)
    w = worker(pool, worker_settings, clock)
    await w.deliver_due()
    clock.advance(timedelta(seconds=3601))
    await emit(db, ref, clock)
    await w.deliver_due()
    during, after = rx.received
    assert len(during.headers["webhook-signature"].split()) == 2
    assert len(after.headers["webhook-signature"].split()) == 1
    for item, secret, valid in [
        (during, old, True),
        (during, new, True),
        (after, old, False),
        (after, new, True),
    ]:
        sent_at = int(item.headers["webhook-timestamp"])
        assert verify_signature(secret, item.headers, item.body, sent_at) is valid


async def test_referrals_past_discharge_without_a_booking_expire_once(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    secret = new_secret()
    rx.secrets.append(secret)
    box = await outbox(db, rx.url, secret)
    late, today = await referral(db, box), await referral(db, box)
    w = worker(pool, worker_settings, clock)
    yesterday = builders.today() - timedelta(days=1)  # by the default timezone: placed nowhere
    await db.execute("UPDATE referrals SET discharge_date = $2 WHERE id = $1", late.id, yesterday)
    assert sorted(await asyncio.gather(w.expire_due(), w.expire_due())) == [0, 1]
    assert await w.expire_due() == 0
    rows = await db.fetch("SELECT id, status, status_reason FROM referrals ORDER BY id")
    assert [(r["id"], r["status"]) for r in rows] == [(late.id, "expired"), (today.id, "open")]
    await w.deliver_due()
    (event,) = rx.events()
    assert event["type"] == "referral.expired"
    assert event["data"]["actor"] == {"party": "system", "role": None}
    assert event["data"]["referral_id"] == late.id
    audit = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'referral' AND action = 'expire'"
    )
    assert audit == 1


async def test_a_referral_expires_when_its_own_facility_has_passed_midnight(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    """Held in Tokyo, in Berlin, or placed nowhere yet (Shanghai, the default): each expires
    once its own local date is past the discharge date, not before."""
    box = await outbox(db, rx.url, new_secret())
    discharge = date(2025, 1, 15)
    placed: dict[str, int] = {}
    for zone in ("Asia/Tokyo", "Europe/Berlin", None):
        ref = await referral(db, box)
        facility = await builders.facility(db, timezone=zone) if zone else None
        await db.execute(
            "UPDATE referrals SET discharge_date = $2, facility_id = $3,"
            " status = CASE WHEN $3::bigint IS NULL THEN 'open' ELSE 'held' END WHERE id = $1",
            ref.id,
            discharge,
            facility,
        )
        placed[zone or "default"] = ref.id
    w = worker(pool, worker_settings, clock)

    async def expired() -> set[str]:
        await w.expire_due()
        rows = await db.fetch("SELECT id FROM referrals WHERE status = 'expired'")
        return {zone for zone, ref in placed.items() if ref in {r["id"] for r in rows}}

    clock.set(datetime(2025, 1, 15, 14, 59, tzinfo=UTC))  # 23:59 in Tokyo
    assert await expired() == set()
    clock.set(datetime(2025, 1, 15, 15, 1, tzinfo=UTC))  # 00:01 in Tokyo, 23:01 in Shanghai
    assert await expired() == {"Asia/Tokyo"}
    clock.set(datetime(2025, 1, 15, 16, 1, tzinfo=UTC))  # 00:01 in Shanghai, 17:01 in Berlin
    assert await expired() == {"Asia/Tokyo", "default"}
    clock.set(datetime(2025, 1, 15, 22, 59, tzinfo=UTC))  # 23:59 in Berlin
    assert await expired() == {"Asia/Tokyo", "default"}
    clock.set(datetime(2025, 1, 15, 23, 1, tzinfo=UTC))
    assert await expired() == {"Asia/Tokyo", "default", "Europe/Berlin"}


async def test_the_sweep_pages_through_more_referrals_than_one_batch(
    db: Any, pool: Pool, worker_settings: Settings, clock: ManualClock, rx: Receiver
) -> None:
    """Referrals not yet due (held where it is still the discharge day) sort before due ones
    of the same date: a batch full of them must not hide the due ones behind it."""
    box = await outbox(db, rx.url, new_secret())
    berlin = await builders.facility(db, timezone="Europe/Berlin")
    tokyo = await builders.facility(db, timezone="Asia/Tokyo")
    discharge = date(2025, 1, 15)
    for facility in [berlin] * EXPIRE_BATCH + [tokyo] * 3:
        ref = await referral(db, box)
        await db.execute(
            "UPDATE referrals SET discharge_date = $2, facility_id = $3, status = 'held'"
            " WHERE id = $1",
            ref.id,
            discharge,
            facility,
        )
    clock.set(datetime(2025, 1, 15, 16, 0, tzinfo=UTC))  # the 16th in Tokyo, the 15th in Berlin
    assert await worker(pool, worker_settings, clock).expire_due() == 3
    expired = await db.fetch("SELECT facility_id FROM referrals WHERE status = 'expired'")
    assert [r["facility_id"] for r in expired] == [tokyo] * 3


async def _statuses(db: Any) -> list[tuple[str, int, str | None]]:
    rows = await db.fetch(
        "SELECT status, attempts, last_error FROM webhook_deliveries ORDER BY event_id"
    )
    return [(r["status"], r["attempts"], r["last_error"]) for r in rows]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/hooks/re\x01spite", "control character"),  # accepted at registration before
        ("/hooks/re\x7fspite", "control character"),
        ("/hooks/re spite", "spaces"),
    ],
)
async def test_a_stored_url_that_can_never_be_sent_to_is_dead_at_once(
    db: Any,
    pool: Pool,
    worker_settings: Settings,
    clock: ManualClock,
    rx: Receiver,
    path: str,
    error: str,
) -> None:
    box = await outbox(db, f"http://127.0.0.1:{rx.port}{path}", new_secret())
    await emit(db, await referral(db, box), clock, 2)
    w = worker(pool, worker_settings, clock)
    assert await w.deliver_due() == 1
    assert await w.deliver_due() == 1  # the referral's next event is not held back
    assert await w.deliver_due() == 0
    clock.advance(timedelta(days=2))
    assert await w.deliver_due() == 0  # never retried
    statuses = await _statuses(db)
    assert [(s, n) for s, n, _ in statuses] == [("dead", 1), ("dead", 1)]
    assert all(why is not None and error in why for _, _, why in statuses)
    attempt = await db.fetchrow("SELECT error, finished_at FROM webhook_attempts LIMIT 1")
    assert error in attempt["error"] and attempt["finished_at"] is not None
    assert rx.received == []


@pytest.fixture
def authority() -> Authority:
    return Authority()


@pytest.mark.parametrize("bad", ["self-signed", "expired", "another address"])
async def test_a_certificate_that_fails_verification_is_dead_at_once_and_holds_nothing_back(
    db: Any,
    pool: Pool,
    worker_settings: Settings,
    clock: ManualClock,
    authority: Authority,
    tmp_path: Path,
    bad: str,
) -> None:
    issuer = Authority() if bad == "self-signed" else authority
    ip = "127.0.0.2" if bad == "another address" else "127.0.0.1"
    tls = server_context(*issuer.issue(tmp_path, "bad", ip=ip, expired=bad == "expired"))
    async with Receiver(lambda: clock.now().timestamp(), tls=tls) as rx:
        secret = new_secret()
        rx.secrets.append(secret)
        box = await outbox(db, rx.url, secret)
        _, second = await emit(db, await referral(db, box), clock, 2)
        w = DeliveryWorker(
            pool, worker_settings, name="w1", clock=clock, tls=authority.client_context()
        )
        assert await w.deliver_due() == 1
        (dead, pending) = await _statuses(db)
        assert dead[:2] == ("dead", 1) and pending[:2] == ("pending", 0)
        assert dead[2] is not None and dead[2].startswith("TLS certificate verification failed")
        # The receiver fixes its certificate: the next event goes through at once.
        tls.load_cert_chain(*authority.issue(tmp_path, "good"))
        assert await w.deliver_due() == 1
        assert [r.event["id"] for r in rx.received] == [second]
        assert rx.received[0].valid
        assert [s for s, _, _ in await _statuses(db)] == ["dead", "delivered"]
