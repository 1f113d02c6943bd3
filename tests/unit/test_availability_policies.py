"""Which policy version a search applies: the one in force on check-in."""

from datetime import date
from typing import Any

import msgspec

from respite.availability.policies import in_force
from respite.eligibility import PRESETS
from respite.eligibility.store import StoredPolicy


def stored(code: str, version: int, effective: date, **changes: Any) -> StoredPolicy:
    policy = msgspec.structs.replace(PRESETS[code], **changes)
    return StoredPolicy(id=version, version=version, effective_from=effective, policy=policy)


VERSIONS = [
    stored("cn-respite", 1, date(2020, 1, 1)),
    stored("cn-respite", 2, date(2026, 7, 1), min_age=65),
    stored("cn-respite", 3, date(2026, 7, 1), min_age=70),
    stored("cn-respite", 4, date(2027, 1, 1)),
    stored("cn-home-bed", 1, date(2020, 1, 1)),
]


def test_the_latest_version_in_force_on_check_in() -> None:
    assert in_force(VERSIONS, "respite", date(2026, 6, 30))["cn-respite"].version == 1
    # Two versions effective the same day: the later published.
    assert in_force(VERSIONS, "respite", date(2026, 7, 1))["cn-respite"].version == 3
    assert in_force(VERSIONS, "respite", date(2027, 1, 1))["cn-respite"].version == 4


def test_only_the_programme_searched_and_nothing_before_it_exists() -> None:
    assert set(in_force(VERSIONS, "home", date(2026, 7, 1))) == {"cn-home-bed"}
    assert in_force(VERSIONS, "respite", date(2019, 12, 31)) == {}
