"""Every benchmark in one run, and one Markdown report of it (``ops/bench/run`` calls this).

    ops/bench/run            # full: ~30 minutes on 2 cores, writes ops/bench/REPORT.md
    ops/bench/run --quick    # a few minutes, smaller data, 60 s soak

Runs, one after another so that they do not share the cores: ``availability.py`` (10,000 and
100,000 beds; it reports its app process's memory itself),
``board.py`` (300 beds x 92 nights), ``holds.py`` (with its floors and the contention run),
``soak.py``, ``pages.py`` (the family pages: server time, first load, LCP in Chromium) and
``board_pages.py`` (the desk's board page beside the JSON board) and ``waitlist.py`` (how soon
freed nights are offered, and how many offers a second when many beds free at once).
Each generates its own data set in its own private servers. The raw output of each is kept
next to the report under ``--logs``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import availability
import board
import board_pages
import holds
import pages_report
import soak

import pages
import waitlist

__all__ = ["main", "render"]

HERE = Path(__file__).resolve().parent
AVAILABILITY_KEYS: tuple[str, ...] = ("requests", "p50_ms", "p99_ms", "p99_9_ms", "max_ms")
AVAILABILITY_KEYS += ("dropped", "errors", "per_second")
HOLDS_KEYS = ("clients", "requests", "per_second", "p50_ms", "p99_ms", "p99_9_ms")
SIDE_HEADER = ["clients", "holds", "raw_hold", "holds / raw", "confirms", "raw_confirm"]
SIDE_HEADER += ["confirms / raw", "raw EVALSHA", "raw PG insert", "GET /health/live"]
PACKAGES = ("litestar", "asyncpg", "msgspec", "redis", "hiredis", "uvicorn", "uvloop")


class Tee(io.TextIOBase):
    """Print as usual and keep a copy."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        return self.kept.write(text)


def step(name: str, logs: Path, run: Callable[[], None]) -> tuple[str, float]:
    print(f"\n=== {name}", flush=True)
    tee = Tee(sys.stdout)
    started = time.perf_counter()
    with contextlib.redirect_stdout(tee):
        run()
    (logs / f"{name}.log").write_text(tee.kept.getvalue())
    return tee.kept.getvalue(), time.perf_counter() - started


def run_availability(quick: bool, out: Path) -> None:
    availability.main([*(["--quick"] if quick else []), "--json", str(out)])


def run_board(quick: bool) -> None:
    argv = sys.argv
    sys.argv = ["board.py", *(["--calls", "60"] if quick else [])]
    try:
        board.main()
    finally:
        sys.argv = argv


def _run_pages(quick: list[str], out: Path) -> None:
    """``pages.py`` answers 2 while the search page is not there: the report says so."""
    pages.main([*quick, "--json", str(out)])


def _run_board_pages(quick: list[str]) -> None:
    """``board_pages.py`` answers 1 when a limit is not met: the report says which."""
    board_pages.main(quick)


def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    versions = {}
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[f"{package} (Python package)"] = metadata.version(package)
    return {
        "python": platform.python_version(),
        "os": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        **versions,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--logs", type=Path, help="raw output and JSON (default: a temp folder)")
    parser.add_argument("--skip", default="", help="comma-separated: availability,board,...")
    args = parser.parse_args(argv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="respite-report-"))
    logs.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    quick = ["--quick"] if args.quick else []
    data: dict[str, Any] = {"quick": args.quick, "machine": machine(), "seconds": {}}
    data["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    steps: dict[str, Callable[[], None]] = {
        "availability": lambda: run_availability(args.quick, logs / "availability.json"),
        "board": lambda: run_board(args.quick),
        "holds": lambda: holds.main([*quick, "--json", str(logs / "holds.json")]),
        "soak": lambda: soak.main([*quick, "--json", str(logs / "soak.json")]),
        "pages": lambda: _run_pages(quick, logs / "pages.json"),
        "board_pages": lambda: _run_board_pages(quick),
        "waitlist": lambda: waitlist.main([*quick, "--json", str(logs / "waitlist.json")]),
    }
    for name, run in steps.items():
        if name in skip:
            continue
        text, seconds = step(name, logs, run)
        data["seconds"][name] = round(seconds)
        data[f"{name}_text"] = text
        path = logs / f"{name}.json"
        if path.exists():
            data[name] = json.loads(path.read_text())
    data["command"] = " ".join(["ops/bench/run", *(argv if argv is not None else sys.argv[1:])])
    args.out.write_text(render(data))
    (logs / "report.json").write_text(json.dumps(data, indent=2, default=str))
    print(f"\nreport: {args.out}   raw output: {logs}")


