"""Places named in a question, and which documents of the knowledge base cover them."""

from __future__ import annotations

from dataclasses import dataclass

from core.types import PolicyDoc
from index.gazetteer import Gazetteer, Place


@dataclass(frozen=True)
class RegionMatch:
    """The places a question names: those the knowledge base covers (with their documents) and those it does not."""

    covered: tuple[tuple[Place, tuple[str, ...]], ...]
    uncovered: tuple[Place, ...]

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """Every document covering some named place."""
        return tuple(dict.fromkeys(doc_id for _, ids in self.covered for doc_id in ids))


def covers(doc: PolicyDoc, place: Place) -> bool:
    """A city's policy covers that city; a province's covers the province and its cities; a national one all.
    A document whose region the metadata does not know is not excluded by a place: uncertain metadata must not
    hide the notice that answers."""
    if doc.level == "national" or not (doc.level or doc.province or doc.city):
        return True
    if doc.city:
        return place.name == doc.city
    return doc.province is not None and place.province == doc.province


def contains(outer: Place, inner: Place) -> bool:
    """Whether a province or city contains another division (by administrative code)."""
    if outer.adcode == inner.adcode or outer.level == "county":
        return False
    prefix = outer.adcode[:2] if outer.level == "province" else outer.adcode[:4]
    return inner.adcode.startswith(prefix)


def most_specific(places: list[Place]) -> list[Place]:
    """The places without those that only contain another named one ("天津滨海新区" names 滨海新区, not a
    comparison of 天津 and 滨海新区)."""
    return [p for p in places if not any(contains(p, other) for other in places)]


class RegionResolver:
    """Recognises place names (either script, full or short) and maps them to the documents covering them."""

    def __init__(self, docs: list[PolicyDoc], gazetteer: Gazetteer):
        self.docs = docs
        self.gazetteer = gazetteer

    def match(self, text: str) -> RegionMatch:
        """Places named in the text, split by whether the knowledge base covers them."""
        covered, uncovered = [], []
        for place in most_specific(self.gazetteer.find(text)):
            city = self.gazetteer.city_of(place)  # a city's policy covers its districts and counties too
            ids = tuple(doc.doc_id for doc in self.docs if covers(doc, place) or (city and covers(doc, city)))
            if ids:
                covered.append((place, ids))
            else:
                uncovered.append(place)
        return RegionMatch(tuple(covered), tuple(uncovered))

    def regions(self) -> list[tuple[str, tuple[str, ...]]]:
        """The regions of the knowledge base, for a filter: (name, documents), most specific name per document."""
        by_name: dict[str, list[str]] = {}
        for doc in self.docs:
            name = doc.city or doc.province or "全国"
            by_name.setdefault(name, []).append(doc.doc_id)
        return [(name, tuple(ids)) for name, ids in sorted(by_name.items())]
