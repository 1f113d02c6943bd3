"""The demo city's ground and people: Shanghai's gazetteer, points on its streets, and names.

``shanghai_places.json`` holds Shanghai's 16 districts with approximate centroids and the real
streets (街道 and 镇) of ten of them, in GCJ-02 as maps in mainland China show them, to a few
hundred metres. District ids are the national administrative codes (310104 is 徐汇区); a
street's id is its district's code and a running number, not its official code.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Final

import msgspec

from respite.eligibility.model import Sex
from respite.places.model import CoordinateSystem, PlaceEntry, read_gazetteer

__all__ = [
    "DEMO_SYSTEM",
    "GAZETTEER_FILE",
    "GIVEN_NAMES",
    "SURNAMES",
    "Street",
    "elder_name",
    "gazetteer",
    "point_near",
    "streets",
]

GAZETTEER_FILE: Final = Path(__file__).with_name("shanghai_places.json")
DEMO_SYSTEM: Final[CoordinateSystem] = "GCJ-02"
SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗沈顾陆钱"
# Given names common among Shanghai's elders, born from the 1920s to the 1960s.
GIVEN_NAMES: Final[dict[Sex, tuple[str, ...]]] = {
    "female": (
        "秀英", "桂英", "玉兰", "淑珍", "凤英", "美华", "兰芳", "秀兰",
        "桂兰", "玉珍", "丽华", "月英", "素珍", "玉梅", "惠芬", "佩珍",
    ),
    "male": (
        "建国", "国华", "志强", "德明", "国强", "建华", "伟民", "荣根",
        "志明", "根宝", "永福", "文忠", "金龙", "海林", "福生", "家骏",
    ),
}  # fmt: skip


class Street(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    district: str
    lat: float
    lon: float


def gazetteer() -> list[PlaceEntry]:
    entries, problems = read_gazetteer(GAZETTEER_FILE.read_bytes(), DEMO_SYSTEM)
    if problems:  # the file ships with the code: a problem in it is a bug
        raise ValueError(f"{GAZETTEER_FILE.name}: {[str(p.message) for p in problems]}")
    return entries


def streets(entries: list[PlaceEntry]) -> list[Street]:
    districts = {e.id: e.name for e in entries if e.kind == "district"}
    return [
        Street(id=e.id, name=e.name, district=districts[e.parent], lat=e.lat, lon=e.lon)
        for e in entries
        if e.kind == "street" and e.parent is not None
    ]


def point_near(rng: random.Random, street: Street, within_m: float) -> tuple[float, float]:
    """A point uniformly spread within ``within_m`` of the street's centroid."""
    distance = within_m * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = street.lat + distance * math.cos(bearing) / 111_320
    lon = street.lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat, 6), round(lon, 6)


def elder_name(rng: random.Random, sex: Sex) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES[sex])
