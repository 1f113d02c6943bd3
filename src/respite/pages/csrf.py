"""The pages' CSRF check: Litestar's, with the cookie a first visit gets written faster.

Litestar's ``CSRFMiddleware`` gives a request without the cookie (a first visit: every page
someone opens from a link) a new token and sets it as a cookie; it builds that cookie's
``Set-Cookie`` through ``http.cookies`` each time, which costs a page more than minting the
token. Here the header is built that way once, around a placeholder, and each new token is
put in its place: the same header, byte for byte. Checking a form's token is Litestar's own.
"""

from __future__ import annotations

from typing import Final

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, HTTPSendMessage

__all__ = ["PageCSRFMiddleware"]

_TOKEN: Final = "CSRFTOKEN"


class PageCSRFMiddleware(CSRFMiddleware):
    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        header = Cookie(
            key=config.cookie_name,
            value=_TOKEN,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        ).to_header(header="")
        before, after = header.encode("latin-1").split(_TOKEN.encode())
        self._cookie: Final = (before, after)

    def _set_cookie_if_needed(self, message: HTTPSendMessage, token: str) -> None:
        # A token is hex (64 random digits and their HMAC's): nothing to quote.
        before, after = self._cookie
        headers = MutableScopeHeaders.from_message(message).headers
        headers.append((b"set-cookie", before + token.encode("latin-1") + after))