# Rendering -----------------------------------------------------------------------------------


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "?"


def _mib(kib: int | None) -> str:
    return "?" if kib is None else f"{kib / 1024:.0f} MiB"


def render(data: dict[str, Any]) -> str:
    mode = "QUICK mode (smaller data, short runs)" if data["quick"] else "full run"
    out = [
        "# Benchmark report",
        "",
        f"Command: `{data['command']}` — {mode}, "
        f"started {data['started']}, steps took "
        + ", ".join(f"{k} {v} s" for k, v in data["seconds"].items())
        + ".",
        "",
        "## Machine and versions",
        "",
        *_table(["what", "value"], [[k, v] for k, v in data["machine"].items()]),
    ]
    if "holds" in data:
        servers = data["holds"].get("servers", {})
        out[-1:-1] = [_row([f"{k} server", v]) for k, v in servers.items()]
    out += _availability(data)
    out += _board(data)
    out += _holds(data)
    out += _soak(data)
    out += _pages(data)
    out += _board_pages(data)
    out += _waitlist(data)
    out += _memory(data)
    return "\n".join(out) + "\n"


def _availability(data: dict[str, Any]) -> list[str]:
    result = data.get("availability")
    if not result:
        return []
    out = [
        "## Availability search (issue 5)",
        "",
        "Open loop at a fixed rate (latency from the scheduled send time), then closed loop for "
        "the maximum throughput; the SQL side is the endpoint's own statements through an asyncpg "
        "pool of the app's size (the floor).",
        "",
    ]
    rows = []
    for beds, r in result.items():
        for name in ("sql_open", "http_open", "sql_closed", "http_closed"):
            f = r[name]
            rows.append([beds, name, *(f[k] for k in AVAILABILITY_KEYS), f["clients"] or "-"])
    header = ["beds", "run", "n", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "dropped", "errors"]
    out += _table([*header, "req/s", "clients"], rows)
    ratios = []
    for beds, r in result.items():
        median = r["http_open"]["p50_ms"] / r["sql_open"]["p50_ms"]
        share = r["http_closed"]["per_second"] / r["sql_closed"]["per_second"]
        ratios.append(
            [beds, "HTTP p50 / SQL p50", f"{median:.2f}", "≤ 1.5", _verdict(median <= 1.5)]
        )
        ratios.append(
            [beds, "HTTP / SQL max throughput", f"{share:.1%}", "≥ 70 %", _verdict(share >= 0.7)]
        )
    sizes = list(result)
    if len(sizes) > 1:
        growth = result[sizes[-1]]["http_open"]["p50_ms"] / result[sizes[0]]["http_open"]["p50_ms"]
        ratios.append(
            [
                f"{sizes[-1]} vs {sizes[0]}",
                "HTTP p50 ratio",
                f"{growth:.2f}",
                "≤ 1.5",
                _verdict(growth <= 1.5),
            ]
        )
    return out + _table(["beds", "ratio", "value", "target", "verdict"], ratios)


def _board(data: dict[str, Any]) -> list[str]:
    text = data.get("board_text")
    if not text:
        return []
    found = re.search(r"^http\s+median\s+([\d.]+) ms", text, re.M)
    median = f"**{found.group(1)} ms** median over HTTP" if found else "see below"
    return [
        "## Occupancy board (issue 3)",
        "",
        f"300 beds × 92 nights, repeated calls: {median}.",
        "",
        "```",
        text.strip(),
        "```",
        "",
    ]


