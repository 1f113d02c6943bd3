"""A real SMTP server on loopback for the notification tests: ``aiosmtpd`` in the test's own
event loop, which keeps every message it accepts (parsed by the stdlib ``email`` package) and
answers recipients as its script says (a reply such as ``451 4.3.0 Try again later``), 250
when the script is empty. With ``tls`` it offers STARTTLS and then asks for a login."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["SmtpServer"]


class SmtpServer:
    """``async with SmtpServer() as smtp``: listens on 127.0.0.1 at ``smtp.port``."""

    def __init__(
        self, *, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None
    ) -> None:
        self.tls = tls
        self.login = login
        self.script: list[str] = []
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.recipients: list[list[str]] = []
        self.refused = 0
        self.logins: list[str] = []
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> SmtpServer:
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol, "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _protocol(self) -> SMTP:
        if self.tls is None:
            return SMTP(self, hostname="smtp.test")
        return SMTP(
            self,
            hostname="smtp.test",
            tls_context=self.tls,
            require_starttls=True,
            auth_required=True,
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login is not None
        if ok:
            ok = (data.login.decode(), data.password.decode()) == self.login
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.script:
            self.refused += 1
            return self.script.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        async with self._changed:
            self.messages.append(parsed)
            self.raw.append(content)
            self.recipients.append(list(envelope.rcpt_tos))
            self._changed.notify_all()
        return "250 Message accepted"

    async def wait_for(
        self, done: Callable[[list[EmailMessage]], bool], seconds: float = 10.0
    ) -> list[EmailMessage]:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: done(self.messages))
        return self.messages
