"""The condition logic behind `rules.lint`: when one rule's conditions cover or meet another's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from rules.catalog import Area, Catalog, Conditions, Keywords


def category_chain(code: str) -> tuple[str, ...]:
    """Every prefix of a category code: the prefixes a rule may name to take it."""
    return tuple(code[:n] for n in range(1, len(code) + 1))


class Nesting:
    """Rule positions by the codes of one condition (categories or areas), to find the rules whose codes
    can nest with given ones without comparing every pair. `chain(code)` is the code and all above it."""

    def __init__(self, chain: Callable[[str], tuple[str, ...]]) -> None:
        self.chain = chain
        self.free: set[int] = set()  # rules without this condition
        self.exact: dict[str, set[int]] = {}
        self.below: dict[str, set[int]] = {}  # code -> rules naming it or a code under it

    def add(self, position: int, codes: tuple[str, ...]) -> None:
        if not codes:
            self.free.add(position)
        for code in codes:
            self.exact.setdefault(code, set()).add(position)
            for outer in self.chain(code):
                self.below.setdefault(outer, set()).add(position)

    def covering(self, codes: tuple[str, ...]) -> set[int]:
        """Rules that may cover all of `codes`: none of them can without covering the first one."""
        if not codes:
            return set(self.free)
        return self.free.union(*(self.exact.get(outer, ()) for outer in self.chain(codes[0])))

    def meeting(self, codes: tuple[str, ...]) -> set[int] | None:
        """Rules whose codes nest with one of `codes`; None: every rule (no such condition here)."""
        if not codes:
            return None
        found = set(self.free)
        for code in codes:
            found.update(self.below.get(code, ()), *(self.exact.get(outer, ()) for outer in self.chain(code)))
        return found


class Logic:
    """Relations between two rules' conditions, true only when certain: `covers` (every request one
    matches, the other matches too) and, negated, `meet` (some request may match both)."""

    def __init__(self, areas: dict[str, Area]) -> None:
        self.areas = areas
        self._chains: dict[str, tuple[str, ...]] = {}

    def area_chain(self, code: str) -> tuple[str, ...]:
        """The code and the areas it lies within: what a request located there carries in `Facts.areas`
        (by parents in the gazetteer; by 6/9-digit prefix for an unknown code)."""
        if code not in self._chains:
            chain, area = [code], self.areas.get(code)
            while area is not None and area.parent and area.parent not in chain:
                chain.append(area.parent)
                area = self.areas.get(area.parent)
            if code not in self.areas:
                chain += [code[:n] for n in (9, 6) if len(code) > n]
            self._chains[code] = tuple(chain)
        return self._chains[code]

    def covers(self, early: Conditions, late: Conditions) -> bool:
        """Every request `late` matches, `early` matches (an expression on `early` is never certain)."""
        return (
            nests(early.categories, late.categories, category_chain)
            and nests(early.areas, late.areas, self.area_chain)
            and all(
                not wide or (bool(narrow) and set(narrow) <= set(wide))  # groups too: "any of"
                for wide, narrow in (
                    (early.kinds, late.kinds),
                    (early.urgencies, late.urgencies),
                    (early.channels, late.channels),
                    (early.groups, late.groups),
                )
            )
            and implies(late.keywords, early.keywords)
            and early.working_day in (None, late.working_day)
            and hours_cover(early.hours, late.hours)
            and early.expression is None
        )

    def meet(self, one: Conditions, other: Conditions) -> bool:
        """Two group conditions always meet: a requester may be in several groups. Expressions may."""
        return (
            touch(one.categories, other.categories, category_chain)
            and touch(one.areas, other.areas, self.area_chain)
            and all(
                not a or not b or bool(set(a) & set(b))
                for a, b in (
                    (one.kinds, other.kinds),
                    (one.urgencies, other.urgencies),
                    (one.channels, other.channels),
                )
            )
            and not any(present(one.keywords, word) for word in other.keywords.none)
            and not any(present(other.keywords, word) for word in one.keywords.none)
            and (None in (one.working_day, other.working_day) or one.working_day == other.working_day)
            and hours_meet(one.hours, other.hours)
        )

    def example(self, one: Conditions, other: Conditions, catalog: Catalog) -> str:
        """Where both rules' category and area conditions hold, in words: "e.g. 0101 供热质量 in 朝阳区"."""
        parts = []
        for a_codes, b_codes, names, chain in (
            (one.categories, other.categories, catalog.categories, category_chain),
            (one.areas, other.areas, catalog.areas, self.area_chain),
        ):
            if a_codes and b_codes:
                nested = ((a, b) for a in a_codes for b in b_codes if a in chain(b) or b in chain(a))
                code = next((b if a in chain(b) else a for a, b in nested), None)
            else:
                code = next(iter(a_codes or b_codes), None)
            if code:
                parts.append(f"{code} {names[code].name}" if code in names else code)
        return "e.g. " + " in ".join(parts) if parts else "any category, anywhere"


