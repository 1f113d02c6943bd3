"""Standard Webhooks signatures and the retry schedule of callbacks."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import pytest

from respite.referral.webhook_model import RETRY_STEPS, gives_up, retry_delay
from respite.referral.webhook_security import new_secret, sign, signature_headers, verify

# The specification's published test vector: matching it means any Standard Webhooks library
# verifies respite's callbacks.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_headers_carry_one_signature_per_secret_in_order() -> None:
    other = new_secret()
    headers = signature_headers([VECTOR_SECRET, other], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers["webhook-id"] == VECTOR_ID
    assert headers["webhook-timestamp"] == str(VECTOR_TIMESTAMP)
    first, second = headers["webhook-signature"].split(" ")
    assert first == VECTOR_SIGNATURE
    assert second == sign(other, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("secret", "body", "now", "valid"),
    [
        (VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP, True),
        (VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP + 300, True),
        (VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP + 301, False),
        (VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP - 301, False),
        (VECTOR_SECRET, VECTOR_BODY + b" ", VECTOR_TIMESTAMP, False),
        ("whsec_" + base64.b64encode(b"other key").decode(), VECTOR_BODY, VECTOR_TIMESTAMP, False),
    ],
)
def test_verify(secret: str, body: bytes, now: float, valid: bool) -> None:
    headers = signature_headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert verify(secret, headers, body, now) is valid


def test_verify_refuses_missing_or_malformed_headers() -> None:
    headers = signature_headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    for broken in (
        {k: v for k, v in headers.items() if k != "webhook-id"},
        {**headers, "webhook-timestamp": "soon"},
        {**headers, "webhook-signature": ""},
    ):
        assert not verify(VECTOR_SECRET, broken, VECTOR_BODY, VECTOR_TIMESTAMP)


def test_new_secrets_are_32_random_bytes_with_the_prefix() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


@pytest.mark.parametrize(
    ("failures", "step"),
    [(1, 5), (2, 30), (3, 120), (4, 600), (5, 1800), (6, 3600), (7, 7200), (8, 14400), (50, 14400)],
)
def test_retry_delays_grow_exponentially_with_full_jitter(failures: int, step: float) -> None:
    assert retry_delay(failures, 1.0, 1.0) == step
    assert retry_delay(failures, 1.0, 0.5) == max(1.0, step / 2)
    assert retry_delay(failures, 1.0, 0.0) == 1.0  # never at once
    assert retry_delay(failures, 0.01, 1.0) == pytest.approx(step * 0.01)


def test_with_jitter_a_failing_delivery_is_still_retried_for_the_whole_window() -> None:
    window = 26 * 3600
    rng = random.Random(7)
    start = now = datetime(2030, 1, 1, tzinfo=UTC)
    failures = 0
    while not gives_up(start, now, window):
        failures += 1
        now += timedelta(seconds=retry_delay(failures, 1.0, rng.random()))
    assert (now - start).total_seconds() >= 24 * 3600
    assert failures > len(RETRY_STEPS)


def test_gives_up_only_once_the_window_is_over() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    assert not gives_up(start, start + timedelta(hours=25, minutes=59), 26 * 3600)
    assert gives_up(start, start + timedelta(hours=26), 26 * 3600)
