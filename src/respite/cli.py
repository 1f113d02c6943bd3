"""``respite`` on the command line: serve, dev, migrate, seed, token, staff, import-beds,
places, rotate-id-key.

Every command that needs PostgreSQL and Redis uses ``RESPITE_DATABASE_URL`` and
``RESPITE_REDIS_URL`` when they are set; otherwise the servers of the ``respite dev`` running
on ``RESPITE_DATA_DIR`` (``dev.attach``), never started or stopped a second time; otherwise
private servers under that folder for as long as the command runs (DESIGN.md §7). Only ``serve``,
``dev``, ``migrate`` and ``seed`` make a database where the folder has none: a token or an
import into a new, empty database that no server uses would be lost. ``serve`` in production
refuses to start on the public development secrets (``settings.production_refusal``).

``serve`` and ``dev`` log every line they write on stderr as JSON (``RESPITE_LOG_FORMAT``),
their refusals to start included; the other commands write plain sentences for a person.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import uvicorn

from respite import __version__
from respite.app import create_app
from respite.auth.model import ROLES, STAFF_ROLES, TokenInfo
from respite.auth.service import create_principal, issue_token, list_tokens, revoke_token_id
from respite.clock import SystemClock, local_today
from respite.crypto import cipher_for
from respite.db import MigrationError, connect, migrate
from respite.deps import Deps
from respite.dev.attach import NoDatabaseError, has_database, recorded, running
from respite.dev.servers import MissingBinaryError, ServerStartError, local_servers
from respite.eligibility.model import DEFAULT_TIMEZONE
from respite.eligibility.store import ensure_presets
from respite.errors import InvalidInputError
from respite.id_keys import DEFAULT_BATCH, IdentifierKeyError, Rotated, check_keys, rotate
from respite.observability import capture_stray_output, configure_logging
from respite.recipients.phones import backfill_phone_hashes
from respite.settings import Settings, SettingsError, load_settings, production_refusal

__all__ = ["main"]

log = logging.getLogger("respite.cli")


def _pointed(settings: Settings, database_url: str, redis_url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=settings.database_url or database_url,
        redis_url=settings.redis_url or redis_url,
    )


@contextlib.contextmanager
def backends(
    settings: Settings, *, create: bool = False, record: bool = False
) -> Iterator[Settings]:
    """Settings whose URLs point at live servers: the configured ones, those of the running
    ``respite dev``, or private ones. ``create``: a new database may be made where the data
    folder has none; ``record``: the servers started are recorded for other commands."""
    if settings.database_url and settings.redis_url:
        yield settings
        return
    data_dir = Path(settings.data_dir).resolve()
    if (found := running(data_dir)) is not None:
        yield _pointed(settings, found.database_url, found.redis_url)
        return
    if settings.database_url is None and not has_database(data_dir):
        if not create:
            raise NoDatabaseError(
                f"no respite database under {data_dir}: run this where `respite dev` (ops/run)"
                " keeps its data, or set RESPITE_DATA_DIR to that folder (or"
                " RESPITE_DATABASE_URL and RESPITE_REDIS_URL)"
            )
        log.info("no database under %s yet: making one", data_dir)
    with (
        local_servers(data_dir) as (postgres, redis),
        recorded(data_dir, postgres, redis) if record else contextlib.nullcontext(),
    ):
        yield _pointed(settings, postgres.url, redis.url)


async def _migrate(settings: Settings) -> list[int]:
    assert settings.database_url is not None
    conn = await connect(settings.database_url)
    try:
        applied = await migrate(conn)
        await ensure_presets(conn)
        # Numbers stored before their search hash existed (sql/0015); nothing once done.
        await backfill_phone_hashes(conn, settings, cipher_for(settings))
        return applied
    finally:
        await conn.close()


async def _check_keys(settings: Settings) -> None:
    """Before serving: the identifier keys are the ones the database knows (``id_keys``).
    Not the development key: derived from a public default, it protects nothing, and a
    development database may hold values an earlier derivation sealed (nothing shows them)."""
    if settings.id_key is None:
        return
    assert settings.database_url is not None
    conn = await connect(settings.database_url)
    try:
        await check_keys(conn, cipher_for(settings))
    finally:
        await conn.close()


def _serve(settings: Settings) -> None:
    app = create_app(settings)
    print(f"respite serving on http://{settings.host}:{settings.port}  (API docs: /schema)")
    log.info("respite %s serving", __version__, extra={"version": __version__})
    # What start-up built (modules, routes, the catalog) lives as long as the process: frozen,
    # an oldest-generation collection no longer walks its ~100,000 objects in the middle of a
    # request (measured on the shared 2-core machine: a full collection from ~170 ms to
    # under 1 ms; in the availability benchmark's app the longest pause from 286 to 27 ms).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # respite.access logs every answer, with its request id
        timeout_graceful_shutdown=10,
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    # Judged on the settings as given: the private servers below are development.
    if (refusal := production_refusal(settings)) is not None:
        raise SettingsError(refusal)
    with backends(settings, create=True, record=True) as live:
        asyncio.run(_migrate(live))
        asyncio.run(_check_keys(live))
        _serve(live)


def _seed(settings: Settings) -> None:
    from respite.dev.demo import seed

    assert settings.database_url is not None
    # The demo city is in Shanghai, the schema's default timezone of a facility.
    asyncio.run(seed(settings.database_url, local_today(DEFAULT_TIMEZONE, SystemClock().now())))


def _letterbox(settings: Settings) -> Settings:
    """Development without a mail server or an SMS gateway: both go to files to read."""
    if settings.letterbox_dir is not None or settings.smtp_host or settings.sms_gateway_url:
        return settings
    folder = str(Path(settings.data_dir) / "letterbox")
    print(f"email and SMS are written to {folder}/ (RESPITE_LETTERBOX_DIR), not sent")
    return msgspec.structs.replace(settings, letterbox_dir=folder)


def cmd_dev(settings: Settings, args: argparse.Namespace) -> None:
    settings = _letterbox(settings)
    with backends(settings, create=True, record=True) as live:
        asyncio.run(_migrate(live))
        asyncio.run(_check_keys(live))
        _seed(live)
        _serve(live)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with backends(settings, create=True) as live:
        applied = asyncio.run(_migrate(live))
    print(f"applied {len(applied)} migration(s)" if applied else "the schema is up to date")


def cmd_seed(settings: Settings, args: argparse.Namespace) -> None:
    with backends(settings, create=True) as live:
        asyncio.run(_migrate(live))
        _seed(live)


async def _create_token(dsn: str, args: argparse.Namespace) -> str:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            principal = await create_principal(
                conn,
                args.role,
                args.name or args.role,
                facility_id=args.facility,
                hospital_id=args.hospital,
                staff_role=args.staff_role,
            )
            # The CLI's own clock: a token minted by an operator expires in real days.
            expires = SystemClock().now() + timedelta(days=args.days) if args.days else None
            issued = await issue_token(conn, principal, expires, args.label)
    finally:
        await conn.close()
    return issued.token


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> None:
    with backends(settings) as live:
        assert live.database_url is not None
        asyncio.run(_migrate(live))
        token = asyncio.run(_create_token(live.database_url, args))
    print(token)


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Exits 1 when nothing was revoked: a script must not take a typo for a revocation."""

    async def run(dsn: str) -> bool:
        conn = await connect(dsn)
        try:
            async with conn.transaction():
                return await revoke_token_id(conn, args.id)
        finally:
            await conn.close()

    with backends(settings) as live:
        assert live.database_url is not None
        revoked = asyncio.run(run(live.database_url))
    if not revoked:
        print(f"respite: no live token with id {args.id}", file=sys.stderr)
        return 1
    print("revoked")
    return 0


