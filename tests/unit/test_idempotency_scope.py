"""Whose idempotency keys a principal uses: its organisation's."""

import pytest

from respite.auth.model import Principal
from respite.idempotency import scope


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (Principal(id=7, role="hospital", name="HIS", hospital_id=3), "hospital:3"),
        (Principal(id=8, role="hospital", name="HIS 2", hospital_id=3), "hospital:3"),
        (Principal(id=9, role="staff", name="Wang", facility_id=12), "facility:12"),
        (Principal(id=10, role="family", name="Li"), "family:10"),
        (Principal(id=11, role="admin", name="ops"), "admin:11"),
    ],
)
def test_the_scope_is_the_principals_organisation(principal: Principal, expected: str) -> None:
    assert scope(principal) == expected
