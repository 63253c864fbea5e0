"""Where a request is: district, street/township and community, from codes, names, aliases or an address.

Codes win; names and aliases are looked up within what is already known (a street within its district);
a free-text address is scanned for known names, longest first. A name that fits two places with nothing to
choose between them is reported as ambiguous, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rules.catalog import Area, AreaLevel
from rules.classifier import KeywordIndex
from rules.complaint import Location


@dataclass(frozen=True)
class Place:
    district: Area | None = None
    street: Area | None = None
    community: Area | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(area.code for area in (self.district, self.street, self.community) if area)

    def describe(self) -> str:
        names = " ".join(area.name for area in (self.district, self.street, self.community) if area)
        return names or "unknown location"


class Gazetteer:
    def __init__(self, areas: dict[str, Area]) -> None:
        self._areas = areas
        self._by_name: dict[tuple[AreaLevel, str], list[Area]] = {}
        for area in areas.values():
            for name in {area.name, *area.aliases}:
                self._by_name.setdefault((area.level, name), []).append(area)
        self._names = KeywordIndex(
            (area.code, name) for area in areas.values() for name in {area.name, *area.aliases}
        )

    def _within(self, area: Area, ancestor: Area | None) -> bool:
        return ancestor is None or area.code.startswith(ancestor.code)

    def _pick(self, level: AreaLevel, value: str | None, scope: Area | None, notes: list[str]) -> Area | None:
        if not value:
            return None
        area = self._areas.get(value)
        if area and area.level is level and self._within(area, scope):
            return area
        candidates = [a for a in self._by_name.get((level, value), []) if self._within(a, scope)]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            places = "、".join(sorted(self._areas[c.code[:6]].name for c in candidates))
            notes.append(f"{level} {value!r} is ambiguous: it exists in {places}")
        else:
            notes.append(f"{level} {value!r} not found" + (f" in {scope.name}" if scope else ""))
        return None

    def resolve(self, location: Location) -> Place:
        notes: list[str] = []
        district = self._pick(AreaLevel.DISTRICT, location.district, None, notes)
        street = self._pick(AreaLevel.STREET, location.street, district, notes)
        community = self._pick(AreaLevel.COMMUNITY, location.community, street or district, notes)
        if location.address and not (street and community):
            district, street, community = self._from_address(
                location.address, district, street, community, notes
            )
        if community and not street:
            street = self._areas.get(community.parent or "")
        if street and not district:
            district = self._areas.get(street.parent or "")
        return Place(district, street, community, tuple(notes))

    def _from_address(
        self,
        address: str,
        district: Area | None,
        street: Area | None,
        community: Area | None,
        notes: list[str],
    ) -> tuple[Area | None, Area | None, Area | None]:
        found = self._names.found(address)
        hits = sorted(found, key=len, reverse=True)
        for level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY):
            if (level is AreaLevel.DISTRICT and district) or (level is AreaLevel.STREET and street):
                continue
            if level is AreaLevel.COMMUNITY and community:
                continue
            scope = street or district
            for name in hits:
                candidates = [
                    self._areas[code]
                    for code in found[name]
                    if self._areas[code].level is level and self._within(self._areas[code], scope)
                ]
                if len(candidates) > 1:
                    places = "、".join(sorted({self._areas[c.code[:6]].name for c in candidates}))
                    notes.append(f"address names {level} {name!r}, which exists in {places}")
                    break
                if candidates:
                    if level is AreaLevel.DISTRICT:
                        district = candidates[0]
                    elif level is AreaLevel.STREET:
                        street = candidates[0]
                    else:
                        community = candidates[0]
                    break
        return district, street, community
