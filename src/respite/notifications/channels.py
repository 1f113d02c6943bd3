"""The two channels that leave respite: email over SMTP, and SMS through an HTTP gateway.

Email: one ``text/plain`` part in UTF-8 (the stdlib ``email`` package writes the subject per
RFC 2047 and picks the transfer encoding), with a calendar file attached where there is one,
sent with ``aiosmtplib`` (STARTTLS and login as configured). Its Message-ID is the
notification's, so a receiver can tell a retry after a lost answer from a new message.

SMS: a POST of JSON ``{"to": "+86...", "text": "..."}`` to the configured gateway, signed:
``X-Respite-Timestamp`` (Unix seconds) and ``X-Respite-Signature: v1=<hex>``, the HMAC-SHA256
of ``"<timestamp>." + body`` under the configured secret. A 2xx answer means sent.

In development, the letterbox (``RESPITE_LETTERBOX_DIR``) stands in for both: each email is
written as an ``.eml`` file and each SMS as the JSON a gateway would get, to be read there.

Each send answers an ``Outcome``. Its error is a status or the kind of failure only — never
the address, the number or the words — because the worker logs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Final

import aiosmtplib
import httpx
import msgspec

from respite.settings import Settings

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attachment",
    "Letter",
    "Outcome",
    "email_message",
    "mail_domain",
    "send_email",
    "send_sms",
    "sms_signature",
    "to_letterbox",
]

TIMESTAMP_HEADER: Final = "X-Respite-Timestamp"
SIGNATURE_HEADER: Final = "X-Respite-Signature"
# A gateway's answers that a retry may cure; any other 4xx refuses the message itself.
_TRANSIENT_4XX: Final = frozenset({408, 425, 429})


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    sent: bool
    error: str | None = None
    """Why not, in a few words for the log: a status code or the kind of failure."""
    permanent: bool = False
    """No later attempt can succeed (the address or number is refused): give up now."""


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    text: str
    subtype: str
    params: dict[str, str] = {}


class Letter(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    body: str
    message_id: str
    attachment: Attachment | None = None


def mail_domain(settings: Settings) -> str:
    """The domain of the From address: it names the Message-IDs and calendar UIDs."""
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "respite.invalid"


def email_message(settings: Settings, letter: Letter, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = letter.message_id
    message.set_content(letter.body, charset="utf-8")
    if letter.attachment is not None:
        attached = letter.attachment
        message.add_attachment(
            attached.text,
            subtype=attached.subtype,
            charset="utf-8",
            filename=attached.filename,
            params=attached.params,
        )
    return message


async def send_email(
    settings: Settings, message: EmailMessage, tls: ssl.SSLContext | None = None
) -> Outcome:
    assert settings.smtp_host is not None, "the worker sends email only with a server"
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=False,
            start_tls=settings.smtp_starttls,
            tls_context=tls,
            timeout=settings.notify_timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        return Outcome(
            sent=False,
            error=f"SMTP {min(codes)}: recipient refused",
            permanent=all(code >= 500 for code in codes),
        )
    except aiosmtplib.SMTPDataError as exc:
        return Outcome(
            sent=False, error=f"SMTP {exc.code}: message refused", permanent=exc.code >= 500
        )
    except aiosmtplib.SMTPResponseException as exc:
        return Outcome(sent=False, error=f"SMTP {exc.code}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Outcome(sent=False, error=type(exc).__name__)
    return Outcome(sent=True)


def sms_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


async def send_sms(
    client: httpx.AsyncClient, settings: Settings, to: str, text: str, now: datetime
) -> Outcome:
    assert settings.sms_gateway_url is not None and settings.sms_gateway_secret is not None
    body = msgspec.json.encode({"to": to, "text": text})
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: "v1=" + sms_signature(settings.sms_gateway_secret, timestamp, body),
    }
    try:
        response = await client.post(settings.sms_gateway_url, content=body, headers=headers)
    except (httpx.HTTPError, OSError, TimeoutError) as exc:
        return Outcome(sent=False, error=type(exc).__name__)
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(sent=True)
    permanent = 400 <= status < 500 and status not in _TRANSIENT_4XX
    return Outcome(sent=False, error=f"HTTP {status}", permanent=permanent)


async def to_letterbox(folder: str, name: str, content: bytes) -> Outcome:
    """Write a message to the development letterbox as the file ``name`` (a retry rewrites it)."""

    def write() -> None:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(content)

    try:
        await asyncio.to_thread(write)
    except OSError as exc:
        return Outcome(sent=False, error=type(exc).__name__)
    return Outcome(sent=True)