def _token_line(token: TokenInfo, now: datetime) -> str:
    if token.revoked_at is not None:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        state = "expired"
    else:
        state = "live"
    tenant = "-"
    if token.facility_id is not None:
        tenant = f"facility {token.facility_id}"
    elif token.hospital_id is not None:
        tenant = f"hospital {token.hospital_id}"
    expires = token.expires_at.strftime("%Y-%m-%d %H:%M") if token.expires_at else "never"
    columns = (token.id, token.role, tenant, expires, state, token.name, token.label or "-")
    return "{:>6}  {:<8}  {:<13}  {:<16}  {:<7}  {}  ({})".format(*columns)


def cmd_token_list(settings: Settings, args: argparse.Namespace) -> None:
    """Every token by id, with whom and what it is for and whether it still works; never the
    token itself (only its hash is kept)."""

    async def run(dsn: str) -> list[TokenInfo]:
        conn = await connect(dsn)
        try:
            return await list_tokens(conn)
        finally:
            await conn.close()

    with backends(settings) as live:
        assert live.database_url is not None
        tokens = asyncio.run(run(live.database_url))
    # The CLI's own clock: what an operator asks about is expiry in real time.
    now = SystemClock().now()
    print("{:>6}  {:<8}  {:<13}  {:<16}  {:<7}  {}".format(*_TOKEN_COLUMNS))
    for token in tokens:
        print(_token_line(token, now))


