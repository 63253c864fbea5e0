"""Routing on a small catalog written to disk: location, fallbacks, queues, classification threshold."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules.complaint import Complaint, Location
from rules.loader import CatalogError, load_catalog
from rules.router import CatalogRouter
from sla.calendar import ChineseCalendar
from tests.support.catalogs import CATEGORIES, UNITS, write_catalog
from tests.support.clock import NOW

AT = NOW  # a Thursday, 10:00 in Beijing


def router_for(folder: Path, **files: object) -> CatalogRouter:
    catalog = load_catalog(write_catalog(folder, **files))
    return CatalogRouter(catalog, ChineseCalendar().is_working_day, ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def router(tmp_path: Path) -> CatalogRouter:
    return router_for(tmp_path / "catalog")


def complaint(description: str = "暖气不热", category: str | None = "0101", **location: str) -> Complaint:
    return Complaint(
        "BJ1", AT, "phone", "complaint", description, category=category, location=Location(**location)
    )


def test_names_codes_and_aliases_resolve_to_the_same_place(router: CatalogRouter):
    by_names = router.gazetteer.resolve(Location(district="朝阳区", street="望京街道"))
    by_codes = router.gazetteer.resolve(Location(district="110105", street="110105010"))
    by_alias = router.gazetteer.resolve(Location(district="朝阳", street="望京"))
    assert by_names.codes == by_codes.codes == by_alias.codes == ("110105", "110105010")


def test_a_free_text_address_is_parsed_into_district_street_and_community(router: CatalogRouter):
    place = router.gazetteer.resolve(Location(address="北京市朝阳区望京街道花家地北里社区3号楼"))
    assert [area.name for area in (place.district, place.street, place.community) if area] == [
        "朝阳区",
        "望京街道",
        "花家地北里社区",
    ]


PLACES = {
    "places": [
        {"name": "望京西园三区", "kind": "compound", "street": "110105010", "aliases": ["望京西园3区"]},
        {"name": "朝阳大悦城", "kind": "landmark", "street": "110105011"},
    ]
}


def test_a_compound_or_landmark_callers_name_resolves_to_its_street(tmp_path: Path):
    router = router_for(tmp_path / "catalog", places_yaml=PLACES)
    compound = router.gazetteer.resolve(Location(address="望京西园3区5号楼2单元"))  # no district, no street
    landmark = router.gazetteer.resolve(Location(district="朝阳", address="朝阳大悦城后门那条路上"))
    assert compound.codes == ("110105", "110105010") and landmark.codes == ("110105", "110105011")
    decision = router.route(complaint("物业不管楼道垃圾", "02", address="望京西园三区"), AT)
    assert decision.assignment is not None and decision.assignment.unit == "street-110105010"


def test_a_place_in_a_street_the_gazetteer_lacks_is_refused_with_file_and_line(tmp_path: Path):
    bad = {"places": [{"name": "天通苑北一区", "kind": "compound", "street": "110114999"}]}
    with pytest.raises(CatalogError) as refused:
        router_for(tmp_path / "catalog", places_yaml=bad)
    assert "places.yaml:4: place 天通苑北一区: 110114999 is not a street of areas.yaml" in str(refused.value)


def test_a_street_name_in_two_districts_is_reported_as_ambiguous_not_guessed(router: CatalogRouter):
    place = router.gazetteer.resolve(Location(street="八里庄街道"))
    assert place.street is None
    assert "ambiguous" in place.notes[0] and "朝阳区" in place.notes[0] and "海淀区" in place.notes[0]
    within = router.gazetteer.resolve(Location(district="海淀区", street="八里庄街道"))
    assert within.codes == ("110108", "110108001")


def test_a_matching_rule_sends_the_case_to_its_unit_and_the_person_on_duty(router: CatalogRouter):
    decision = router.route(complaint(district="朝阳区"), AT)
    assert decision.assignment is not None
    assert (decision.assignment.unit, decision.assignment.post, decision.assignment.person) == (
        "ent-heating",
        "dispatch",
        "p1",
    )
    assert decision.assignment.rule == "heating" and decision.urgency == "urgent"


def test_a_territorial_category_without_a_rule_goes_to_the_street_of_the_location(router: CatalogRouter):
    decision = router.route(complaint("物业不管", category="02", district="朝阳区", street="望京街道"), AT)
    assert decision.assignment and decision.assignment.unit == "street-110105010"
    assert decision.assignment.person == "street-110105010.duty"  # no roster: the post's fallback person
    assert "fallback person" in decision.assignment.reason


def test_an_unknown_street_falls_back_to_the_district(router: CatalogRouter):
    decision = router.route(complaint("物业不管", category="02", district="海淀区"), AT)
    assert decision.assignment and decision.assignment.unit == "district-110108"
    assert "district of the location" in decision.assignment.reason


def test_nothing_known_goes_to_the_manual_dispatch_queue(router: CatalogRouter):
    decision = router.route(complaint("物业不管", category="02", address="某小区"), AT)
    assert decision.assignment is None and decision.queue == "manual-dispatch"


def test_without_a_category_the_classifier_decides_or_the_case_goes_to_triage(tmp_path: Path):
    router = router_for(tmp_path / "a")
    classified = router.route(complaint("家里暖气一直不热", category=None, district="朝阳区"), AT)
    assert (
        classified.category == "0101"
        and classified.assignment
        and classified.assignment.unit == "ent-heating"
    )
    unsure = router.route(complaint("想问一下办事流程", category=None, district="朝阳区"), AT)
    assert unsure.queue == "triage"

    strict = router_for(tmp_path / "b", catalog_yaml={"classifier_threshold": 0.9})
    weak = strict.route(complaint("暖气有问题", category=None, district="朝阳区"), AT)  # one keyword: 0.5
    assert weak.queue == "triage" and "classified as 0101 (0.50" in weak.reason


def test_a_rule_can_queue_and_override_urgency(tmp_path: Path):
    rules = [
        {
            "id": "gas",
            "priority": 1,
            "when": {"keywords": {"any": ["燃气泄漏"]}},
            "then": {"queue": "manual-dispatch", "urgency": "emergency"},
        }
    ]
    router = router_for(tmp_path / "c", rules=rules, categories_yaml=CATEGORIES)
    decision = router.route(complaint("楼道里燃气泄漏", category="0101", district="朝阳区"), AT)
    assert (decision.queue, decision.urgency) == ("manual-dispatch", "emergency")


def test_a_district_branch_rule_sends_the_case_to_the_branch_of_the_locations_district(tmp_path: Path):
    units = {
        **UNITS,
        "units": [
            *UNITS["units"],
            {
                "id": "dept-health",
                "name": "市卫健委",
                "kind": "department",
                "posts": [{"id": "desk", "name": "岗"}],
            },
        ],
        "branches": [
            {
                "of": "dept-health",
                "id": "dept-health-{code}",
                "name": "{name}卫生健康委员会",
                "districts": ["110105"],
                "posts": [{"id": "desk", "name": "接诉即办岗", "fallback_person": "{unit}.duty"}],
                "people": [{"id": "{unit}.duty", "name": "{name}卫健委值班员"}],
            }
        ],
    }
    rules = [{"id": "health", "when": {"category": "01"}, "then": {"unit": "dept-health@district"}}]
    router = router_for(tmp_path / "d", rules=rules, units_yaml=units)

    chaoyang = router.route(complaint(district="朝阳区"), AT).assignment
    assert chaoyang and (chaoyang.unit, chaoyang.person) == ("dept-health-110105", "dept-health-110105.duty")
    assert router.catalog.units["dept-health-110105"].name == "朝阳区卫生健康委员会"
    # no branch in 海淀 (not in `districts`), and no district at all: the city department itself
    for where in ({"district": "海淀区"}, {}):
        decision = router.route(complaint(**where), AT).assignment
        assert decision and decision.unit == "dept-health", where


def test_a_rule_naming_the_branch_of_an_unknown_department_is_refused(tmp_path: Path):
    rules = [{"id": "health", "when": {"category": "01"}, "then": {"unit": "dept-nowhere@district"}}]
    with pytest.raises(CatalogError, match="unknown unit dept-nowhere"):
        router_for(tmp_path / "e", rules=rules)
