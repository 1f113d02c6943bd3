"""The gazetteer's file and its rules (pure): what an operator's file must say, and how a
name is compared.

A gazetteer file is JSON: the coordinate system its points are in, and its places, each a
district (区), a street (街道 or 镇) inside a district, or a community (居委 or 村) inside a
street, with a centroid and how far the place reaches. A file with any problem imports
nothing; every problem is listed with the place it is in (README.md, "The gazetteer").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta, Struct

from respite.eligibility.model import Latitude, Longitude
from respite.geo import haversine_m
from respite.i18n import Text, t
from respite.params import MAX_ID

__all__ = [
    "COORDINATE_SYSTEMS",
    "DEFAULT_RADIUS_M",
    "MAX_PLACES",
    "REACH_SLACK",
    "Bounds",
    "CoordinateSystem",
    "Place",
    "PlaceEntry",
    "PlaceKind",
    "PlaceProblem",
    "name_key",
    "read_gazetteer",
]

CoordinateSystem = Literal["WGS-84", "GCJ-02"]
COORDINATE_SYSTEMS: Final[tuple[CoordinateSystem, ...]] = ("WGS-84", "GCJ-02")
PlaceKind = Literal["district", "street", "community"]
PARENT_KIND: Final[dict[PlaceKind, PlaceKind | None]] = {
    "district": None,
    "street": "district",
    "community": "street",
}
DEFAULT_RADIUS_M: Final[dict[PlaceKind, int]] = {"district": 5000, "street": 1500, "community": 500}
# A city's every community is a few thousand places; a file far larger is not a gazetteer.
MAX_PLACES: Final = 50_000
# A centroid is approximate, and a division is not a circle: a street may reach past its
# district's radius by this share before it is refused as not inside it.
REACH_SLACK: Final = 1.25

Name = Annotated[str, Meta(min_length=1, max_length=100)]


class PlaceEntry(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One place as the file gives it."""

    id: Annotated[int, Meta(ge=1, le=MAX_ID)]
    kind: PlaceKind
    name: Name
    name_en: Name
    parent: Annotated[int, Meta(ge=1, le=MAX_ID)] | None = None
    lat: Latitude
    lon: Longitude
    radius_m: Annotated[int, Meta(ge=100, le=200_000)] | None = None
    """How far the place reaches from its centroid (default by kind)."""

    @property
    def reach_m(self) -> int:
        return self.radius_m or DEFAULT_RADIUS_M[self.kind]


class Place(Struct, frozen=True, kw_only=True):
    """A place of the gazetteer, as a search names it back."""

    id: Annotated[int, Meta(description="The place's id in the gazetteer (also a `place=`).")]
    kind: Annotated[PlaceKind, Meta(description="district, street (街道/镇) or community.")]
    name: Annotated[str, Meta(description="Its Chinese name, e.g. 徐汇区.")]
    name_en: Annotated[str, Meta(description="Its English (pinyin) name, e.g. Xuhui District.")]
    district: Annotated[
        str | None,
        Meta(description="The district a street or community lies in (its Chinese name)."),
    ]
    lat: Latitude
    lon: Longitude
    radius_m: Annotated[int, Meta(description="How far the place reaches from its centroid, m.")]


class Bounds(Struct, frozen=True):
    """The box the deployment's districts cover, their reach included."""

    south: float
    north: float
    west: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


class PlaceProblem(Struct, frozen=True, kw_only=True):
    """One thing wrong with a gazetteer file: which place (its position, from 1, and id when
    it has one) and why."""

    entry: int | None
    id: int | None
    message: Text


class _File(Struct, frozen=True, forbid_unknown_fields=True):
    coordinate_system: str
    places: list[object]


_SUFFIXES_ZH = ("新区", "区", "街道", "镇", "乡", "居委会", "居委", "村委会", "村")
_SUFFIXES_EN = ("newarea", "district", "subdistrict", "street", "town", "community", "village")
# Longest first: "subdistrict" before "district", "新区" before "区".
_SUFFIXES = sorted(_SUFFIXES_ZH + _SUFFIXES_EN, key=len, reverse=True)
_NOT_LETTERS = re.compile(r"[\s\-'’·.,()（）]+")


