"""The family pages in a real browser: what a first load transfers, and Largest Contentful
Paint on a slow phone over a weak link. ``pages.py`` runs these; nothing here starts servers.

Debian's Chromium (``/usr/bin/chromium``, or ``RESPITE_CHROMIUM``) driven by Playwright for
Python through the DevTools protocol (CDP), never a downloaded browser. Each load is in a
fresh browser context (cold cache, no cookies) at 390 x 844 CSS pixels, device scale 2, as a
cheap phone.

- ``weigh``: every request of a first load with the URL, its origin, status, what the browser
  asked for (``Accept-Encoding``), what the server sent (``Content-Encoding``,
  ``Content-Length``) and the bytes on the wire (``Network.loadingFinished``'s
  ``encodedDataLength``: the response's headers and its body as sent).
- ``paint``: the same load with the CPU slowed 4 times (``Emulation.setCPUThrottlingRate``)
  and the link at 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency
  (``Network.emulateNetworkConditions``, Lighthouse's "slow 4G"); after ``load``, a
  ``PerformanceObserver`` of ``largest-contentful-paint`` with ``buffered: true`` gives the
  last candidate, with navigation timing beside it. Chromium's emulation delays a response's
  body, not its headers: the document's ``responseEnd`` (not ``responseStart``) shows the
  150 ms. ``floor_server`` serves one bare paragraph for the same measurement: the machine's
  and browser's share of every figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = ["CHROMIUM", "FLAGS", "Browser", "floor_server", "missing"]

# Where ops/setup installs it (as the browser tests find it: RESPITE_CHROMIUM, if set).
CHROMIUM: Final = os.environ.get("RESPITE_CHROMIUM", "/usr/bin/chromium")
FLAGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: Final = {"width": 390, "height": 844}
SCALE: Final = 2
CPU_SLOWDOWN: Final = 4
# Lighthouse's "slow 4G": 1.6 Mbit/s down, 750 kbit/s up, 150 ms; CDP takes bytes per second.
LINK: Final = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
    "connectionType": "cellular4g",
}
SETTLE_MS: Final = 500  # after load, for requests a page makes late (the favicon)

LCP_SCRIPT: Final = """
() => new Promise((resolve) => {
  let last = null;
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    last = entries[entries.length - 1];
  }).observe({ type: "largest-contentful-paint", buffered: true });
  setTimeout(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    const el = last && last.element;
    resolve({
      lcp_ms: last ? last.startTime : null,
      element: el ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "")
        : null,
      size_px: last ? last.size : null,
      fcp_ms: fcp ? fcp.startTime : null,
      ttfb_ms: nav.responseStart,
      response_end_ms: nav.responseEnd,
      dom_content_loaded_ms: nav.domContentLoadedEventEnd,
      load_ms: nav.loadEventEnd,
    });
  }, 300);
})
"""


FLOOR_HTML: Final = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>喘息床位</title><p>查找喘息床位 Find a respite bed</p>"
).encode()


@contextlib.asynccontextmanager
async def floor_server() -> AsyncIterator[str]:
    """A bare server of one paragraph (no style sheet, no script) on a free port, in this
    process: its LCP under the same emulation is what this machine and browser cost before
    any page of the app is drawn."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        found = head.startswith(b"GET / ")
        body = FLOOR_HTML if found else b""
        status = "200 OK" if found else "404 Not Found"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


