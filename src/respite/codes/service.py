"""Use cases of one-time codes: send one to an account's email address or phone, then set a
new password with it or sign in with it.

**Sending.** A code goes to the login typed, by email for an address and by SMS for a number,
through the one notification outbox (``notify``, kind ``account.code``, on that channel only,
at once): the worker derives the code and sends it; the inbox says a code was sent, never the
code. It is written in the language the request named (a page's language; an API client's
``Accept-Language``), else the one the account chose. A new code ends the live ones of its
purpose (the account's row is locked first, so two asked for at once leave one).

**Typing it.** A code works once, for ``code_minutes``, and until it has been typed wrong
``code_tries`` times; using it ends every other live code of its purpose (a new password, of
both purposes). Setting a new password signs out every session and token of the account
(whoever asked for the reset may not have been alone with it) and signs in anew; both audited.

**Telling no one which logins have accounts.** Asking answers the same whether or not an
account has the login; every refusal of a typed code says the same words; and each answer
takes at least ``ANSWER_FLOOR`` seconds, so the writing a real account causes does not show in
the time an answer takes. The new password is hashed only once its code is accepted.

**Limits** (Redis, fixed windows; ``ratelimit``): codes asked for one login from one address
(``code_limit_per_login``) and from every address (``code_limit_login_wide``), and by one
address (``code_limit_per_address``), per ``code_window_seconds``; codes typed from one
address like sign-ins; wrong codes for one login per day (``code_wrong_per_login_day``), so a
guesser's chance stays near twenty in a million a day, however many codes are asked for.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Final

import msgspec

from respite import audit
from respite.auth import queries as auth_q
from respite.auth.logins import Login, canonical_login
from respite.auth.model import Principal, TokenIssued, hash_password, identifier_hash
from respite.auth.service import Account, account_of, issue_token, principal_from_row
from respite.codes import queries as q
from respite.codes.model import (
    CODE_DIGITS,
    SALT_BYTES,
    CodeChannel,
    CodeOnItsWay,
    CodePurpose,
    CodeRequest,
    CodeSignIn,
    PasswordReset,
    masked_email,
    masked_phone,
    typed_code,
)
from respite.crypto import cipher_for
from respite.db import Conn
from respite.deps import Deps
from respite.errors import AuthenticationError, InvalidInputError
from respite.i18n import Lang, t
from respite.keys import one_time_code
from respite.notifications import notify
from respite.notifications.model import CodeSent
from respite.ratelimit import enforce, give_back
from respite.settings import Settings

__all__ = ["ANSWER_FLOOR", "request_code", "reset_password", "sign_in_with_code"]

ANSWER_FLOOR: Final = 0.25
"""Seconds every answer of these use cases takes at least (see the module's docstring)."""
_DAY: Final = 86_400
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@asynccontextmanager
async def _at_least(seconds: float) -> AsyncIterator[None]:
    """The block, answered no sooner than ``seconds`` after it began, whatever it raised."""
    began = time.monotonic()
    try:
        yield
    finally:
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))


def _channel(settings: Settings, login: Login) -> CodeChannel:
    """How a code reaches ``login``, or why it cannot on this deployment."""
    if login.kind == "email" and _EMAIL.fullmatch(login.value):
        if not settings.sends_email:
            raise InvalidInputError.one("login", t("auth.code_no_email"))
        return "email"
    if login.kind == "phone":
        if not settings.sends_sms:
            raise InvalidInputError.one("login", t("auth.code_no_sms"))
        return "sms"
    raise InvalidInputError.one("login", t("auth.code_login"))


def _login_key(settings: Settings, login: Login) -> str:
    return identifier_hash(settings.secret_key, login.value).hex()


