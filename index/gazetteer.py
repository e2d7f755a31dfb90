"""Place names of China's administrative divisions (cpca's adcode table), found in text."""

from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.textnorm import to_simplified

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
# Table rows that are groupings, not places, and county names that are ordinary words.
_NOT_PLACES = frozenset({"县", "市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划", "城区", "郊区", "矿区"})


@dataclass(frozen=True)
class Place:
    """An administrative division: its full name, its short name and the province it lies in."""

    name: str
    short: str
    province: str
    level: str  # "province" | "city" | "county"
    adcode: str

    @property
    def city(self) -> str | None:
        """The city, for a city; None for a province or a municipality directly under the centre."""
        return self.name if self.level == "city" else None


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Gazetteer:
    """Finds provinces and cities (full or short names, either script) in a text."""

    def __init__(self, places: list[Place]):
        self.places = places
        self._by_name: dict[str, Place] = {}
        # Provinces first so an ambiguous short name (吉林: province and city) means the province.
        for place in sorted(places, key=lambda p: ("province", "city", "county").index(p.level)):
            for key in {place.name, place.short} if place.level != "county" else {place.name}:
                self._by_name.setdefault(key, place)
        names = sorted(self._by_name, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names)))

    @classmethod
    def from_cpca(cls) -> Gazetteer:
        """The full table of divisions shipped with cpca."""
        # Read cpca's data file without importing cpca (its import needs pkg_resources and builds a matcher).
        spec = importlib.util.find_spec("cpca")
        if spec is None or spec.origin is None:
            raise RuntimeError("the cpca package is not installed")
        table = (Path(spec.origin).parent / "resources" / "adcodes.csv").read_text(encoding="utf-8")
        rows = [(row["adcode"][:6], row["name"]) for row in csv.DictReader(table.splitlines())]
        provinces = {code[:2]: name for code, name in rows if code.endswith("0000")}
        places = []
        for code, name in rows:
            province = provinces.get(code[:2])
            if province is None or name in _NOT_PLACES or len(name) < 2:
                continue
            if code.endswith("0000"):
                level = "province"
            elif code.endswith("00"):
                level = "city"
            else:
                level = "county"
            if level != "province" and province in MUNICIPALITIES:
                level = "county"
            if level == "county" and len(name) < 3:  # 和县, 新县, 东区 … read as ordinary words in questions
                continue
            places.append(Place(name, _short(name), province, level, code))
        return cls(places)

    def find(self, text: str) -> list[Place]:
        """Places named in the text, in order of first mention, without repeats."""
        found: list[Place] = []
        for match in self._pattern.finditer(to_simplified(text)):
            place = self._by_name[match.group(0)]
            if place not in found:
                found.append(place)
        return found

    def city_of(self, place: Place) -> Place | None:
        """The city a county lies in (by administrative code); None for provinces, cities and counties
        directly under a province."""
        if place.level != "county":
            return None
        return next((p for p in self.places if p.level == "city" and p.adcode[:4] == place.adcode[:4]), None)

    def provinces(self) -> list[Place]:
        """All provinces (and municipalities directly under the centre)."""
        return [p for p in self.places if p.level == "province"]


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The cpca gazetteer, loaded once on first use."""
    return Gazetteer.from_cpca()