def _waitlist(data: dict[str, Any]) -> list[str]:
    figures = data.get("waitlist")
    if not figures:
        return []
    late, burst = figures["latency"], figures["burst"]
    return [
        "## Waiting-list offers (issue 16)",
        "",
        f"From a cancellation's commit to the offer's hold in Redis, {late['cancellations']} "
        f"cancellations one at a time, the worker's default settings: p50 {late['p50_ms']} ms, "
        f"**p99 {late['p99_ms']} ms** (target ≤ 2,000 ms: {_verdict(late['p99_ms'] <= 2000)}), "
        f"max {late['max_ms']} ms.",
        "",
        f"{burst['beds_freed_at_once']} beds freed in one commit, {burst['waiting']} entries "
        f"waiting: all offered in {burst['all_offered_s']} s, "
        f"**{burst['offers_per_second']} offers/s**; each offer made p50 "
        f"{burst['made_after_commit_p50_ms']} ms, p99 {burst['made_after_commit_p99_ms']} ms "
        "after the commit.",
        "",
    ]


def _board_pages(data: dict[str, Any]) -> list[str]:
    text = data.get("board_pages_text")
    if not text:
        return []
    ratio = re.search(r"^page / JSON median: ([\d.]+) \(limit ([\d.]+)\)", text, re.M)
    size = re.search(r"^page compressed: ([\d.]+) KB \(limit ([\d.]+) KB\)", text, re.M)
    rows = []
    if ratio:
        met = float(ratio[1]) <= float(ratio[2])
        rows.append(["server time, median, page / JSON", ratio[1], f"<= {ratio[2]}", _verdict(met)])
    if size:
        met = float(size[1]) <= float(size[2])
        rows.append(["page, gzip-compressed", f"{size[1]} KB", f"<= {size[2]} KB", _verdict(met)])
    return [
        "## The desk's board page (issue 15)",
        "",
        "300 beds × 31 nights, the page and `GET /v1/facilities/{id}/board` for the same window,"
        " in turns:",
        "",
        *_table(["figure", "value", "target", "verdict"], rows),
        "```",
        text.strip(),
        "```",
        "",
    ]


def _holds(data: dict[str, Any]) -> list[str]:
    result = data.get("holds")
    if not result:
        return []
    s = result["settings"]
    runs = result["runs"]
    out = [
        "## Holds and confirms (issues 6 and 11)",
        "",
        f"{s['beds']:,} beds ({result['data']['bed_nights']:,} bed nights loaded), closed loop, "
        f"{s['seconds']:g} s per run of a side (HTTP and its floor taking turns {s['slices']} "
        f"times; context runs half that), app pool {s['pool']}, `RESPITE_HOLD_CAP_STAFF=1000000` "
        "(benchmark principals are admins, who count as staff). Each hold is a distinct (bed, "
        "2-night stay) after the loaded data, with an Idempotency-Key; confirms are of the holds "
        "just placed. `raw_hold` and `raw_confirm` are the floor: the same statements and "
        "scripts, in the same order and transactions, for slots of their own, on an asyncpg pool "
        "of the app's size and redis-py in the benchmark's process. Checked before measuring "
        "against one hold and one confirm through the use cases in-process:",
        "",
        *(f"- {what}: {', '.join(steps)}" for what, steps in result["floor_steps"].items()),
        "",
    ]
    rows = []
    for name, f in runs.items():
        s_ = f["statuses"]
        rows.append(
            [name, *(f[k] for k in HOLDS_KEYS), ", ".join(f"{k}: {v}" for k, v in s_.items())]
        )
    out += _table(
        ["run", "clients", "n", "per s", "p50 ms", "p99 ms", "p99.9 ms", "outcomes"], rows
    )
    side, verdicts = [], []
    for c in s["clients"]:

        def get(name: str, c: int = c) -> float:
            return float(runs.get(f"{name}_{c}", {}).get("per_second", 0.0))

        share = result["ratios"][str(c)]
        side.append(
            [
                c,
                *(get("http_hold"), get("raw_hold"), f"{share['hold']:.0%}"),
                *(get("http_confirm"), get("raw_confirm"), f"{share['confirm']:.0%}"),
                *(get(n) for n in ("raw_evalsha", "raw_pg_insert", "http_trivial")),
            ]
        )
        if c == holds.TARGET_CLIENTS:
            for what, value in share.items():
                target = f"≥ {holds.TARGET:.0%}"
                verdicts.append([c, f"{what}s / raw_{what}", f"{value:.1%}", target])
                verdicts[-1].append(_verdict(value >= holds.TARGET))
    out += ["Side by side (per second):", "", *_table(SIDE_HEADER, side)]
    out += _table(["clients", "ratio", "value", "target", "verdict"], verdicts)
    moved = [
        [c, confirms, moves_, f"{moves_ / confirms:.0%}" if confirms else "-"]
        for c in s["clients"]
        if (moves_ := float(runs.get(f"http_move_{c}", {}).get("per_second", 0.0)))
        for confirms in [float(runs.get(f"http_confirm_{c}", {}).get("per_second", 0.0))]
    ]
    if moved:
        out += [
            "**Moving a stay** (issue 17): `POST /v1/bookings/{id}/change` moving each booking "
            "just confirmed to a free slot of another bed that takes its elder, beside the "
            "confirms of the same run (per second):",
            "",
            *_table(["clients", "confirms", "moves", "moves / confirms"], moved),
        ]
    c = result["contention"]
    out += [
        f"**Contention** (64 clients, 20 hot beds, stays of 1-3 nights in a 30-night window, each "
        f"hold confirmed at once): {c['requests']} attempts, {c['per_second']}/s, p50 "
        f"{c['p50_ms']} ms, p99 {c['p99_ms']} ms, p99.9 {c['p99_9_ms']} ms; outcomes "
        f"{c['statuses']}; {c['booked']} bookings made. Deadlocks: **{c['deadlocks']}** "
        f"({_verdict(c['deadlocks'] == 0)}, must be 0); double bookings: "
        f"**{c['double_bookings']}** ({_verdict(c['double_bookings'] == 0)}, must be 0).",
        "",
    ]
    return out