async def request_code(
    deps: Deps, form: CodeRequest, *, address: str, language: Lang | None = None
) -> CodeOnItsWay:
    """Send a code for ``form.purpose`` to ``form.login`` if an account has it; the same
    answer either way. ``address`` is the client's, for the limits; ``language`` the one the
    request named, if it named one."""
    settings = deps.settings
    login = canonical_login(form.login, settings.phone_region)
    channel = _channel(settings, login)
    key = _login_key(settings, login)
    await enforce(
        deps.redis,
        [
            (f"rl:code:login:{key}:{address}", settings.code_limit_per_login),
            (f"rl:code:login:{key}", settings.code_limit_login_wide),
            (f"rl:code:addr:{address}", settings.code_limit_per_address),
        ],
        settings.code_window_seconds,
    )
    async with _at_least(ANSWER_FLOOR):
        now = deps.clock.now()
        expires = now + timedelta(minutes=settings.code_minutes)
        if channel == "email":
            sent_to = masked_email(login.value)
        else:
            sent_to = masked_phone(login.value, settings.phone_region)
        account = await account_of(deps.pool, settings, login)
        if account is not None:
            facts = CodeSent(
                code_id=0,
                purpose=form.purpose,
                channel=channel,
                sent_to=sent_to,
                expires_at=expires,
                minutes=settings.code_minutes,
            )
            phone = login.value if channel == "sms" else None
            await _send(deps, principal_from_row(account.row), facts, phone, language, now)
    return CodeOnItsWay(channel=channel, sent_to=sent_to, expires_at=expires)


async def _send(
    deps: Deps,
    principal: Principal,
    facts: CodeSent,
    phone: str | None,
    language: Lang | None,
    now: datetime,
) -> None:
    """A new code of ``facts.purpose`` for ``principal``, ending the live ones, and its
    notification, in one transaction."""
    sealed = (
        None if phone is None else cipher_for(deps.settings).encrypt("notification_phone", phone)
    )
    async with deps.pool.acquire() as conn, conn.transaction():
        # One code asked for at a time per account: the one asked for last is the one live.
        await conn.execute(q.LOCK_PRINCIPAL, principal.id)
        await conn.execute(q.END_LIVE_CODES, principal.id, [facts.purpose], now)
        salt = secrets.token_bytes(SALT_BYTES)
        code_id = await conn.fetchval(
            q.INSERT_CODE,
            principal.id,
            facts.purpose,
            facts.channel,
            salt,
            sealed,
            now,
            facts.expires_at,
        )
        await notify(
            conn,
            principal_id=principal.id,
            kind="account.code",
            facts=msgspec.structs.replace(facts, code_id=code_id),
            key=f"code:{code_id}",
            now=now,
            only=facts.channel,
            language=language,
        )
        # Asked for by whoever typed the login: no one is signed in, so no one is the actor.
        after = {"purpose": facts.purpose, "channel": facts.channel, "code_id": code_id}
        await audit.record(conn, None, "send_code", "principal", principal.id, after=after)


async def _taken(
    conn: Conn, deps: Deps, principal: Principal, purpose: CodePurpose, code: str, now: datetime
) -> bool:
    """Use the principal's live code of ``purpose`` if ``code`` is it, ending the others of
    ``purpose`` (of both, for a new password); whether it was. A wrong try is counted in the
    caller's transaction, which must commit."""
    row = await conn.fetchrow(q.LIVE_CODE, principal.id, purpose, now)
    if row is None or row["wrong_tries"] >= deps.settings.code_tries:
        return False
    expected = one_time_code(deps.settings.secret_key, row["salt"], CODE_DIGITS)
    if not hmac.compare_digest(expected.encode(), code.encode()):
        await conn.execute(q.WRONG_TRY, row["id"])
        return False
    await conn.execute(q.USE_CODE, row["id"], now)
    ended: list[CodePurpose] = (
        ["password_reset", "sign_in"] if purpose == "password_reset" else [purpose]
    )
    await conn.execute(q.END_LIVE_CODES, principal.id, ended, now)
    return True


