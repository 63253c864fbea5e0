"""The operator's SLA file: a new year is a file edit; mistakes are refused with where they are."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.adapters.catalog import catalog_router
from dispatcher.adapters.sla_file import SlaFileError, load_sla
from dispatcher.bootstrap import bootstrap, deadlines_from
from dispatcher.contract.mapping import complaint_from_wire
from dispatcher.settings import Settings
from jiesu.cli.main import app
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from sla.calendar import ChineseCalendar
from sla.policy import Stage
from tests.conftest import DEMO_CATALOG
from tests.support.builders import make_complaint
from tests.support.catalogs import HEATING_RULE, UNITS, write_catalog
from tests.support.clock import BEIJING

YEAR_2027 = """
calendar:
  2027:
    holidays:
      - {days: "2027-01-01..2027-01-03", name: 元旦}
    workdays: ["2027-01-09"]
round_the_clock: [enterprise]
tiers:
  general: {reply: 5 working days}
"""


def test_a_year_added_to_the_file_is_used_and_named(tmp_path: Path):
    path = tmp_path / "sla.yaml"
    path.write_text(YEAR_2027, encoding="utf-8")
    sla = load_sla(path)
    deadlines, round_the_clock = sla.deadlines, sla.round_the_clock
    due = deadlines.due(datetime(2026, 12, 31, 10, tzinfo=BEIJING), "general", Stage.REPLY)
    # 01-04 .. 01-08 are five working days (01-01..01-03 off); the tier's other stages keep their defaults
    assert due.at == datetime(2027, 1, 9, 0, 0, tzinfo=BEIJING)
    assert "01-01..01-03 holiday (元旦)" in due.facts
    assert deadlines.calendar.source(2027) == "operator" and "enterprise" in round_the_clock
    assert str(deadlines.policy.duration("general", Stage.ACKNOWLEDGE)[0]) == "2 hours"


def test_the_shipped_file_loads(tmp_path: Path):
    deadlines = load_sla(Path(__file__).resolve().parents[2] / "config" / "sla.yaml").deadlines
    assert str(deadlines.policy.duration("complex", Stage.REPLY)[0]) == "15 working days"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers:\n  general: {reply: soon}\n", "tiers: 'soon': expected a positive amount"),
        ("calendar:\n  2027:\n    workdays: ['2028-01-01']\n", "calendar 2027: 2028-01-01 is not in 2027"),
        ("calendar:\n  2027:\n    holidays: [{days: 'Jan 1'}]\n", "String should match pattern"),
        ("return_window: {general: a while}\n", "return_window: 'a while': expected a positive amount"),
        ("return_window: {normal: 8 working hours}\n", "return_window: unknown tier 'normal'"),
    ],
)
def test_a_wrong_file_is_refused_saying_what_is_wrong(tmp_path: Path, text: str, message: str):
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SlaFileError, match=message.replace("(", r"\(")):
        load_sla(path)


def test_sla_due_prints_the_deadline_and_the_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JIESU_SLA_FILE", str(Path(__file__).resolve().parents[2] / "config" / "sla.yaml"))
    result = CliRunner().invoke(
        app, ["sla", "due", "--tier", "general", "--from", "2026-09-30T15:00:00+08:00"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:4] == [
        "due 2026-10-16T00:00:00+08:00",
        "rule: 7 working days from 2026-09-30T15:00:00+08:00 (tier general)",
        "fact: 10-01..10-07 holiday (National Day)",
        "fact: 10-10 make-up working day",
    ]


def test_a_round_the_clock_post_counts_working_hours_through_the_night(tmp_path: Path):
    path = tmp_path / "sla.yaml"
    path.write_text("tiers:\n  general: {contact: 8 working hours}\n", encoding="utf-8")
    deadlines_for = deadlines_from(load_sla(path))
    at = datetime(2026, 11, 27, 16, 0, tzinfo=BEIJING)  # a Friday afternoon
    complaint = make_complaint()
    assignment = Assignment("ent-heating", "dispatch", "p", "heating", "v1", "why")
    office = deadlines_for(
        complaint, Decision(Urgency.GENERAL, "010101", assignment, unit_class="department"), at
    )
    always = deadlines_for(
        complaint,
        Decision(Urgency.GENERAL, "010101", assignment, unit_class="enterprise", round_the_clock=True),
        at,
    )
    assert office and always
    # office hours: 1.5 h on Friday, then Monday 09:00-12:00 and 13:30-17:00
    assert office.due["contact"] == datetime(2026, 11, 30, 17, 0, tzinfo=BEIJING)
    assert always.due["contact"] == datetime(2026, 11, 28, 0, 0, tzinfo=BEIJING)
    assert "7x24 unit" in always.basis


def test_the_demo_catalog_marks_7x24_posts_round_the_clock():
    router = catalog_router(DEMO_CATALOG, ChineseCalendar())
    complaint = make_complaint(category="010101", location={"district": "朝阳区"})
    decision = router.route(complaint_from_wire(complaint), datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    assert decision.assignment and decision.assignment.unit == "ent-heating"
    assert (decision.unit_class, decision.round_the_clock) == ("enterprise", True)


HOLIDAY_AND_MAKE_UP_DAY = """
calendar:
  2027:
    holidays:
      - {days: "2027-03-10", name: 测试假日}
    workdays: ["2027-03-13"]