_TOKEN_COLUMNS = ("id", "role", "for", "expires (UTC)", "state", "name (label)")


@contextlib.asynccontextmanager
async def _deps(live: Settings) -> AsyncIterator[Deps]:
    """What a use case run from the command line takes, on the live servers."""
    from respite.cache import redis_lifespan
    from respite.db import pool_lifespan
    from respite.holds.store import HoldStore

    assert live.database_url is not None and live.redis_url is not None
    async with (
        pool_lifespan(live, live.database_url) as pool,
        redis_lifespan(live, live.redis_url) as redis,
    ):
        yield Deps(
            pool=pool, redis=redis, holds=HoldStore(redis), clock=SystemClock(), settings=live
        )


def cmd_staff_invite(settings: Settings, args: argparse.Namespace) -> int:
    """Invite someone to a facility's team (its first manager, usually) and print the link to
    pass on: the service sends nothing, and only the token's hash is kept, so the link is
    printed once. It expires after 7 days and is used once (``auth.staff``)."""
    from respite.auth.staff import InvitationCreation, invite_staff
    from respite.auth.staff_model import InvitationIssued, NewInvitation
    from respite.errors import RespiteError
    from respite.i18n import render

    new = NewInvitation(login=args.login, staff_role=args.role)

    async def run(live: Settings) -> InvitationIssued:
        async with _deps(live) as deps:
            creation = InvitationCreation(facility_id=args.facility, invitation=new)
            return await invite_staff(deps, None, creation)

    try:
        with backends(settings) as live:
            asyncio.run(_migrate(live))
            issued = asyncio.run(run(live))
    except RespiteError as exc:
        print(f"respite: {render(exc.detail, 'en')}", file=sys.stderr)
        return 2
    site = (args.site or f"http://{settings.host}:{settings.port}").rstrip("/")
    expires = issued.invitation.expires_at.strftime("%Y-%m-%d %H:%M")
    role = issued.invitation.staff_role.replace("_", " ")
    print(f"invited a {role} to facility {args.facility}; the link works once, until {expires} UTC")
    print(f"{site}{issued.path}")
    return 0