def name_key(name: str) -> str:
    """A name as a search compares it: without spaces, punctuation, case, or the suffix that
        says what kind of division it is, so "徐汇区", "徐汇", "Xuhui District" and "xuhui" meet
        at their own key. "浦东新区" keys as "浦东", "Pudong New Area" as "pudong", and "Tianping
    Road" as "Tianping Lu" does."""
    key = _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", name)).lower()
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key.removesuffix(suffix)
            break
    # Pinyin names say 路 as "lu"; people writing English say "road".
    return key.removesuffix("road") + "lu" if key.endswith("road") and len(key) > 4 else key


def read_gazetteer(
    data: bytes, system: CoordinateSystem
) -> tuple[list[PlaceEntry], list[PlaceProblem]]:
    """The file's places, or every problem it has. ``system`` is the deployment's coordinate
    system: a file in another is refused (nothing converts between them)."""
    try:
        document = msgspec.json.decode(data, type=_File)
    except msgspec.DecodeError as exc:
        return [], [
            PlaceProblem(entry=None, id=None, message=t("places.file_unreadable", problem=str(exc)))
        ]
    problems: list[PlaceProblem] = []
    if document.coordinate_system != system:
        message = t("places.file_other_system", given=document.coordinate_system, system=system)
        problems.append(PlaceProblem(entry=None, id=None, message=message))
    if len(document.places) > MAX_PLACES:
        message = t("places.file_too_long", count=len(document.places), most=MAX_PLACES)
        return [], [*problems, PlaceProblem(entry=None, id=None, message=message)]
    entries: list[tuple[int, PlaceEntry]] = []
    for position, raw in enumerate(document.places, start=1):
        try:
            entries.append((position, msgspec.convert(raw, PlaceEntry)))
        except msgspec.ValidationError as exc:
            ident = raw.get("id") if isinstance(raw, dict) else None
            problems.append(
                PlaceProblem(
                    entry=position,
                    id=ident if isinstance(ident, int) else None,
                    message=t("places.entry_invalid", problem=str(exc)),
                )
            )
    problems.extend(_check_together(entries))
    return ([] if problems else [e for _, e in entries]), problems


def _check_together(entries: list[tuple[int, PlaceEntry]]) -> list[PlaceProblem]:
    """What no one entry shows: ids once, parents of the right kind, a child inside its
    parent's reach, one name per kind under one parent."""
    problems: list[PlaceProblem] = []
    by_id: dict[int, PlaceEntry] = {}
    names: set[tuple[str, int | None, str]] = set()
    for position, entry in entries:
        if entry.id in by_id:
            problems.append(_problem(position, entry, t("places.id_repeated")))
        by_id.setdefault(entry.id, entry)
    for position, entry in entries:
        for message in _check_parent(entry, by_id):
            problems.append(_problem(position, entry, message))
        key = (entry.kind, entry.parent, name_key(entry.name))
        if key in names:
            problems.append(_problem(position, entry, t("places.name_repeated", name=entry.name)))
        names.add(key)
    return problems


def _check_parent(entry: PlaceEntry, by_id: dict[int, PlaceEntry]) -> list[Text]:
    wanted = PARENT_KIND[entry.kind]
    if wanted is None:
        return [] if entry.parent is None else [t("places.district_has_parent")]
    parent = by_id.get(entry.parent) if entry.parent is not None else None
    if parent is None:
        return [t("places.parent_missing", kind=t(f"places.kind.{entry.kind}"))]
    if parent.kind != wanted:
        return [t("places.parent_wrong_kind", kind=t(f"places.kind.{wanted}"))]
    away = haversine_m(parent.lat, parent.lon, entry.lat, entry.lon)
    if away > parent.reach_m * REACH_SLACK:
        return [
            t(
                "places.outside_parent",
                parent=parent.name,
                away=round(away),
                reach=parent.reach_m,
            )
        ]
    return []


def _problem(position: int, entry: PlaceEntry, message: Text) -> PlaceProblem:
    return PlaceProblem(entry=position, id=entry.id, message=message)