def missing() -> str | None:
    """What to install for the browser parts, or None when all is there."""
    needs = []
    if not Path(CHROMIUM).exists():
        needs.append(
            f"a Chromium at {CHROMIUM} (ops/setup installs Debian's as root, or "
            "apt-get install -y chromium fonts-wqy-microhei)"
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        needs.append("Playwright for Python (a dev dependency: ops/setup installs it)")
    return "; ".join(needs) or None


class Browser:
    """One Chromium for the run; a fresh context (cold cache, no cookies) per load."""

    def __init__(self, base: str, language: str) -> None:
        self.base = base
        self.origin = _origin(base)
        self.language = language
        self._playwright: Any = None
        self._browser: Any = None

    async def __aenter__(self) -> Browser:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._browser.close()
        await self._playwright.stop()

    def version(self) -> str:
        return str(self._browser.version)

    async def weigh(self, path: str) -> dict[str, Any]:
        """Every request of a first load of ``path`` and what each cost on the wire."""
        load = await self._load(path, slow=False)
        requests = load["requests"]
        wire = sum(r["encoded_bytes"] or 0 for r in requests)
        body = sum(r["body_bytes"] or 0 for r in requests)
        # data: and blob: URLs are the page's own bytes, not requests to another origin.
        foreign = {r["origin"] for r in requests} - {self.origin, "data:", "blob:"}
        return {
            "path": path,
            "status": load["status"],
            "requests": requests,
            "count": len(requests),
            "wire_bytes": wire,
            "body_bytes": body,
            "origins": sorted({r["origin"] for r in requests}),
            "foreign_origins": sorted(foreign),
            "failed": [r["url"] for r in requests if r["failed"]],
            "lcp_unslowed_ms": load["timing"]["lcp_ms"],
        }

    async def paint(self, path: str, runs: int, base: str | None = None) -> dict[str, Any]:
        """Largest Contentful Paint of ``path`` (on ``base``, the app by default), slowed,
        over ``runs`` cold loads."""
        found = [await self._load(path, slow=True, base=base) for _ in range(runs)]
        timings = [f["timing"] for f in found]
        lcps = [t["lcp_ms"] for t in timings if t["lcp_ms"] is not None]
        return {
            "path": path,
            "status": found[0]["status"],
            "runs": timings,
            "lcp_median_ms": round(statistics.median(lcps), 1) if lcps else None,
            "lcp_max_ms": round(max(lcps), 1) if lcps else None,
            "lcp_missing": len(timings) - len(lcps),
            "element": timings[-1]["element"],
            "ttfb_median_ms": round(statistics.median(t["ttfb_ms"] for t in timings), 1),
            "response_end_median_ms": round(
                statistics.median(t["response_end_ms"] for t in timings), 1
            ),
            "wire_bytes": sum(r["encoded_bytes"] or 0 for r in found[0]["requests"]),
        }

    async def _load(self, path: str, *, slow: bool, base: str | None = None) -> dict[str, Any]:
        context = await self._browser.new_context(
            viewport=VIEWPORT,
            device_scale_factor=SCALE,
            is_mobile=True,
            has_touch=True,
            locale=self.language,
            extra_http_headers={"Accept-Language": self.language},
        )
        try:
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            seen: dict[str, dict[str, Any]] = {}
            _listen(cdp, seen)
            await cdp.send("Network.enable")
            if slow:
                await cdp.send("Network.emulateNetworkConditions", LINK)
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            url = (base or self.base) + path
            answer = await page.goto(url, wait_until="load", timeout=60_000)
            timing = await page.evaluate(LCP_SCRIPT)
            await page.wait_for_timeout(SETTLE_MS)
            requests = [_request(r) for r in seen.values() if r.get("url")]
            return {
                "status": answer.status if answer else None,
                "timing": _rounded(timing),
                "requests": requests,
            }
        finally:
            await context.close()


def _listen(cdp: Any, seen: dict[str, dict[str, Any]]) -> None:
    def entry(event: dict[str, Any]) -> dict[str, Any]:
        return seen.setdefault(event["requestId"], {"failed": False})

    def sent(event: dict[str, Any]) -> None:
        entry(event)["url"] = event["request"]["url"]

    def sent_headers(event: dict[str, Any]) -> None:
        entry(event)["request_headers"] = _lower(event.get("headers", {}))

    def received(event: dict[str, Any]) -> None:
        response = event["response"]
        e = entry(event)
        e["status"] = response["status"]
        e["mime"] = response.get("mimeType")
        e["response_headers"] = _lower(response.get("headers", {}))
        e.setdefault("request_headers", _lower(response.get("requestHeaders") or {}))

    def finished(event: dict[str, Any]) -> None:
        entry(event)["encoded_bytes"] = int(event["encodedDataLength"])

    def failed(event: dict[str, Any]) -> None:
        entry(event)["failed"] = True

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.requestWillBeSentExtraInfo", sent_headers)
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.loadingFailed", failed)


def _request(raw: dict[str, Any]) -> dict[str, Any]:
    response = raw.get("response_headers", {})
    length = response.get("content-length")
    return {
        "url": raw["url"],
        "origin": _origin(raw["url"]),
        "status": raw.get("status"),
        "mime": raw.get("mime"),
        "accept_encoding": raw.get("request_headers", {}).get("accept-encoding"),
        "content_encoding": response.get("content-encoding"),
        "body_bytes": int(length) if length and length.isdigit() else None,
        "encoded_bytes": raw.get("encoded_bytes"),
        "failed": raw["failed"],
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else parts.scheme + ":"


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _rounded(timing: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in timing.items()}