def nests(wide: tuple[str, ...], narrow: tuple[str, ...], chain: Callable[[str], tuple[str, ...]]) -> bool:
    return not wide or (bool(narrow) and all(set(wide).intersection(chain(code)) for code in narrow))


def touch(one: tuple[str, ...], other: tuple[str, ...], chain: Callable[[str], tuple[str, ...]]) -> bool:
    return not one or not other or any(a in chain(b) or b in chain(a) for a in one for b in other)


def present(keywords: Keywords, word: str) -> bool:
    """Every description matching `keywords` contains `word` (a keyword is found wherever it occurs, so a
    word inside a required keyword is found too)."""
    return any(word in must for must in keywords.all) or (
        bool(keywords.any) and all(word in one for one in keywords.any)
    )


def implies(late: Keywords, early: Keywords) -> bool:
    """Every description matching `late` matches `early`."""
    return (
        (
            not early.any
            or any(present(late, word) for word in early.any)
            or (bool(late.any) and all(any(word in one for word in early.any) for one in late.any))
        )
        and all(present(late, word) for word in early.all)
        and all(any(absent in word for absent in late.none) for word in early.none)
    )


DAY = 24 * 3600 * 10**6  # microseconds


def spans(hours: tuple[time, time]) -> list[tuple[int, int]]:
    """`[start, end)` hours as microsecond spans of one day, as `rules.matcher.in_hours` reads them."""
    start, end = ((t.hour * 3600 + t.minute * 60 + t.second) * 10**6 + t.microsecond for t in hours)
    return [(start, end)] if start < end else [(start, DAY), (0, end)]


def hours_cover(wide: tuple[time, time] | None, narrow: tuple[time, time] | None) -> bool:
    if wide is None or wide[0] == wide[1]:
        return True
    return narrow is not None and all(
        any(a <= c and d <= b for a, b in spans(wide)) for c, d in spans(narrow) if c < d
    )


def hours_meet(one: tuple[time, time] | None, other: tuple[time, time] | None) -> bool:
    if one is None or other is None:
        return True
    return any(max(a, c) < min(b, d) for a, b in spans(one) for c, d in spans(other))


class Index:
    """Rules by their category, area, kind, urgency, channel and group conditions and by destination: the
    rules that may cover, or meet while sending elsewhere, given conditions. Narrowed condition by condition
    while more than a few remain; the caller still checks each with `Logic`."""

    def __init__(self, logic: Logic) -> None:
        self.parts = [Nesting(category_chain), Nesting(logic.area_chain), *(Nesting(single) for _ in "kucg")]
        self.members: set[int] = set()
        self.places: dict[str, set[int]] = {}

    def add(self, position: int, when: Conditions, place: str) -> None:
        for part, codes in zip(self.parts, dimensions(when), strict=True):
            part.add(position, codes)
        self.members.add(position)
        self.places.setdefault(place, set()).add(position)

    def covering(self, when: Conditions) -> list[int]:
        found = self.members
        for part, codes in zip(self.parts, dimensions(when), strict=True):
            if len(found) <= 32:
                break
            found = found & part.covering(codes)
        return sorted(found)

    def meeting(self, when: Conditions, place: str) -> list[int]:
        """Two group conditions always meet (a requester may be in several groups): groups are skipped."""
        found = self.members - self.places.get(place, set())
        for part, codes in zip(self.parts[:5], dimensions(when), strict=False):
            near = part.meeting(codes) if len(found) > 32 else None
            found = found if near is None else found & near
        return sorted(found)


def single(code: str) -> tuple[str, ...]:
    return (code,)


def dimensions(when: Conditions) -> tuple[tuple[str, ...], ...]:
    return when.categories, when.areas, when.kinds, when.urgencies, when.channels, when.groups
