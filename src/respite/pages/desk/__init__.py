"""The desk: the pages for a facility's staff, in Chinese and English.

Each module is one part of a facility's work, named as staff name it: ``today`` (arrivals
and departures, check in and out), ``board`` (beds × nights), ``walk_ins``, ``beds`` (beds,
blocks, importing and exporting), ``people`` (elders and referrals), ``team`` (the staff
accounts a manager keeps), ``waitlist`` (who waits for the facility's beds, in order).
Every page is for staff of one facility (``guards.staff``), some for its managers only
(``guards.manager``; the roles: ``auth.staff_roles``); another facility's bed, booking or
elder is answered as not found, as the API does.
"""

from __future__ import annotations

from typing import Final

from litestar.types import ControllerRouterHandler

from respite.pages.desk.bed_import import BedImportPages
from respite.pages.desk.beds import BedPages
from respite.pages.desk.blocks import BlockPages
from respite.pages.desk.board import BoardPage
from respite.pages.desk.exports import ExportPages
from respite.pages.desk.holds import DeskHoldPages
from respite.pages.desk.people import PeoplePages
from respite.pages.desk.team import InvitationPages, TeamPages
from respite.pages.desk.today import TodayPages
from respite.pages.desk.waitlist import DeskWaitlistPage
from respite.pages.desk.walk_in_register import RegisterPages
from respite.pages.desk.walk_ins import WalkInPages

__all__ = ["DESK_PAGES"]

DESK_PAGES: Final[list[ControllerRouterHandler]] = [
    TeamPages,
    InvitationPages,
    TodayPages,
    PeoplePages,
    BoardPage,
    DeskHoldPages,
    BedImportPages,
    BedPages,
    BlockPages,
    ExportPages,
    WalkInPages,
    RegisterPages,
    DeskWaitlistPage,
]
