"""Settings: one msgspec Struct read from ``RESPITE_*`` environment variables.

Every field has a safe default, so a bare checkout runs. A value that does not decode stops
start-up with a message naming the variable, never a traceback from deep inside the app. The
development defaults of the secrets are public: ``respite serve`` in production refuses to
start without the real ones (``production_refusal``).
"""

from __future__ import annotations

import email.utils
import ipaddress
import os
import re
import typing
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
import phonenumbers
from msgspec import Meta, Struct

__all__ = [
    "DEV_SECRET_KEY",
    "ENV_PREFIX",
    "MIN_SECRET_KEY_LENGTH",
    "Settings",
    "SettingsError",
    "load_settings",
    "production_refusal",
]

ENV_PREFIX = "RESPITE_"
DEV_SECRET_KEY = "dev-only-secret-change-me"
MIN_SECRET_KEY_LENGTH = 32

Port = Annotated[int, Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, Meta(ge=1)]
Seconds = Annotated[float, Meta(gt=0, le=3600)]
# A hundred years is as good as forever.
RetentionDays = Annotated[int, Meta(ge=1, le=36_600)]
# Standard base64 of exactly 32 bytes: 43 characters, the last one carrying 2 bits, then "=".
Base64Key32 = Annotated[str, Meta(pattern=r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")]


class Settings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str | None = None
    """PostgreSQL DSN. Unset: private servers are started under ``data_dir``."""
    redis_url: str | None = None
    """Redis URL. Unset: a private server is started under ``data_dir``."""
    redis_cluster: bool = False
    """Speak Redis Cluster to ``redis_url`` (any node of the cluster)."""
    data_dir: str = ".data"
    host: str = "127.0.0.1"
    port: Port = 8000
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    """The language of answers to a request without an ``Accept-Language`` we speak."""
    coordinate_system: Literal["WGS-84", "GCJ-02"] = "GCJ-02"
    """The system of every latitude and longitude respite reads and answers: GCJ-02 (what
    maps in mainland China show and their geocoders return) or WGS-84 (GPS). Nothing is
    converted: facilities, homes, the gazetteer and searches must all be in this one."""
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    db_pool_min: Annotated[int, Meta(ge=0, le=200)] = 2
    db_pool_max: Annotated[int, Meta(ge=1, le=200)] = 10
    db_connect_timeout: Seconds = 5.0
    db_statement_timeout_ms: Annotated[int, Meta(ge=100, le=600_000)] = 5_000
    db_acquire_timeout: Seconds = 3.0
    redis_timeout: Seconds = 1.0
    request_timeout: Seconds = 30.0
    max_body_bytes: Annotated[int, Meta(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    family_token_days: Annotated[int, Meta(ge=1, le=365)] = 30
    signin_limit_per_account: PositiveInt = 10
    """Wrong passwords for one login from one client address per window."""
    signin_limit_account_wide: PositiveInt = 100
    """Wrong passwords for one login from all addresses together per window; past it, only
    addresses without a wrong password for that login in the window may still try."""
    signin_limit_per_address: PositiveInt = 30
    signin_window_seconds: PositiveInt = 60
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (CIDR) of the reverse proxies in front of respite: only a request
    from one of them is believed about its client's address (``X-Forwarded-For``). In the
    environment: separated by commas."""
    cookies_secure: bool = False
    """Send the pages' cookies (the session, its CSRF token, the language) with ``Secure``,
    so a browser returns them over HTTPS only: set it wherever respite is served over HTTPS
    (behind a proxy that ends TLS too)."""
    phone_region: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] = "CN"
    """Where a phone number written without its country code is from (ISO 3166 code)."""
    environment: Literal["production", "development"] | None = None
    """``production``: ``respite serve`` refuses to start without ``secret_key`` and
    ``id_key``. Unset: production when ``database_url`` or ``redis_url`` is set (servers of
    one's own hold real data), development on the private servers. ``respite dev`` is always
    development."""
    secret_key: str = DEV_SECRET_KEY
    """The one secret every key of respite is derived from (``respite.keys``): identifier
    hashes (phone logins, national IDs), hold tokens, cursors. Production: at least 32
    characters. Changing it voids hold tokens and cursors and the hashes of phone logins."""
    id_key: Base64Key32 | None = None
    """AES-256-GCM key of stored personal identifiers (national ID numbers, emergency phones):
    32 random bytes in standard base64, e.g. ``python -c "import base64, os;
    print(base64.b64encode(os.urandom(32)).decode())"``. Unset: a key derived from
    ``secret_key``, for development only. Replace it only by rotation (``id_key_id``)."""
    id_key_id: Annotated[int, Meta(ge=1, le=65535)] = 1
    """The id of ``id_key``, stored with every identifier it seals. A new key takes the next
    id, the key it replaces moves to ``id_key_previous``; then ``respite rotate-id-key``."""
    id_key_previous: Base64Key32 | None = None
    """During a rotation: the key replaced by ``id_key`` (its id is ``id_key_id - 1``),
    still decrypting what it sealed until every identifier is re-encrypted."""
    metrics_token: Annotated[str, Meta(min_length=32)] | None = None
    """The bearer token a Prometheus scraper sends to read ``/metrics`` (an admin's token
    works too). Unset: only admins' tokens read the metrics."""

    staff_recent_stay_days: Annotated[int, Meta(ge=0, le=3650)] = 30
    """Days after a stay's check-out date during which staff of its facility still see the
    elder (by the facility's local date; a checked-in stay shows them however late); 0:
    through the check-out day only."""
    contact_reveal_limit: PositiveInt = 20
    """Emergency contacts one staff member may reveal per ``contact_reveal_window_seconds``."""
    contact_reveal_window_seconds: PositiveInt = 3600

    hold_ttl_seconds: Annotated[int, Meta(ge=30, le=3600)] = 600
    hold_max_extensions: Annotated[int, Meta(ge=0, le=10)] = 2
    hold_max_age_seconds: Annotated[int, Meta(ge=60, le=7200)] = 1800
    hold_cap_family: PositiveInt = 3
    hold_cap_hospital: PositiveInt = 20
    hold_cap_staff: PositiveInt = 50
    """Live holds one principal may keep at once (admins count as staff)."""

    webhook_worker: bool = True
    """Deliver hospitals' callbacks and expire referrals from this process (safe in several)."""
    webhook_allow_loopback_http: bool = False
    """Development only: accept callback URLs to loopback hosts, over http:// too."""
    webhook_timeout: Annotated[float, Meta(gt=0, le=60)] = 10.0
    """Seconds a callback receiver has to answer one attempt."""
    webhook_poll_seconds: Annotated[float, Meta(gt=0, le=60)] = 1.0
    webhook_retry_window_seconds: Annotated[float, Meta(gt=0, le=30 * 86400)] = 26 * 3600
    """How long a failing callback is retried before it is given up (dead)."""
    webhook_backoff_scale: Annotated[float, Meta(gt=0, le=100)] = 1.0
    """Multiplies every retry delay (5 s, 30 s, 2 min ... 4 h, with jitter); tests shrink it."""
    webhook_batch: Annotated[int, Meta(ge=1, le=500)] = 20
    referral_sweep_seconds: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    """How often referrals past their discharge date without a booking are expired."""

    waitlist_worker: bool = True
    """Make the waiting list's offers from this process (safe in several: jobs are leased)."""
    waitlist_offer_hours_family: Annotated[float, Meta(gt=0, le=72)] = 12.0
    """Hours a family has to accept an offer before it lapses and the next entry's turn comes."""
    waitlist_offer_hours_hospital: Annotated[float, Meta(gt=0, le=72)] = 2.0
    """Hours a hospital (or staff) has to accept an offer: a discharge cannot wait long."""
    waitlist_poll_seconds: Annotated[float, Meta(gt=0, le=60)] = 2.0
    """How often the offer worker looks for jobs without being woken (it is woken by
    PostgreSQL's NOTIFY when a transaction that freed nights commits)."""
    waitlist_sweep_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    """How often lapsed offers and holds, and entries whose window passed, are looked for."""
    waitlist_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    """After a failed job (Redis away, say) the first retry waits this long, then doubles."""
    waitlist_entries_per_elder: Annotated[int, Meta(ge=1, le=20)] = 5
    """Live waiting-list entries one elder may have at once."""

    notify_worker: bool = True
    """Send notifications by email and SMS, and write the stays' reminders, from this process
    (safe in several: each delivery is sent by one)."""
    notify_timeout: Annotated[float, Meta(gt=0, le=120)] = 20.0
    """Seconds one email (SMTP) or SMS (the gateway) attempt may take."""
    notify_poll_seconds: Annotated[float, Meta(gt=0, le=60)] = 1.0
    notify_retry_window_seconds: Annotated[float, Meta(gt=0, le=30 * 86400)] = 86400.0
    """How long a failing email or SMS is retried before it is given up (dead)."""
    notify_backoff_scale: Annotated[float, Meta(gt=0, le=100)] = 1.0
    """Multiplies every retry delay (30 s, 2 min, 10 min ... 2 h, with jitter); tests shrink it."""
    notify_batch: Annotated[int, Meta(ge=1, le=500)] = 20
    notify_reminder_seconds: Annotated[float, Meta(gt=0, le=86_400)] = 600.0
    """How often the worker looks for stays to remind of (three days and one day before)."""
    smtp_host: str | None = None
    """The SMTP server email is sent through; unset: no email is sent."""
    smtp_port: Port = 587
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS (and verify the server's certificate)."""
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "respite <no-reply@respite.invalid>"
    """The From of every email: a name and an address of the deployment's mail domain."""
    sms_gateway_url: str | None = None
    """Where SMS are posted (JSON ``{to, text}``, signed); unset: no SMS is sent."""
    sms_gateway_secret: str | None = None
    """The secret the gateway checks the HMAC-SHA256 signature of every SMS with."""
    letterbox_dir: str | None = None
    """Development only: every email (``.eml``) and SMS (``.json``) is written to a file in this
    folder instead of being sent, on either channel; ``respite dev`` uses ``data_dir``'s
    ``letterbox`` when neither channel is configured. Production refuses it."""
    code_minutes: Annotated[int, Meta(ge=1, le=60)] = 10
    """Minutes a one-time code (a new password, sign-in by phone) works."""
    code_tries: Annotated[int, Meta(ge=1, le=20)] = 5
    """Wrong tries that end a one-time code."""
    code_limit_per_login: Annotated[int, Meta(ge=1, le=100)] = 3
    """Codes asked for one email address or number from one client address per
    ``code_window_seconds``."""
    code_limit_login_wide: Annotated[int, Meta(ge=1, le=1000)] = 10
    """Codes asked for one email address or number from every address together per window: a
    stranger asking from one address cannot use up the owner's."""
    code_wrong_per_login_day: Annotated[int, Meta(ge=1, le=1000)] = 20
    """Wrong codes typed for one email address or number in a day, across its codes; past it,
    none is checked until the day's window ends (a guesser's whole budget)."""
    code_limit_per_address: Annotated[int, Meta(ge=1, le=1000)] = 10
    """Codes asked for from one client address per ``code_window_seconds``."""
    code_window_seconds: Annotated[int, Meta(ge=60, le=86_400)] = 900

    retention_idempotency_days: Annotated[int, Meta(ge=1, le=365)] = 2
    """Days an idempotency key and the answer it replays are kept: longer than any client
    retries a request. At least a day, far longer than a request can be in flight."""
    retention_audit_days: RetentionDays = 400
    """Days audit records are kept: a year and a month, so that a year's figures for the civil
    affairs bureau can still be traced to the records behind them once the year has closed."""
    retention_webhook_attempts_days: RetentionDays = 30
    """Days callback attempts are kept; those of a delivery still pending are kept until it
    ends."""
    retention_waitlist_days: RetentionDays = 90
    """Days the waiting list keeps why an entry was passed over, and the jobs done that made
    no offer (those that made one stay with their offer)."""
    retention_tokens_days: RetentionDays = 30
    """Days an expired or revoked token is kept (from its expiry or revocation, the earlier)."""
    retention_notifications_days: RetentionDays = 400
    """Days a notification (the inbox's, with its email and SMS deliveries) is kept after it
    was made; one still being sent is kept until it is sent or given up."""
    purge_seconds: Annotated[float, Meta(gt=0, le=86_400)] = 3600.0
    """How often each process purges what is past its retention (``respite.retention``)."""
    purge_batch: Annotated[int, Meta(ge=1, le=10_000)] = 1000
    """Rows deleted per statement: each batch is its own short transaction."""

    def __post_init__(self) -> None:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("db_pool_min must not exceed db_pool_max")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{ENV_PREFIX}TRUSTED_PROXIES: {entry!r} is not an address or a network"
                ) from None
        if self.phone_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{ENV_PREFIX}PHONE_REGION: {self.phone_region!r} is not a region")
        if self.sms_gateway_url is not None and not self.sms_gateway_secret:
            raise ValueError(
                f"{ENV_PREFIX}SMS_GATEWAY_URL needs {ENV_PREFIX}SMS_GATEWAY_SECRET: every SMS is"
                " signed"
            )
        if "@" not in email.utils.parseaddr(self.mail_from)[1]:
            raise ValueError(f"{ENV_PREFIX}MAIL_FROM: {self.mail_from!r} has no email address")
        self._check_id_keys()

    @property
    def sends_email(self) -> bool:
        """Email goes out: through an SMTP server, or into the development letterbox."""
        return self.smtp_host is not None or self.letterbox_dir is not None

    @property
    def sends_sms(self) -> bool:
        """SMS go out: through the gateway, or into the development letterbox."""
        return self.sms_gateway_url is not None or self.letterbox_dir is not None

    def _check_id_keys(self) -> None:
        if self.id_key_previous is None:
            return
        if self.id_key is None:
            raise ValueError(f"{ENV_PREFIX}ID_KEY_PREVIOUS needs {ENV_PREFIX}ID_KEY, the new key")
        if self.id_key_previous == self.id_key:
            raise ValueError(f"{ENV_PREFIX}ID_KEY_PREVIOUS is the same key as {ENV_PREFIX}ID_KEY")
        if self.id_key_id < 2:
            raise ValueError(
                f"{ENV_PREFIX}ID_KEY_ID: a new key takes the id after its previous key's (2 or"
                " more)"
            )


class SettingsError(Exception):
    """A ``RESPITE_*`` variable holds a value the service cannot run with."""


_AT_PATH = re.compile(r" - at `\$\.(\w+)`")


# Fields holding several values, written in one variable separated by commas.
_LISTS = frozenset(
    f.name for f in msgspec.structs.fields(Settings) if typing.get_origin(f.type) is tuple
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    fields = set(Settings.__struct_fields__)
    raw: dict[str, str | list[str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        field = name[len(ENV_PREFIX) :].lower()
        if field in _LISTS:
            raw[field] = [part.strip() for part in value.split(",") if part.strip()]
        elif field in fields:
            raw[field] = value
    try:
        # strict=False: environment variables are strings, "8000" must become 8000.
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def production_refusal(settings: Settings) -> str | None:
    """Why ``settings`` (as configured, before any private server is pointed at) may not serve
    production, in one line naming the variables to set; None when they may."""
    if settings.environment is not None:
        production = settings.environment == "production"
        why = f"{ENV_PREFIX}ENVIRONMENT is production"
    else:
        production = settings.database_url is not None or settings.redis_url is not None
        why = f"{ENV_PREFIX}DATABASE_URL or {ENV_PREFIX}REDIS_URL is set"
    if not production:
        return None
    if settings.letterbox_dir is not None:
        return (
            f"production ({why}) sends email and SMS: {ENV_PREFIX}LETTERBOX_DIR keeps them in"
            " files, for development only; unset it"
        )
    missing = []
    if settings.secret_key == DEV_SECRET_KEY or len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        missing.append(f"{ENV_PREFIX}SECRET_KEY (at least {MIN_SECRET_KEY_LENGTH} characters)")
    if settings.id_key is None:
        missing.append(f"{ENV_PREFIX}ID_KEY (32 random bytes, standard base64)")
    if not missing:
        return None
    return (
        f"production ({why}) needs {' and '.join(missing)}: the defaults are public; a test"
        f" instance on servers of its own may set {ENV_PREFIX}ENVIRONMENT=development"
    )


def _explain(message: str) -> str:
    match = _AT_PATH.search(message)
    if match is None:
        # A cross-field rule may name its variable itself.
        return message if message.startswith(ENV_PREFIX) else f"invalid settings: {message}"
    variable = ENV_PREFIX + match.group(1).upper()
    return f"{variable}: {message[: match.start()]}"
