"""The operator's SLA file: a new year is a file edit; mistakes are refused with where they are."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.adapters.catalog import catalog_router
from dispatcher.adapters.sla_file import SlaFileError, load_sla
from dispatcher.bootstrap import deadlines_from
from dispatcher.contract.mapping import complaint_from_wire
from jiesu.cli.main import app
from rules.complaint import Urgency
from rules.decision import Assignment, Decision
from sla.policy import Stage
from tests.conftest import DEMO_CATALOG
from tests.support.builders import make_complaint
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
    deadlines, round_the_clock = load_sla(path)
    due = deadlines.due(datetime(2026, 12, 31, 10, tzinfo=BEIJING), "general", Stage.REPLY)
    # 01-04 .. 01-08 are five working days (01-01..01-03 off); the tier's other stages keep their defaults
    assert due.at == datetime(2027, 1, 9, 0, 0, tzinfo=BEIJING)
    assert "01-01..01-03 holiday (元旦)" in due.facts
    assert deadlines.calendar.source(2027) == "operator" and "enterprise" in round_the_clock
    assert str(deadlines.policy.duration("general", Stage.ACKNOWLEDGE)[0]) == "2 hours"


def test_the_shipped_file_loads(tmp_path: Path):
    deadlines, _ = load_sla(Path(__file__).resolve().parents[2] / "config" / "sla.yaml")
    assert str(deadlines.policy.duration("complex", Stage.REPLY)[0]) == "15 working days"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers:\n  general: {reply: soon}\n", "tiers: 'soon': expected a positive amount"),
        ("calendar:\n  2027:\n    workdays: ['2028-01-01']\n", "calendar 2027: 2028-01-01 is not in 2027"),
        ("calendar:\n  2027:\n    holidays: [{days: 'Jan 1'}]\n", "String should match pattern"),
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
    deadlines_for = deadlines_from(path)
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
    router = catalog_router(DEMO_CATALOG)
    complaint = make_complaint(category="010101", location={"district": "朝阳区"})
    decision = router.route(complaint_from_wire(complaint), datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    assert decision.assignment and decision.assignment.unit == "ent-heating"
    assert (decision.unit_class, decision.round_the_clock) == ("enterprise", True)