def cmd_import_beds(settings: Settings, args: argparse.Namespace) -> None:
    """Import a CSV file or an Excel workbook of beds into one facility: all rows or none
    (see inventory.importing); the file's first bytes say which it is."""
    from respite.errors import RespiteError
    from respite.inventory.bed_files import file_format
    from respite.inventory.commands import BedImport
    from respite.inventory.errors import ImportRejectedError, RowError
    from respite.inventory.importing import ImportResult, import_beds

    async def run(live: Settings, data: bytes) -> ImportResult:
        async with _deps(live) as deps:
            kind = file_format(data)
            if not isinstance(kind, str):  # an old .xls: refused like a bad file
                raise ImportRejectedError([RowError(line=1, column=None, message=kind)])
            file = BedImport(facility_id=args.facility, data=data, format=kind)
            return await import_beds(deps, None, file)

    try:
        data = Path(args.file).read_bytes()
        with backends(settings) as live:
            asyncio.run(_migrate(live))
            result = asyncio.run(run(live, data))
    except ImportRejectedError as exc:
        for error in exc.errors:
            column = f", column {error.column}" if error.column else ""
            print(f"{args.file}: line {error.line}{column}: {error.message}", file=sys.stderr)
        print(f"respite: nothing was imported ({len(exc.errors)} problem(s))", file=sys.stderr)
        raise SystemExit(2) from None
    except (OSError, RespiteError) as exc:
        print(f"respite: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"imported {result.rows} row(s) into facility {args.facility}: {result.created} created, "
        f"{result.updated} updated, {result.unchanged} unchanged"
    )


