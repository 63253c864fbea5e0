"""The demo 派单目录 (config/catalog) routes the way a Beijing hotline supervisor expects."""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatcher.adapters.catalog import catalog_router
from rules.catalog import AreaLevel
from rules.complaint import Complaint, Location, Requester
from rules.router import CatalogRouter
from sla.calendar import ChineseCalendar
from tests.conftest import DEMO_CATALOG
from tests.support.clock import BEIJING

THURSDAY_10 = datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING)
NATIONAL_DAY_03 = datetime(2026, 10, 1, 3, 0, tzinfo=BEIJING)
NATIONAL_DAY_10 = datetime(2026, 10, 1, 10, 0, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def router() -> CatalogRouter:
    return catalog_router(DEMO_CATALOG, ChineseCalendar())


def ask(router: CatalogRouter, description: str, category: str | None, at: datetime = THURSDAY_10, **where):
    groups = where.pop("groups", ())
    complaint = Complaint(
        "BJ-DEMO",
        at,
        "phone",
        "complaint",
        description,
        category=category,
        location=Location(**where),
        requester=Requester(groups=tuple(groups)),
    )
    return router.route(complaint, at)


def street_unit(router: CatalogRouter, district: str, street: str) -> str:
    [code] = [
        area.code
        for area in router.catalog.areas.values()
        if area.level is AreaLevel.STREET
        and area.name == street
        and router.catalog.areas[area.parent or ""].name == district
    ]
    return f"street-{code}"


@pytest.mark.parametrize(
    ("address", "district", "street"),
    [
        ("北京市朝阳区望京街道望京西园三区5号楼", "朝阳区", "望京街道"),
        ("海淀区中关村街道科育社区12号楼", "海淀区", "中关村街道"),
        ("西城区什刹海街道兴华社区", "西城区", "什刹海街道"),
        ("通州区北苑街道西营前街社区2号院", "通州区", "北苑街道"),
        ("延庆区百泉街道", "延庆区", "百泉街道"),
        # as callers say it: a compound or a landmark of places.yaml, no district, no street
        ("天通苑东三区3号楼2单元", "昌平区", "天通苑北街道"),
        ("首都师范大学东门对面", "海淀区", "八里庄街道"),
        ("方庄芳古园一区", "丰台区", "方庄街道"),
    ],
)
def test_property_complaints_go_to_the_street_of_the_address(
    router: CatalogRouter, address, district, street
):
    decision = ask(router, "物业不打扫楼道，垃圾成堆", "020101", address=address)
    assert decision.assignment is not None, decision.reason
    assert decision.assignment.unit == street_unit(router, district, street)
    assert decision.assignment.post == "desk" and decision.assignment.rule == "property-management"


def test_food_safety_goes_to_the_district_branch_where_there_is_one_else_the_city(router: CatalogRouter):
    chaoyang = ask(router, "超市卖过期食品", "040101", district="朝阳区", street="望京街道")
    dongcheng = ask(router, "超市卖过期食品", "040101", district="东城区")
    assert chaoyang.assignment and chaoyang.assignment.unit == "dept-market-chaoyang"
    assert dongcheng.assignment and dongcheng.assignment.unit == "dept-market"


def test_a_territorial_matter_without_a_street_falls_back_to_the_district(router: CatalogRouter):
    decision = ask(router, "物业收费不合理", "020102", district="朝阳区")
    assert decision.assignment and decision.assignment.unit == "district-110105"
    assert "district of the location" in decision.assignment.reason


def test_without_any_location_a_territorial_matter_goes_to_manual_dispatch(router: CatalogRouter):
    decision = ask(router, "物业收费不合理", "020102")
    assert decision.assignment is None and decision.queue == "manual-dispatch"


def test_a_request_without_category_is_classified_or_sent_to_triage(router: CatalogRouter):
    heating = ask(router, "家里暖气不热，室温只有十五度", None, district="朝阳区")
    assert heating.category == "010101" and heating.assignment and heating.assignment.unit == "ent-heating"
    vague = ask(router, "请帮忙看看这个情况", None, district="朝阳区")
    assert vague.queue == "triage" and vague.assignment is None


def test_at_three_on_a_holiday_the_night_duty_person_has_the_street_desk(router: CatalogRouter):
    decision = ask(router, "物业不打扫楼道", "020101", NATIONAL_DAY_03, district="朝阳区", street="望京街道")
    unit = street_unit(router, "朝阳区", "望京街道")
    assert decision.assignment and decision.assignment.person == f"{unit}.desk-duty"
    assert "17:30-08:30" in decision.assignment.reason


def test_a_dated_override_puts_the_head_on_the_desk_on_national_day(router: CatalogRouter):
    decision = ask(router, "超市卖过期食品", "040101", NATIONAL_DAY_10, district="东城区")
    assert decision.assignment and decision.assignment.person == "dept-market.head"
    assert "override" in decision.assignment.reason


def test_heating_in_an_old_estate_is_co_handled_by_the_housing_commission(router: CatalogRouter):
    decision = ask(router, "老旧小区暖气不热", "010101", district="朝阳区")
    assert decision.assignment and decision.assignment.unit == "ent-heating"
    assert decision.assignment.co_handlers == ("dept-housing",)


def test_a_rule_on_hours_catches_night_construction_noise(router: CatalogRouter):
    night = datetime(2026, 11, 26, 23, 30, tzinfo=BEIJING)
    decision = ask(router, "工地夜间施工噪音很大", None, night, district="朝阳区", street="望京街道")
    assert decision.assignment and decision.assignment.rule.startswith("night-construction")


def test_every_decision_names_the_catalog_version(router: CatalogRouter):
    decision = ask(router, "家里暖气不热", "010101", district="朝阳区")
    assert decision.assignment and decision.assignment.catalog_version == router.catalog.version
