"""What each role inside a facility may do: the one table, and the one check of it.

A staff account is its facility's ``manager`` or ``front_desk`` (``sql/0016``). Both run the
day; a manager also runs the facility itself:

===============  =========================================================  =======  ==========
action           what it covers                                             manager  front desk
===============  =========================================================  =======  ==========
``board``        the occupancy board                                        yes      yes
``day``          today's and tomorrow's arrivals and departures; check in,  yes      yes
                 check out, mark a no-show
``walk_ins``     find or register an elder and book a walk-in               yes      yes
``holds``        place, read and release holds                              yes      yes
``blocks``       block and unblock a bed                                    yes      yes
``exports``      export the board and a period's bookings                   yes      yes
``elders``       elders' pages, revealing an emergency contact (audited)    yes      yes
``referrals``    referrals placed with the facility and the ward to call    yes      yes
``beds``         add, change and retire beds                                yes      no
``import_beds``  import beds from a file                                    yes      no
``overrides``    book over an eligibility refusal, giving the reason        yes      no
``team``         invite staff, withdraw invitations, remove front desk      yes      no
``profile``      change the facility's profile (phone, radius, words)       yes      no
===============  =========================================================  =======  ==========

An admin may do everything, at every facility, and is the one who makes a facility's first
manager (an invitation, ``respite staff invite`` or the API). Tenancy is checked before the
role: another facility's object answers 404 to staff of either role, and only then does a
front desk's manager-only action answer 403 (``ManagerOnlyError``).

The API's use cases call ``require`` (``inventory``, ``booking``, the team's own), so a page,
which calls the same use cases, can never do more than the API allows; pages call ``may`` to
leave out what the reader may not do (a button, a menu entry).
"""

from __future__ import annotations

from typing import Final, Literal

from respite.auth.errors import ManagerOnlyError
from respite.auth.model import STAFF_ROLES, Principal, StaffRole

__all__ = ["ACTIONS", "MATRIX", "Action", "ManagerOnlyError", "may", "require"]

Action = Literal[
    "board",
    "day",
    "walk_ins",
    "holds",
    "blocks",
    "exports",
    "elders",
    "referrals",
    "beds",
    "import_beds",
    "overrides",
    "team",
    "profile",
]

_BOTH: Final[frozenset[StaffRole]] = frozenset(STAFF_ROLES)
_MANAGER: Final[frozenset[StaffRole]] = frozenset({"manager"})

MATRIX: Final[dict[Action, frozenset[StaffRole]]] = {
    "board": _BOTH,
    "day": _BOTH,
    "walk_ins": _BOTH,
    "holds": _BOTH,
    "blocks": _BOTH,
    "exports": _BOTH,
    "elders": _BOTH,
    "referrals": _BOTH,
    "beds": _MANAGER,
    "import_beds": _MANAGER,
    "overrides": _MANAGER,
    "team": _MANAGER,
    "profile": _MANAGER,
}
"""Which staff roles may do each action (admins may do all; other roles none of these)."""
ACTIONS: Final[tuple[Action, ...]] = tuple(MATRIX)


def may(principal: Principal | None, action: Action) -> bool:
    """Whether ``principal`` may do ``action``; ``None`` is the operator on the command line,
    who may do all, as an admin."""
    if principal is None or principal.role == "admin":
        return True
    if principal.role != "staff" or principal.staff_role is None:
        return False
    return principal.staff_role in MATRIX[action]


def require(principal: Principal | None, action: Action) -> None:
    """Refuse ``action`` to staff whose role may not do it (``ManagerOnlyError``). Other roles
    are left to the route's guard and the use case's own rule, which refuse them already."""
    if principal is not None and principal.role == "staff" and not may(principal, action):
        raise ManagerOnlyError(action, sorted(MATRIX[action]))
