"""The figures of ``pages.py`` in words: printed after the run, and as a section of
``REPORT.md`` (``report.py``), each against the issue's target."""

from __future__ import annotations

import json
import math
from typing import Any, Final
from urllib.parse import unquote

__all__ = ["LCP_TARGET_MS", "NOT_THERE", "RATIO_TARGET", "WEIGHT_TARGET", "describe"]
__all__ += ["markdown", "verdicts"]

RATIO_TARGET: Final = 1.3
WEIGHT_TARGET: Final = 50_000  # bytes on the wire, headers included
LCP_TARGET_MS: Final = 1000.0
NOT_THERE: Final = "the results page is not there yet (GET /search answers 404)"


def describe(result: dict[str, Any]) -> None:
    """Print the figures, each against the issue's target."""
    print(f"  data: {json.dumps({k: round(v, 3) for k, v in result['data'].items()})}")
    print(
        f"  gazetteer: {result['gazetteer_places']} places, {result['places_inside_city']} "
        "inside the city (their names are searched)"
    )
    if not result["search_page"]:
        print(f"\n{NOT_THERE.upper()}: no page figure below is the issue's.")
    elif result["check"]:
        c = result["check"]
        print(
            f"  check: {c['checked']} searches, statuses {c['statuses']}, facilities of the "
            f"JSON missing from the page: {c['missing'] or 'none'}"
        )
    print("\nServer time (closed loop, ms)")
    print(f"  {'clients':>7} {'side':5} {'search':6} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8}")
    for clients, row in result["server_time"].items():
        for side in ("api", "page"):
            for how, f in row.get(side, {}).items():
                print(
                    f"  {clients:>7} {side:5} {how:6} {f['requests']:>6} {f['p50_ms']:>8} "
                    f"{f['p90_ms']:>8} {f['p99_ms']:>8}"
                )
        if "paired_ratio_median" in row:
            print(
                f"  {clients:>7} median over the same searches of page / JSON: "
                f"{row['paired_ratio_median']:.2f}  (context)"
            )
        for how, ratio in row.get("ratio_p50", {}).items():
            verdict = "met" if ratio <= RATIO_TARGET else "NOT met"
            print(
                f"  {clients:>7} page p50 / JSON p50 ({how}): {ratio:.2f}"
                f"  (issue: <= {RATIO_TARGET}) {verdict}"
            )
    b = result["browser"]
    if "missing" in b:
        print(f"\nBrowser: not measured ({b['missing']})")
    else:
        print(_browser(b, result["settings"]["page"]))