class _Typed(msgspec.Struct, frozen=True, kw_only=True):
    """A code being typed for a login: the code as read, its account (None when no account
    has the login), and the day's count of wrong codes for the login, given back when the
    code is right."""

    code: str
    account: Account | None
    wrong_key: str


async def _typed(deps: Deps, login_text: str, typed: str, address: str) -> _Typed:
    """After the address's limit, the code's form and the login's day of wrong codes (this try
    counted as wrong until it is right): the account the code is typed for."""
    settings = deps.settings
    await enforce(
        deps.redis,
        [(f"rl:code:check:{address}", settings.signin_limit_per_address)],
        settings.signin_window_seconds,
    )
    code = typed_code(typed)
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise InvalidInputError.one("code", t("auth.code_form", digits=CODE_DIGITS))
    login = canonical_login(login_text, settings.phone_region)
    wrong_key = f"rl:code:wrong:{_login_key(settings, login)}"
    await enforce(deps.redis, [(wrong_key, settings.code_wrong_per_login_day)], _DAY)
    account = await account_of(deps.pool, settings, login)
    return _Typed(code=code, account=account, wrong_key=wrong_key)


async def _right(deps: Deps, typed: _Typed) -> None:
    await give_back(deps.redis, [typed.wrong_key], _DAY)


def _refused() -> AuthenticationError:
    # One answer for every refusal: a wrong, ended or used-up code, or a login without an
    # account, are told apart by no one.
    return AuthenticationError(t("auth.code_wrong"))


async def _canonical(conn: Conn, principal: Principal, account: Account) -> None:
    if account.moved_to is not None:
        await conn.execute(auth_q.CANONICAL_PHONE, principal.id, account.moved_to)


async def sign_in_with_code(deps: Deps, form: CodeSignIn, *, address: str) -> TokenIssued:
    """A new token for the account whose ``sign_in`` code this is."""
    async with _at_least(ANSWER_FLOOR):
        typed = await _typed(deps, form.login, form.code, address)
        if typed.account is None:
            raise _refused()
        account = typed.account
        principal = principal_from_row(account.row)
        now = deps.clock.now()
        async with deps.pool.acquire() as conn, conn.transaction():
            if await _taken(conn, deps, principal, "sign_in", typed.code, now):
                await _canonical(conn, principal, account)
                by = {"by": "code"}
                await audit.record(conn, principal, "sign_in", "principal", principal.id, after=by)
                expires = now + timedelta(days=deps.settings.family_token_days)
                issued = await issue_token(conn, principal, expires, "sign-in-code")
            else:
                issued = None
        if issued is None:
            raise _refused()
        await _right(deps, typed)
        return issued


async def reset_password(deps: Deps, form: PasswordReset, *, address: str) -> TokenIssued:
    """Set a new password with a ``password_reset`` code: every token of the account is
    revoked, and a new one is issued."""
    async with _at_least(ANSWER_FLOOR):
        typed = await _typed(deps, form.login, form.code, address)
        if typed.account is None:
            raise _refused()
        account = typed.account
        principal = principal_from_row(account.row)
        now = deps.clock.now()
        async with deps.pool.acquire() as conn, conn.transaction():
            if await _taken(conn, deps, principal, "password_reset", typed.code, now):
                # Hashed only now: a wrong code costs no hashing, so it answers as fast as
                # a login without an account.
                password_hash = await asyncio.to_thread(hash_password, form.password)
                await _canonical(conn, principal, account)
                await conn.execute(q.SET_PASSWORD, principal.id, password_hash)
                revoked = await conn.fetch(auth_q.REVOKE_TOKENS_OF_PRINCIPAL, principal.id)
                for token in revoked:
                    await audit.record(conn, principal, "revoke", "token", token["id"])
                await audit.record(conn, principal, "reset_password", "principal", principal.id)
                expires = now + timedelta(days=deps.settings.family_token_days)
                issued = await issue_token(conn, principal, expires, "password-reset")
            else:
                issued = None
        if issued is None:
            raise _refused()
        await _right(deps, typed)
        return issued
