"""One-time codes the whole way, in the running app: asked for through the API, sent by the
app's own notification worker to a real SMTP server and a real SMS gateway on loopback, read
out of the message as a person would, and typed back: a new password (every old token signed
out), a sign-in by phone, in each language; the same answer for a login without an account;
expiry, a new code ending the old one, wrong tries, the rate limits and bad input."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from respite.auth.model import hash_password
from respite.clock import ManualClock
from respite.codes import service
from respite.db import create_pool
from respite.retention import Purger
from respite.settings import Settings
from tests.conftest import settings_for
from tests.e2e.test_problems import assert_problem
from tests.notified import gateway, sending_to, smtp
from tests.sms import SmsGateway
from tests.smtp import SmtpServer

__all__ = ["gateway", "smtp"]  # the module's servers, as fixtures

PASSWORD = "the first long password"
NEW_PASSWORD = "a second long password"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@pytest.fixture
def settings(database_url: str, redis_url: str, smtp: SmtpServer, gateway: SmsGateway) -> Settings:
    return sending_to(settings_for(database_url, redis_url), smtp, gateway)


async def register(client: httpx.AsyncClient, **login: str) -> dict[str, Any]:
    answer = await client.post(
        "/v1/auth/register", json={"name": "Li Na", "password": PASSWORD, **login}
    )
    assert answer.status_code == 201, answer.text
    registered: dict[str, Any] = answer.json()
    return registered


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ask(
    client: httpx.AsyncClient, login: str, purpose: str, language: str = "en"
) -> httpx.Response:
    return await client.post(
        "/v1/auth/codes",
        json={"login": login, "purpose": purpose},
        headers={"Accept-Language": language},
    )


async def emailed_code(smtp: SmtpServer, to: str, already: int = 0) -> tuple[str, EmailMessage]:
    """The code in the next email to ``to`` after the ``already`` it had, and the email."""

    def arrived(messages: list[EmailMessage]) -> bool:
        return len([m for m in messages if m["To"] == to]) > already

    messages = await smtp.wait_for(arrived)
    message = [m for m in messages if m["To"] == to][already]
    body = message.get_body(("plain",))
    assert body is not None
    found = _CODE.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1), message


async def test_a_forgotten_password_is_set_anew_with_the_emailed_code(
    client: httpx.AsyncClient, smtp: SmtpServer, db: Any
) -> None:
    first = await register(client, email="daughter@example.test")
    other = await client.post(
        "/v1/auth/signin", json={"login": "daughter@example.test", "password": PASSWORD}
    )
    asked = await ask(client, "Daughter@Example.test", "password_reset", "zh-CN")
    assert asked.status_code == 202, asked.text
    assert asked.json()["channel"] == "email"
    assert asked.json()["sent_to"] == "d***@example.test"

    code, message = await emailed_code(smtp, "daughter@example.test")
    assert message["Subject"] == "【喘息床位】重设密码验证码"
    assert f"您的验证码是 {code}，10 分钟内有效" in message.get_content()
    assert await db.fetchval("SELECT count(*) FROM one_time_codes") == 1
    stored = await db.fetchrow("SELECT * FROM one_time_codes")
    assert code not in str({name: value for name, value in stored.items() if name != "salt"})

    reset = await client.post(
        "/v1/auth/password/reset",
        json={"login": "daughter@example.test", "code": code, "password": NEW_PASSWORD},
    )
    assert reset.status_code == 200, reset.text
    token = reset.json()["token"]
    assert reset.json()["principal"]["id"] == first["principal"]["id"]

    for old in (first["token"], other.json()["token"]):
        assert (await client.get("/v1/auth/me", headers=bearer(old))).status_code == 401
    assert (await client.get("/v1/auth/me", headers=bearer(token))).status_code == 200
    by_old = await client.post(
        "/v1/auth/signin", json={"login": "daughter@example.test", "password": PASSWORD}
    )
    assert by_old.status_code == 401
    by_new = await client.post(
        "/v1/auth/signin", json={"login": "daughter@example.test", "password": NEW_PASSWORD}
    )
    assert by_new.status_code == 200

    again = await client.post(
        "/v1/auth/password/reset",
        json={"login": "daughter@example.test", "code": code, "password": "yet another password"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert assert_problem(again, 401, "unauthenticated")["detail"].startswith("验证码错误")

    inbox = await client.get("/v1/me/inbox", headers=bearer(token))
    [item] = [i for i in inbox.json()["items"] if i["kind"] == "account.code"]
    assert "d***@example.test" in item["body"] and code not in item["body"] + item["title"]
    actions = [r["action"] for r in await db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("reset_password") == 1 and actions.count("send_code") == 1


async def test_sign_in_by_phone_with_the_texted_code_typed_in_full_width_digits(
    client: httpx.AsyncClient, gateway: SmsGateway, db: Any
) -> None:
    registered = await register(client, phone="139 1234 5678")
    asked = await ask(client, "+86 139-1234-5678", "sign_in")
    assert asked.status_code == 202, asked.text
    assert asked.json() == {
        "channel": "sms",
        "sent_to": "139****5678",
        "expires_at": asked.json()["expires_at"],
    }
    [sms] = await gateway.wait_for(lambda got: len(got) >= 1)
    assert sms.valid and sms.message["to"] == "+8613912345678"
    assert sms.message["text"].startswith("Respite beds: your sign-in code\nYour code is ")
    found = _CODE.search(sms.message["text"])
    assert found is not None
    sealed = await db.fetchval("SELECT phone_enc FROM one_time_codes")
    assert b"13912345678" not in sealed

    wide = "".join(chr(ord(d) - ord("0") + ord("０")) for d in found.group(1))
    signed_in = await client.post(
        "/v1/auth/signin/code", json={"login": "13912345678", "code": f"{wide[:3]} {wide[3:]}"}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["principal"]["id"] == registered["principal"]["id"]
    assert await db.fetchval("SELECT phone_enc FROM one_time_codes") is None
    # A sign-in code is not a reset code, and the other way round.
    reset = await client.post(
        "/v1/auth/password/reset",
        json={"login": "13912345678", "code": found.group(1), "password": NEW_PASSWORD},
    )
    assert reset.status_code == 401


async def test_a_login_without_an_account_gets_the_same_answer_and_nothing_is_made(
    client: httpx.AsyncClient, db: Any
) -> None:
    await register(client, email="someone@example.test")
    known = await ask(client, "someone@example.test", "password_reset")
    unknown = await ask(client, "nobody@example.test", "password_reset")
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert unknown.json()["sent_to"] == "n***@example.test"
    assert await db.fetchval("SELECT count(*) FROM one_time_codes") == 1
    assert await db.fetchval("SELECT count(*) FROM notifications") == 1
    typed = await client.post(
        "/v1/auth/signin/code", json={"login": "nobody@example.test", "code": "123456"}
    )
    wrong = await client.post(
        "/v1/auth/signin/code", json={"login": "someone@example.test", "code": "123456"}
    )
    assert typed.status_code == wrong.status_code == 401
    assert typed.json()["detail"] == wrong.json()["detail"]


async def test_a_code_expires_and_a_new_one_ends_the_one_before(
    client: httpx.AsyncClient, smtp: SmtpServer, clock: ManualClock
) -> None:
    await register(client, email="son@example.test")
    await ask(client, "son@example.test", "sign_in")
    first, _ = await emailed_code(smtp, "son@example.test")
    await ask(client, "son@example.test", "sign_in")
    second, _ = await emailed_code(smtp, "son@example.test", already=1)
    # Two codes in a row are alike once in a million: the old one is refused as ended.
    ended = await client.post(
        "/v1/auth/signin/code", json={"login": "son@example.test", "code": first}
    )
    assert ended.status_code == 401 or first == second
    await ask(client, "son@example.test", "sign_in")
    third, _ = await emailed_code(smtp, "son@example.test", already=2)
    clock.advance(timedelta(minutes=10, seconds=1))
    late = await client.post(
        "/v1/auth/signin/code", json={"login": "son@example.test", "code": third}
    )
    assert late.status_code == 401


async def sign_in(client: httpx.AsyncClient, login: str, code: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/signin/code",
        json={"login": login, "code": code},
        headers={"Accept-Language": "zh-CN"},
    )


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_wrong_tries_end_a_code_at_the_last_one_allowed(
    client: httpx.AsyncClient, smtp: SmtpServer, settings: Settings
) -> None:
    await register(client, email="wrong@example.test")
    await ask(client, "wrong@example.test", "sign_in")
    code, _ = await emailed_code(smtp, "wrong@example.test")
    for _ in range(settings.code_tries - 1):
        assert (await sign_in(client, "wrong@example.test", other_than(code))).status_code == 401
    assert (await sign_in(client, "wrong@example.test", code)).status_code == 200

    await ask(client, "wrong@example.test", "sign_in")
    code, _ = await emailed_code(smtp, "wrong@example.test", already=1)
    for _ in range(settings.code_tries):
        assert (await sign_in(client, "wrong@example.test", other_than(code))).status_code == 401
    right = await sign_in(client, "wrong@example.test", code)
    # Used up, and said in the same words as any wrong code: nothing tells a used-up code of a
    # real account from a code typed for a login without one.
    detail = assert_problem(right, 401, "unauthenticated")["detail"]
    nobody = await sign_in(client, "nobody@example.test", code)
    assert detail == nobody.json()["detail"] and detail.startswith("验证码错误")


async def test_a_day_of_wrong_codes_for_one_login_stops_all_checking(
    client: httpx.AsyncClient, smtp: SmtpServer, settings: Settings
) -> None:
    await register(client, email="guessed@example.test")
    for _ in range(settings.code_wrong_per_login_day):
        assert (await sign_in(client, "guessed@example.test", "000001")).status_code == 401
    await ask(client, "guessed@example.test", "sign_in")
    code, _ = await emailed_code(smtp, "guessed@example.test")
    stopped = await sign_in(client, "GUESSED@example.test", code)
    assert assert_problem(stopped, 429, "rate-limited")["detail"].startswith("尝试次数过多")


async def test_two_codes_asked_for_at_once_leave_one_that_works(
    client: httpx.AsyncClient, smtp: SmtpServer, db: Any, clock: ManualClock
) -> None:
    await register(client, email="double@example.test")
    both = await asyncio.gather(*(ask(client, "double@example.test", "sign_in") for _ in range(2)))
    assert [answer.status_code for answer in both] == [202, 202]
    live = await db.fetchval(
        "SELECT count(*) FROM one_time_codes WHERE used_at IS NULL AND expires_at > $1",
        clock.now(),
    )
    assert live == 1


async def test_a_new_password_ends_every_live_code_of_the_account(
    client: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(client, email="both@example.test")
    await ask(client, "both@example.test", "sign_in")
    sign_in_code, _ = await emailed_code(smtp, "both@example.test")
    await ask(client, "both@example.test", "password_reset")
    reset_code, _ = await emailed_code(smtp, "both@example.test", already=1)
    reset = await client.post(
        "/v1/auth/password/reset",
        json={"login": "both@example.test", "code": reset_code, "password": NEW_PASSWORD},
    )
    assert reset.status_code == 200
    assert (await sign_in(client, "both@example.test", sign_in_code)).status_code == 401


async def test_a_wrong_code_sets_no_password_and_costs_no_hashing(
    client: httpx.AsyncClient, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []

    def counted(password: str) -> str:
        hashed.append(password)
        return hash_password(password)

    monkeypatch.setattr(service, "hash_password", counted)
    await register(client, email="slow@example.test")
    await ask(client, "slow@example.test", "password_reset")
    code, _ = await emailed_code(smtp, "slow@example.test")
    for login in ("slow@example.test", "nobody@example.test"):
        wrong = await client.post(
            "/v1/auth/password/reset",
            json={"login": login, "code": other_than(code), "password": NEW_PASSWORD},
        )
        assert wrong.status_code == 401
    assert hashed == []
    right = await client.post(
        "/v1/auth/password/reset",
        json={"login": "slow@example.test", "code": code, "password": NEW_PASSWORD},
    )
    assert right.status_code == 200 and hashed == [NEW_PASSWORD]


async def test_codes_to_one_login_are_rate_limited(
    client: httpx.AsyncClient, settings: Settings, db: Any
) -> None:
    await register(client, email="many@example.test")
    for _ in range(settings.code_limit_per_login):
        assert (await ask(client, "many@example.test", "password_reset")).status_code == 202
    limited = await ask(client, "MANY@example.test", "sign_in", "zh-CN")
    problem = assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert problem["detail"].startswith("尝试次数过多")
    made = await db.fetchval("SELECT count(*) FROM one_time_codes")
    assert made == settings.code_limit_per_login


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/auth/codes", {"login": "someone@example.test"}, "purpose"),
        ("/v1/auth/codes", {"login": "someone@example.test", "purpose": "reset"}, "purpose"),
        ("/v1/auth/codes", {"login": "not a login", "purpose": "sign_in"}, "login"),
        ("/v1/auth/codes", {"login": "a@b.cn", "purpose": "sign_in", "extra": 1}, "extra"),
        ("/v1/auth/signin/code", {"login": "a@b.cn", "code": "12ab56"}, "code"),
        ("/v1/auth/signin/code", {"login": "a@b.cn", "code": "1234567"}, "code"),
        (
            "/v1/auth/password/reset",
            {"login": "a@b.cn", "code": "123456", "password": "short"},
            "password",
        ),
    ],
)
async def test_bad_input_names_the_field_in_both_languages(
    client: httpx.AsyncClient, db: Any, path: str, body: dict[str, Any], field: str
) -> None:
    for language in ("en", "zh-CN"):
        answer = await client.post(path, json=body, headers={"Accept-Language": language})
        assert answer.status_code in {400, 422}, answer.text
        problem = answer.json()
        assert [error["field"] for error in problem["errors"]] == [field], problem
        message = problem["errors"][0]["message"]
        if language == "zh-CN":
            assert re.search(r"[\u4e00-\u9fff]", message), message
    assert await db.fetchval("SELECT count(*) FROM one_time_codes") == 0


async def test_one_code_typed_at_once_in_several_places_signs_in_once(
    client: httpx.AsyncClient, smtp: SmtpServer, db: Any
) -> None:
    await register(client, email="twice@example.test")
    await ask(client, "twice@example.test", "sign_in")
    code, _ = await emailed_code(smtp, "twice@example.test")
    tries = await asyncio.gather(
        *(
            client.post("/v1/auth/signin/code", json={"login": "twice@example.test", "code": code})
            for _ in range(6)
        )
    )
    assert sorted(t.status_code for t in tries) == [200] + [401] * 5
    assert await db.fetchval("SELECT count(*) FROM tokens WHERE label = 'sign-in-code'") == 1


async def test_codes_are_purged_a_day_after_they_end(
    client: httpx.AsyncClient,
    smtp: SmtpServer,
    db: Any,
    clock: ManualClock,
    settings: Settings,
    database_url: str,
) -> None:
    await register(client, email="old@example.test")
    await ask(client, "old@example.test", "sign_in")
    await emailed_code(smtp, "old@example.test")
    clock.advance(timedelta(days=1, minutes=5))
    await ask(client, "old@example.test", "password_reset")
    await emailed_code(smtp, "old@example.test", already=1)
    clock.advance(timedelta(minutes=11))  # this one has expired too, but not a day ago
    pool = await create_pool(settings, database_url)
    try:
        purged = await Purger(pool, settings, clock=clock).purge()
    finally:
        await pool.close()
    assert purged.one_time_codes == 1
    assert await db.fetchval("SELECT purpose FROM one_time_codes") == "password_reset"
    assert await db.fetchval("SELECT expires_at < $1 FROM one_time_codes", clock.now())