def cmd_places_import(settings: Settings, args: argparse.Namespace) -> None:
    """Replace the gazetteer by a JSON file of places: all or none (see places.model)."""
    from respite.i18n import render
    from respite.places.errors import GazetteerRejectedError
    from respite.places.service import PlacesImported, import_places

    async def run(live: Settings, data: bytes) -> PlacesImported:
        async with _deps(live) as deps:
            return await import_places(deps, None, data)

    try:
        data = Path(args.file).read_bytes()
        with backends(settings) as live:
            asyncio.run(_migrate(live))
            result = asyncio.run(run(live, data))
    except GazetteerRejectedError as exc:
        for problem in exc.problems:
            where = "" if problem.entry is None else f" place {problem.entry}"
            where += "" if problem.id is None else f" (id {problem.id})"
            print(f"{args.file}:{where} {render(problem.message, 'en')}", file=sys.stderr)
        print(f"respite: nothing was imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:
        print(f"respite: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    counts = ", ".join(f"{n} {kind}(s)" for kind, n in result.counts.items())
    print(f"imported the gazetteer: {counts} ({settings.coordinate_system})")


def cmd_rotate_id_key(settings: Settings, args: argparse.Namespace) -> None:
    """Re-encrypt every stored identifier under RESPITE_ID_KEY (id RESPITE_ID_KEY_ID), reading
    what the replaced key sealed with RESPITE_ID_KEY_PREVIOUS. Restart the services with both
    keys first: they then read old and new values alike while this runs. Safe to run again."""
    if settings.id_key is None:
        raise SettingsError(
            "RESPITE_ID_KEY is not set: rotate-id-key re-encrypts under it (id RESPITE_ID_KEY_ID),"
            " reading the key it replaces from RESPITE_ID_KEY_PREVIOUS"
        )

    async def run(dsn: str) -> list[Rotated]:
        conn = await connect(dsn)
        try:
            return await rotate(conn, cipher_for(settings), batch=args.batch)
        finally:
            await conn.close()

    with backends(settings) as live:
        assert live.database_url is not None
        asyncio.run(_migrate(live))
        done = asyncio.run(run(live.database_url))
    for rotated in done:
        column = rotated.column
        print(f"{column.table}.{column.name}: {rotated.rows} re-encrypted")
    print(f"every stored identifier is under key {settings.id_key_id}")


def _batch(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("between 1 and 10000")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="respite", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--version", action="version", version=f"respite {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="migrate, then serve the API").set_defaults(run=cmd_serve)
    commands.add_parser("dev", help="migrate, load demo data, then serve").set_defaults(run=cmd_dev)
    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=cmd_migrate)
    commands.add_parser("seed", help="load the demo city (idempotent)").set_defaults(run=cmd_seed)
    token = commands.add_parser("token", help="mint or revoke API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="create a principal and print its token once")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--facility", type=int, help="facility id (staff)")
    create.add_argument(
        "--staff-role", choices=STAFF_ROLES, default="manager", help="staff: the role inside"
    )
    create.add_argument("--hospital", type=int, help="hospital id (hospital)")
    create.add_argument("--name", default="", help="who the token is for")
    create.add_argument("--label", default="", help="what the token is for, e.g. 'HIS production'")
    create.add_argument(
        "--days", type=int, default=0, help="expire after this many days (0: never)"
    )
    create.set_defaults(run=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke a token by its id (exits 1 if none was)")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=cmd_token_revoke)
    token.add_parser(
        "list", help="list tokens: id, role, expiry, revoked or not (never the token)"
    ).set_defaults(run=cmd_token_list)
    staff = commands.add_parser("staff", help="a facility's staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    invite = staff.add_parser(
        "invite",
        help="invite a facility's manager (or front desk) and print the link once",
        description=cmd_staff_invite.__doc__,
    )
    invite.add_argument("--facility", type=int, required=True, help="facility id")
    invite.add_argument("--login", required=True, help="their email address or phone number")
    invite.add_argument("--role", choices=STAFF_ROLES, default="manager", help="default: manager")
    invite.add_argument(
        "--site", default="", help="where respite is served, e.g. https://respite.example.cn"
    )
    invite.set_defaults(run=cmd_staff_invite)
    beds = commands.add_parser(
        "import-beds", help="create or update a facility's beds from CSV or an Excel workbook"
    )
    beds.add_argument(
        "file",
        help="CSV (UTF-8 or GBK) or .xlsx: label,kind,sex_rule,nightly_price[,...]",
    )
    beds.add_argument("--facility", type=int, required=True, help="facility id")
    beds.set_defaults(run=cmd_import_beds)
    places = commands.add_parser("places", help="the gazetteer of districts and streets")
    places_import = places.add_subparsers(dest="places_command", required=True).add_parser(
        "import", help="replace the gazetteer by a JSON file (all places or none)"
    )
    places_import.add_argument("file", help="UTF-8 JSON: coordinate_system and places")
    places_import.set_defaults(run=cmd_places_import)
    rotation = commands.add_parser(
        "rotate-id-key",
        help="re-encrypt stored identifiers under RESPITE_ID_KEY (idempotent)",
        description=cmd_rotate_id_key.__doc__,
    )
    rotation.add_argument(
        "--batch", type=_batch, default=DEFAULT_BATCH, help="rows per transaction"
    )
    rotation.set_defaults(run=cmd_rotate_id_key)
    return parser


SERVING = (cmd_serve, cmd_dev)


def _configure_logs(args: argparse.Namespace, settings: Settings) -> None:
    """What the command writes on stderr goes through ``log``: JSON lines (or the text format)
    from the serving commands, a plain ``respite: ...`` sentence from the others."""
    if args.run in SERVING:
        configure_logging(settings.log_level, settings.log_format)
        capture_stray_output()
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("respite: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        _configure_logs(args, Settings())
        log.error("%s", exc)
        return 2
    _configure_logs(args, settings)
    try:
        code: int | None = args.run(settings, args)
    except (
        SettingsError,
        MissingBinaryError,
        ServerStartError,
        MigrationError,
        NoDatabaseError,
        IdentifierKeyError,
    ) as exc:
        log.error("%s", exc)
        return 2
    except OSError as exc:  # the servers went away under us, or refused us
        log.error("cannot reach the servers: %s", exc)
        return 2
    except InvalidInputError as exc:
        log.error("%s", exc.detail)
        return 2
    except KeyboardInterrupt:
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
