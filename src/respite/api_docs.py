"""The API documentation page, served with everything it loads.

Swagger UI's script, style sheet and icon come from the ``swagger-ui-bundle-v2`` package,
installed with respite, and are served under ``/schema/assets/``: nothing is fetched from a
CDN (unreachable from many networks, blocked in mainland China). ReDoc is not offered: no
package ships its standalone bundle without a web framework of its own to pull in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.file_system import BaseLocalFileSystem
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import PathType
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS", "ASSETS_PATH", "assets_router", "swagger_ui"]

ASSETS_PATH: Final = "/schema/assets"
ASSETS: Final = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "favicon-32x32.png",
    }
)
"""What the page loads. The distribution holds more, among it a demo page that loads its
example API from the internet: those are not served."""
_DIST: Final = Path(swagger_ui_path)


class _OnlyTheAssets(BaseLocalFileSystem):
    async def info(self, path: PathType, **kwargs: Any) -> Any:
        if Path(path).name not in ASSETS:
            raise FileNotFoundError(path)
        return await super().info(path, **kwargs)


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[_DIST],
        file_system=_OnlyTheAssets(),
        name="api-docs-assets",
        # The URLs do not change with the files: cache for a day, not for ever.
        cache_control=CacheControlHeader(max_age=86400, public=True),
    )


def swagger_ui() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f'<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">',
    )