def verdicts(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's three figures, each with its target and whether it is met (None: not
    measured, as while the search page is not there)."""
    page, b = result["search_page"], result["browser"]
    ratios = {c: row["ratio_p50"]["all"] for c, row in result["server_time"].items() if page}
    first = b.get("weight", {}).get(result["settings"]["page"]) if page else None
    lcps = [b["lcp"][p] for p in b.get("results_paths", [])]
    worst = max((x["lcp_median_ms"] or math.inf for x in lcps), default=None)
    return {
        "ratio_p50": {
            "value": ratios,
            "target": f"<= {RATIO_TARGET}",
            "met": all(r <= RATIO_TARGET for r in ratios.values()) if ratios else None,
        },
        "first_load": {
            "value": first and {k: first[k] for k in ("wire_bytes", "foreign_origins")},
            "target": f"<= {WEIGHT_TARGET:,} B on the wire, own origin only",
            "met": first and first["wire_bytes"] <= WEIGHT_TARGET and not first["foreign_origins"],
        },
        "lcp": {
            "value": {
                b["labels"][p["path"]]: {"median_ms": p["lcp_median_ms"], "max_ms": p["lcp_max_ms"]}
                for p in lcps
            }
            or None,
            "target": f"median <= {LCP_TARGET_MS:g} ms",
            "met": worst <= LCP_TARGET_MS if worst is not None else None,
        },
    }


def _browser(b: dict[str, Any], page: str) -> str:
    lines: list[str] = []
    lines.append(f"\nFirst load in Chromium {b['chromium']} (cold cache), bytes on the wire")
    for p, w in b["weight"].items():
        stand_in = "" if p == page else "  (stand-in)"
        ok = w["wire_bytes"] <= WEIGHT_TARGET and not w["foreign_origins"]
        lines.append(
            f"  {p}{stand_in}: status {w['status']}, {w['count']} requests, "
            f"{w['wire_bytes']:,} B on the wire ({w['body_bytes']:,} B of bodies), LCP unslowed "
            f"{w['lcp_unslowed_ms']} ms, origins "
            f"{w['origins']}, foreign {w['foreign_origins'] or 'none'}"
            f"  (issue: <= {WEIGHT_TARGET:,} B, own origin only) {'met' if ok else 'NOT met'}"
        )
        for r in w["requests"]:
            lines.append(
                f"      {r['status']} {r['url'][:100]}  {r['encoded_bytes']} B wire, "
                f"content-length {r['body_bytes']}, {r['content_encoding'] or 'identity'} "
                f"(asked: {r['accept_encoding']})"
            )
    lines.append("\nLargest Contentful Paint, 4x CPU slowdown, 1.6 Mbit/s / 750 kbit/s, 150 ms")
    for raw, lcp in b["lcp"].items():
        p = unquote(raw)
        stand_in = f" ({b['labels'][raw]})" if raw in b["results_paths"] else "  (stand-in)"
        runs = ", ".join(f"{r['lcp_ms']}" for r in lcp["runs"])
        fcp = ", ".join(f"{r['fcp_ms']}" for r in lcp["runs"])
        ok = lcp["lcp_max_ms"] is not None and lcp["lcp_median_ms"] <= LCP_TARGET_MS
        lines.append(
            f"  {p}{stand_in}: median {lcp['lcp_median_ms']} ms, max {lcp['lcp_max_ms']} ms "
            f"(runs: {runs}; first contentful paint: {fcp}); element {lcp['element']}; "
            "document's responseEnd "
            f"median {lcp['response_end_median_ms']} ms (>= 150: the link is slowed);"
            f" {lcp['wire_bytes']:,} B  (issue: median <= {LCP_TARGET_MS:g} ms) "
            f"{'met' if ok else 'NOT met'}"
        )
    f = b["floor"]
    lines.append(
        f"  floor (one bare paragraph, no style sheet or script, same emulation): median "
        f"{f['lcp_median_ms']} ms, max {f['lcp_max_ms']} ms: this machine's and browser's share"
    )
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> list[str]:
    """The section of ``REPORT.md``."""
    s, v = result["settings"], result["verdicts"]
    out = [
        "## Family pages (issue 14)",
        "",
        f"{s['beds']:,} beds, the Shanghai gazetteer ({result['places_inside_city']} of its "
        f"places inside the city). Server time: the same searches (half 5 km around a point, "
        f"half by a district's or street's name, zh-CN and en in turn, `Accept-Encoding: gzip`) "
        f"as `GET /v1/availability` and as the results page `GET {s['page']}`, closed loop, "
        f"the two taking turns {s['slices']} times, {s['per_slice']} requests each.",
        "",
    ]
    if not result["search_page"]:
        out += [
            f"**{NOT_THERE}**: the JSON search alone is timed, and `/` and `/signin` stand "
            "in for it in the browser.",
            "",
        ]
    rows = []
    for clients, row in result["server_time"].items():
        for side in ("api", "page"):
            for how, f in row.get(side, {}).items():
                rows.append([clients, side, how, f["requests"], f["p50_ms"], f["p90_ms"]])
                rows[-1].append(f["p99_ms"])
    out += _table(["clients", "side", "searches", "n", "p50 ms", "p90 ms", "p99 ms"], rows)
    ratios = [
        [clients, *(f"{r:.2f}" for r in (*row["ratio_p50"].values(), row["paired_ratio_median"]))]
        for clients, row in result["server_time"].items()
        if "ratio_p50" in row
    ]
    if ratios:
        out += [
            "Page p50 / JSON p50 (target ≤ 1.3), and the median of page / JSON over the "
            "pairs of the same search:",
            "",
        ]
        out += _table(["clients", "all", "near", "place", "paired median"], ratios)
    b = result["browser"]
    if "missing" in b:
        out += [f"Browser parts not measured: install {b['missing']}.", ""]
    else:
        rows = []
        for path, w in b["weight"].items():
            foreign = ", ".join(w["foreign_origins"]) or "none"
            rows.append([f"`{path}`", w["status"], w["count"], f"{w['wire_bytes']:,}", foreign])
        out += [f"First load in Chromium {b['chromium']} (cold cache, bytes on the wire):", ""]
        out += _table(["page", "status", "requests", "bytes", "other origins"], rows)
        rows = []
        for path, lcp in b["lcp"].items():
            shown = f"`{unquote(path)}`"
            rows.append([shown, lcp["lcp_median_ms"], lcp["lcp_max_ms"], len(lcp["runs"])])
            rows[-1] += [lcp["element"], lcp["response_end_median_ms"]]
        out += [
            "Largest Contentful Paint, 4× CPU slowdown, 1.6 Mbit/s down, 750 kbit/s up, "
            "150 ms (cold loads):",
            "",
        ]
        f = b["floor"]
        rows.append(["floor: one bare paragraph", f["lcp_median_ms"], f["lcp_max_ms"]])
        rows[-1] += [len(f["runs"]), f["element"], f["response_end_median_ms"]]
        header = ["page", "median ms", "max ms", "runs", "element", "document responseEnd ms"]
        out += _table(header, rows)
        out += [
            "The floor is a page of one paragraph (no style sheet, no script) from a bare server "
            "in the benchmark's process, loaded the same way: what the machine and the browser "
            "cost before any page of the app is drawn.",
            "",
        ]
    verdicts = []
    for name, what in (
        ("ratio_p50", "results page p50 / JSON p50"),
        ("first_load", "first load of the search page"),
        ("lcp", "LCP of the results page"),
    ):
        figure = v[name]
        met = (
            "not measured"
            if figure["met"] is None
            else "**met**"
            if figure["met"]
            else "**NOT met**"
        )
        verdicts.append([what, json.dumps(figure["value"], ensure_ascii=False), figure["target"]])
        verdicts[-1].append(met)
    return out + _table(["figure", "value", "target", "verdict"], verdicts)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = [header, ["---"] * len(header), *rows]
    return [*("| " + " | ".join(str(c) for c in line) + " |" for line in lines), ""]
