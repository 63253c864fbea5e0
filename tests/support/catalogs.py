"""Small catalogs written to a folder, for tests that need the loader's files rather than the demo catalog."""

from __future__ import annotations

from pathlib import Path

import yaml

AREAS = {
    "districts": [
        {
            "code": "110105",
            "name": "朝阳区",
            "aliases": ["朝阳"],
            "streets": [
                {
                    "code": "110105010",
                    "name": "望京街道",
                    "aliases": ["望京"],
                    "communities": [{"name": "花家地北里社区"}],
                },
                {"code": "110105011", "name": "八里庄街道", "communities": []},
            ],
        },
        {
            "code": "110108",
            "name": "海淀区",
            "streets": [{"code": "110108001", "name": "八里庄街道", "communities": []}],
        },
    ]
}
CATEGORIES = {
    "categories": [
        {
            "code": "01",
            "name": "供暖",
            "urgency": "urgent",
            "handling": "department",
            "children": [{"code": "0101", "name": "供热质量", "keywords": ["暖气", "不热", "供暖"]}],
        },
        {"code": "02", "name": "物业", "handling": "territorial", "keywords": ["物业"]},
    ]
}
TEMPLATE = {
    "id": "street-{code}",
    "name": "{name}",
    "posts": [{"id": "desk", "name": "接诉即办岗", "fallback_person": "{unit}.duty"}],
    "people": [{"id": "{unit}.duty", "name": "{name}值班员"}],
}
UNITS = {
    "territorial": {"street": TEMPLATE, "district": {**TEMPLATE, "id": "district-{code}"}},
    "units": [
        {
            "id": "ent-heating",
            "name": "热力集团",
            "kind": "enterprise",
            "posts": [{"id": "dispatch", "name": "调度岗"}],
        },
        {
            "id": "ent-heating-b",
            "name": "另一家热力公司",
            "kind": "enterprise",
            "posts": [{"id": "dispatch", "name": "调度"}],
        },
    ],
    "people": [{"id": "p1", "name": "值班员甲"}],
    "rosters": [
        {
            "unit": "ent-heating",
            "post": "dispatch",
            "shifts": [{"person": "p1", "from": "00:00", "to": "24:00"}],
        }
    ],
}
HEATING_RULE = {"id": "heating", "priority": 10, "when": {"category": "01"}, "then": {"unit": "ent-heating"}}


def write_catalog(folder: Path, rules: list[dict[str, object]] | None = None, **files: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "catalog.yaml": {"territorial_post": "desk"},
        "areas.yaml": AREAS,
        "categories.yaml": CATEGORIES,
        "units.yaml": UNITS,
        "rules.yaml": {"rules": rules if rules is not None else [HEATING_RULE]},
    }
    contents.update({name.replace("_", "."): value for name, value in files.items()})
    for name, data in contents.items():
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (folder / name).write_text(text, encoding="utf-8")
    return folder
