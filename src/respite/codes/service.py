"""Use cases of one-time codes: send one to an account's email address or phone, then set a
new password with it or sign in with it.

**Sending.** A code goes to the login typed, by email for an address and by SMS for a number,
through the one notification outbox (``notify``, kind ``account.code``, on that channel only,
at once, in the language of the request): the worker derives the code and sends it; the inbox
says a code was sent, never the code. The answer is the same whether or not an account has
that login, so no one learns which logins have accounts. Sending is limited per login
(``code_limit_per_login``) and per client address (``code_limit_per_address``) in a window
(``code_window_seconds``); a new code ends the ones before it.

**Typing it.** A code works once, for ``code_minutes``, and until it has been typed wrong
``code_tries`` times; tries from one address are limited like sign-ins. A wrong code, an
expired one and a login without an account all answer alike. Setting a new password signs out
every session and token of the account (whoever asked for the reset may not have been alone
with it) and signs in anew; both are audited.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from datetime import datetime, timedelta

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
from respite.i18n import Text, current_language, t
from respite.keys import one_time_code
from respite.notifications import notify
from respite.notifications.model import CodeSent
from respite.ratelimit import enforce
from respite.settings import Settings

__all__ = ["request_code", "reset_password", "sign_in_with_code"]


def _channel(settings: Settings, login: Login) -> CodeChannel:
    """How a code reaches ``login``, or why it cannot on this deployment."""
    if login.kind == "email":
        if not settings.sends_email:
            raise InvalidInputError.one("login", t("auth.code_no_email"))
        return "email"
    if login.kind == "phone":
        if not settings.sends_sms:
            raise InvalidInputError.one("login", t("auth.code_no_sms"))
        return "sms"
    raise InvalidInputError.one("login", t("auth.code_login"))


async def request_code(deps: Deps, form: CodeRequest, *, address: str) -> CodeOnItsWay:
    """Send a code for ``form.purpose`` to ``form.login`` if an account has it; the same
    answer either way. ``address`` is the client's, for the rate limit."""
    settings = deps.settings
    login = canonical_login(form.login, settings.phone_region)
    channel = _channel(settings, login)
    key = identifier_hash(settings.secret_key, login.value).hex()
    await enforce(
        deps.redis,
        [
            (f"rl:code:login:{key}", settings.code_limit_per_login),
            (f"rl:code:addr:{address}", settings.code_limit_per_address),
        ],
        settings.code_window_seconds,
    )
    now = deps.clock.now()
    expires = now + timedelta(minutes=settings.code_minutes)
    if channel == "email":
        sent_to = masked_email(login.value)
    else:
        sent_to = masked_phone(login.value, settings.phone_region)
    answer = CodeOnItsWay(channel=channel, sent_to=sent_to, expires_at=expires)
    account = await account_of(deps.pool, deps.settings, login)
    if account is None:
        return answer
    principal = principal_from_row(account.row)
    phone = None
    if channel == "sms":
        phone = cipher_for(settings).encrypt("notification_phone", login.value)
    async with deps.pool.acquire() as conn, conn.transaction():
        await conn.execute(q.END_LIVE_CODES, principal.id, form.purpose, now)
        salt = secrets.token_bytes(SALT_BYTES)
        code_id = await conn.fetchval(
            q.INSERT_CODE, principal.id, form.purpose, channel, salt, phone, now, expires
        )
        facts = CodeSent(
            code_id=code_id,
            purpose=form.purpose,
            channel=channel,
            sent_to=sent_to,
            expires_at=expires,
            minutes=settings.code_minutes,
        )
        await notify(
            conn,
            principal_id=principal.id,
            kind="account.code",
            facts=facts,
            key=f"code:{code_id}",
            now=now,
            only=channel,
            language=current_language(),
        )
        after = {"purpose": form.purpose, "channel": channel, "code_id": code_id}
        await audit.record(conn, principal, "send_code", "principal", principal.id, after=after)
    return answer


async def _taken(
    conn: Conn, deps: Deps, principal: Principal, purpose: CodePurpose, code: str, now: datetime
) -> Text | None:
    """Use the principal's live code of ``purpose`` if ``code`` is it; None when it was, or
    why not. A wrong try is counted in the caller's transaction, which must commit."""
    row = await conn.fetchrow(q.LIVE_CODE, principal.id, purpose, now)
    if row is None:
        return t("auth.code_wrong")
    if row["wrong_tries"] >= deps.settings.code_tries:
        return t("auth.code_used_up")
    expected = one_time_code(deps.settings.secret_key, row["salt"], CODE_DIGITS)
    if hmac.compare_digest(expected.encode(), code.encode()):
        await conn.execute(q.USE_CODE, row["id"], now)
        return None
    tries = await conn.fetchval(q.WRONG_TRY, row["id"])
    return t("auth.code_used_up") if tries >= deps.settings.code_tries else t("auth.code_wrong")


async def _account_for_code(deps: Deps, login_text: str, typed: str, address: str) -> Account:
    """The account a code is typed for, after the address's limit and the code's form; the
    same refusal for a login without an account as for a wrong code."""
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
    account = await account_of(deps.pool, settings, login)
    if account is None:
        raise AuthenticationError(t("auth.code_wrong"))
    return account


async def _canonical(conn: Conn, principal: Principal, account: Account) -> None:
    if account.moved_to is not None:
        await conn.execute(auth_q.CANONICAL_PHONE, principal.id, account.moved_to)


async def sign_in_with_code(deps: Deps, form: CodeSignIn, *, address: str) -> TokenIssued:
    """A new token for the account whose ``sign_in`` code this is."""
    account = await _account_for_code(deps, form.login, form.code, address)
    principal = principal_from_row(account.row)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            refused = await _taken(conn, deps, principal, "sign_in", typed_code(form.code), now)
            if refused is None:
                await _canonical(conn, principal, account)
                by = {"by": "code"}
                await audit.record(conn, principal, "sign_in", "principal", principal.id, after=by)
                expires = now + timedelta(days=deps.settings.family_token_days)
                return await issue_token(conn, principal, expires, "sign-in-code")
        raise AuthenticationError(refused)


async def reset_password(deps: Deps, form: PasswordReset, *, address: str) -> TokenIssued:
    """Set a new password with a ``password_reset`` code: every token of the account is
    revoked, and a new one is issued."""
    account = await _account_for_code(deps, form.login, form.code, address)
    principal = principal_from_row(account.row)
    password_hash = await asyncio.to_thread(hash_password, form.password)
    now = deps.clock.now()
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            code = typed_code(form.code)
            refused = await _taken(conn, deps, principal, "password_reset", code, now)
            if refused is None:
                await _canonical(conn, principal, account)
                await conn.execute(q.SET_PASSWORD, principal.id, password_hash)
                revoked = await conn.fetch(auth_q.REVOKE_TOKENS_OF_PRINCIPAL, principal.id)
                for token in revoked:
                    await audit.record(conn, principal, "revoke", "token", token["id"])
                await audit.record(conn, principal, "reset_password", "principal", principal.id)
                expires = now + timedelta(days=deps.settings.family_token_days)
                return await issue_token(conn, principal, expires, "password-reset")
        raise AuthenticationError(refused)