"""


def test_a_day_in_the_file_changes_rule_conditions_and_rosters_as_well_as_deadlines(tmp_path: Path):
    """One calendar: a holiday or make-up working day the operator adds is seen by the rules' `working_day`
    conditions and by the rosters, not only by the deadlines."""
    units = {
        **UNITS,
        "people": [{"id": "weekday-desk", "name": "工作日值班"}, {"id": "rest-desk", "name": "休息日值班"}],
        "rosters": [
            {
                "unit": "ent-heating",
                "post": "dispatch",
                "shifts": [
                    {"person": "weekday-desk", "from": "00:00", "to": "24:00", "days": "working"},
                    {"person": "rest-desk", "from": "00:00", "to": "24:00", "days": "rest"},
                ],
            }
        ],
    }
    rest_day_rule = {
        "id": "heating-rest-day",
        "priority": 5,
        "when": {"category": "01", "working_day": False},
        "then": {"unit": "ent-heating", "post": "dispatch"},
    }
    catalog = write_catalog(tmp_path / "catalog", [rest_day_rule, HEATING_RULE], units_yaml=units)
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text(HOLIDAY_AND_MAKE_UP_DAY, encoding="utf-8")

    def seen_by(sla_path: Path) -> dict[str, tuple[str, str | None, datetime]]:
        settings = Settings(database_url="sqlite://", catalog_dir=catalog, sla_file=sla_path)
        system = bootstrap(settings)
        assert system.router is not None
        seen = {}
        for day in ("2027-03-10", "2027-03-13"):  # a Wednesday, a Saturday
            at = datetime.fromisoformat(f"{day}T10:00:00+08:00")
            complaint = Complaint(
                "BJ1", at, "phone", "complaint", "暖气不热", category="0101", location=Location("朝阳区")
            )
            decision = system.router.route(complaint, at)
            assert decision.assignment is not None
            due = system.sla.deadlines.due(at, "general", Stage.REPLY).at
            seen[day] = (decision.assignment.rule, decision.assignment.person, due)
        system.engine.dispose()
        return seen

    without, with_file = seen_by(tmp_path / "none.yaml"), seen_by(sla_file)
    assert without == {
        "2027-03-10": ("heating", "weekday-desk", datetime(2027, 3, 20, tzinfo=BEIJING)),
        "2027-03-13": ("heating-rest-day", "rest-desk", datetime(2027, 3, 24, tzinfo=BEIJING)),
    }
    # the holiday is a rest day to the rule and the roster; the make-up Saturday a working day to both, and
    # one of the seven working days of the reply from the 10th
    assert with_file == {
        "2027-03-10": ("heating-rest-day", "rest-desk", datetime(2027, 3, 19, tzinfo=BEIJING)),
        "2027-03-13": ("heating", "weekday-desk", datetime(2027, 3, 24, tzinfo=BEIJING)),
    }
