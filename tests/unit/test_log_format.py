"""A log line is one JSON object: an ISO 8601 time with milliseconds and the zone's offset,
the level, the logger, the message, the line's own fields; no terminal colour codes."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

import pytest

from respite.observability import JsonFormatter, TextFormatter, iso_time

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def made_at() -> float:
    return datetime(2026, 12, 1, 3, 5, 3, 123456, tzinfo=UTC).timestamp()


def record(
    message: str = "delivery %s failed", *args: object, **extra: object
) -> logging.LogRecord:
    made = logging.LogRecord("respite.webhooks", logging.WARNING, __file__, 1, message, args, None)
    made.created = made_at()
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_the_time_has_milliseconds_and_the_zone_and_is_the_instant_logged() -> None:
    line = json.loads(JsonFormatter().format(record("x")))
    assert ISO_TIME.match(line["time"]), line["time"]
    assert datetime.fromisoformat(line["time"]) == datetime(
        2026, 12, 1, 3, 5, 3, 123000, tzinfo=UTC
    )
    assert iso_time(made_at()) == line["time"]


def test_a_line_carries_its_fields_and_drops_uvicorns_coloured_copy() -> None:
    entry = json.loads(
        JsonFormatter().format(
            record(
                "delivery %s failed",
                7,
                delivery_id=7,
                retry_at=datetime(2026, 12, 1, 3, 6, tzinfo=UTC),
                color_message="\x1b[32mdelivery 7 failed\x1b[0m",
            )
        )
    )
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "respite.webhooks",
        "delivery 7 failed",
    )
    assert (entry["delivery_id"], entry["retry_at"]) == (7, "2026-12-01T03:06:00Z")
    assert "color_message" not in entry


def test_an_exception_is_one_field_of_the_one_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        made = record("failed")
        made.exc_info = sys.exc_info()
    line = JsonFormatter().format(made)
    assert "\n" not in line
    assert "ValueError: broken" in json.loads(line)["exception"]


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter("%(asctime)s %(message)s")])
def test_no_line_carries_a_terminal_colour_code(formatter: logging.Formatter) -> None:
    line = formatter.format(record("hello", color_message="\x1b[1mhello\x1b[0m"))
    assert "\x1b" not in line and "\\u001b" not in line