def _soak(data: dict[str, Any]) -> list[str]:
    result = data.get("soak")
    if not result:
        return []
    m, a, p, r = result["memory"], result["after"], result["passed"], result["soak"]
    return [
        "## Soak (issue 8)",
        "",
        f"Mixed traffic (4/10 search, 3/10 hold left to expire, 2/10 hold + confirm, 1/10 hold + "
        f"confirm + cancel), hold TTL {soak.HOLD_TTL} s. Capacity measured first: "
        f"{result['capacity']['per_second']} operations/s (16 closed-loop callers); soak at half: "
        f"{r['rate']:.1f}/s for {result['settings']['seconds']:g} s, {r['operations']} operations, "
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, p99.9 {r['p99_9_ms']} ms; "
        f"outcomes {r['outcomes']}.",
        "",
        *_table(
            ["check", "value", "verdict"],
            [
                [
                    f"RSS growth from {m['mark_seconds']:g} s to the end",
                    f"{_mib(m['rss_kib_at_mark'])} → {_mib(m['rss_kib_at_end'])}"
                    f" ({m['growth']:.1%})",
                    _verdict(p["rss_growth_below_10pct"]),
                ],
                [
                    "hold keys / entries left after expiry",
                    f"{a['hold_keys_left']} / {a['hold_entries_left']}"
                    f" (Redis keys in all: {a['redis_keys_total']})",
                    _verdict(p["no_hold_left"]),
                ],
                [
                    "app's PostgreSQL connections",
                    str(a["app_connections"]),
                    _verdict(p["pool_idle"]),
                ],
            ],
        ),
    ]


def _memory(data: dict[str, Any]) -> list[str]:
    rows = []
    for beds, result in data.get("availability", {}).items():
        rows.append([f"availability app, {beds} beds", _mib(result["app_memory_kib"].get("VmHWM"))])
    if "holds" in data:
        rows.append(["holds app", _mib(data["holds"]["memory_kib"]["app"].get("VmHWM"))])
    if "soak" in data:
        rows.append(["soak app", _mib(data["soak"]["memory"]["peak_kib"])])
    if "pages" in data:
        rows.append(["pages app", _mib(data["pages"]["app_memory_kib"].get("VmHWM"))])
    if not rows:
        return []
    return [
        "## Peak resident memory (VmHWM) of each app process",
        "",
        *_table(["process", "peak"], rows),
    ]


def _pages(data: dict[str, Any]) -> list[str]:
    return pages_report.markdown(data["pages"]) if "pages" in data else []


if __name__ == "__main__":
    main()
