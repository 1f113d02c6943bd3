"""Nothing from outside at run time: the API documentation loads every file from the app
itself; and ``/metrics`` answers only the metrics token or an admin's token."""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest
from litestar import Litestar

from respite.app import create_app
from respite.clock import ManualClock
from respite.settings import Settings, SettingsError, load_settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop

SRC = Path(__file__).resolve().parents[2] / "src"
# Where such pages usually load their files from; none may be named in the code.
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "unpkg.com",
    "cdn.redoc.ly",
    "cdnjs.cloudflare.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "cdn.bootcdn.net",
    "esm.sh",
)


class _Links(HTMLParser):
    """Every URL the page makes the browser load: scripts, style sheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


async def test_the_swagger_page_loads_every_file_from_the_app(
    shared_client: httpx.AsyncClient,
) -> None:
    page = await shared_client.get("/schema/swagger")
    assert page.status_code == 200
    links = _Links()
    links.feed(page.text)
    assert len(links.urls) >= 3  # the script, the preset, the style sheet (and the icon)
    for url in links.urls:
        assert _same_origin(url), url
        asset = await shared_client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0
    assert not re.search(r"https?://", " ".join(links.urls))
    # The default page is the same, and the OpenAPI document is still served.
    assert (await shared_client.get("/schema")).status_code == 200
    assert (await shared_client.get("/schema/openapi.json")).status_code == 200


async def test_only_the_files_the_page_loads_are_served(shared_client: httpx.AsyncClient) -> None:
    """Swagger UI's distribution holds a demo page that loads its example from the internet."""
    for path in ("index.html", "swagger-initializer.js", "../swagger_ui_bundle/__init__.py"):
        assert (await shared_client.get(f"/schema/assets/{path}")).status_code == 404, path
    # ReDoc needs a bundle no installable package ships on its own: it is not offered.
    assert (await shared_client.get("/schema/redoc")).status_code == 404


def test_no_cdn_is_named_in_the_code() -> None:
    named = [
        f"{path.relative_to(SRC)}: {host}"
        for path in SRC.rglob("*.py")
        for host in CDN_HOSTS
        if host in path.read_text(encoding="utf-8")
    ]
    assert named == []


@pytest.fixture
def metrics_token() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def app(settings: Settings, clock: ManualClock, metrics_token: str) -> Litestar:
    with_token = msgspec.structs.replace(settings, metrics_token=metrics_token)
    return create_app(with_token, clock=clock, configure_logs=False)


async def test_metrics_need_the_metrics_token_or_an_admins(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, metrics_token: str
) -> None:
    refused = await client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("/unauthenticated")
    for wrong in ("Bearer " + secrets.token_urlsafe(32), "Basic eDp5", "Bearer "):
        assert (await client.get("/metrics", headers={"Authorization": wrong})).status_code == 401
    _, staff = await make_token("staff", facility_id=await builders.facility(db))
    assert (await client.get("/metrics", headers=staff)).status_code == 403

    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert scraped.status_code == 200
    assert "respite_db_pool_max" in scraped.text
    _, admin = await make_token("admin")
    assert (await client.get("/metrics", headers=admin)).status_code == 200


async def test_without_a_metrics_token_only_admins_read_the_metrics(
    settings: Settings, clock: ManualClock, make_token: MakeToken
) -> None:
    app = create_app(settings, clock=clock, configure_logs=False)
    async with serve_in_loop(app) as client:
        assert (await client.get("/metrics")).status_code == 401
        _, admin = await make_token("admin")
        assert (await client.get("/metrics", headers=admin)).status_code == 200


def test_a_metrics_token_is_long_enough_to_be_a_secret() -> None:
    token = secrets.token_urlsafe(32)
    assert load_settings({"RESPITE_METRICS_TOKEN": token}).metrics_token == token
    assert load_settings({}).metrics_token is None
    with pytest.raises(SettingsError, match=r"^RESPITE_METRICS_TOKEN: "):
        load_settings({"RESPITE_METRICS_TOKEN": "metrics"})
