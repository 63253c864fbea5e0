"""The SLA sweeper on SQLite and PostgreSQL, with a clock that moves from NOW (10:00 in Beijing; urgent
cases: acknowledge within 1 h, contact within 2 h): warnings, breaches and each ladder step fire once, never
for a stage already done, and never twice, not even with two sweepers at once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.adapters.timers import SqlTimers, due_timers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.case import Case
from dispatcher.reads.escalations import latest_escalations
from dispatcher.settings import Settings
from jiesu.cli.main import app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock


def open_case(system: System, ticket: str = "BJ1") -> str:
    complaint = make_complaint(
        ticket_id=ticket, category="0101", urgency="urgent", location={"district": "朝阳区"}
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def fired(system: System) -> list[tuple[str, str, int | None]]:
    """(ce_type, stage, level) of every SLA event in the outbox, in order."""
    found = []
    with system.engine.connect() as connection:
        for headers, value in connection.execute(
            select(t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id)
        ):
            kind = dict(decode_headers(headers))["ce_type"].decode()
            if kind.startswith(("jiesu.sla.", "jiesu.case.escalated")):
                data = json.loads(value)
                found.append((kind, data["stage"], data.get("level")))
    return found


def test_a_stage_left_undone_warns_then_breaches_then_climbs_the_ladder_once_each(system, clock):
    open_case(system)
    clock.at(minutes=44)
    assert sweep(system.engine, system.bus, clock) == 0
    clock.at(minutes=45)  # 75% of the hour to acknowledge
    sweep(system.engine, system.bus, clock)
    assert fired(system) == [("jiesu.sla.warning", "acknowledge", None)]
    clock.at(minutes=61)
    sweep(system.engine, system.bus, clock)
    sweep(system.engine, system.bus, clock)  # again: nothing new
    assert fired(system)[1:] == [
        ("jiesu.sla.breached", "acknowledge", None),
        ("jiesu.case.escalated", "acknowledge", 1),
    ]
    clock.at(hours=3, minutes=1)  # contact: warning 11:30, breach 12:00; acknowledge level 2 at 13:00
    sweep(system.engine, system.bus, clock)
    assert ("jiesu.sla.warning", "contact", None) in fired(system)
    assert ("jiesu.case.escalated", "acknowledge", 2) in fired(system)
    assert ("jiesu.case.escalated", "contact", 1) in fired(system)
    with system.engine.connect() as connection:
        targets = connection.execute(
            select(t.sla_timers.c.target).where(t.sla_timers.c.status == "fired")
        ).scalars()
        assert "ent-heating:post_supervisor" in set(targets)


def test_a_stage_done_before_its_deadline_never_escalates(system, clock):
    ticket = open_case(system)
    clock.at(minutes=59, seconds=59)  # one second before the acknowledge deadline
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    clock.at(hours=5)
    sweep(system.engine, system.bus, clock)
    assert not [
        event for event in fired(system) if event[1] == "acknowledge" and event[0] != "jiesu.sla.warning"
    ]
    with system.engine.connect() as connection:
        statuses = set(
            connection.execute(
                select(t.sla_timers.c.status).where(
                    t.sla_timers.c.stage == "acknowledge", t.sla_timers.c.kind == "escalation"
                )
            ).scalars()
        )
    assert statuses <= {"cancelled"}  # none left to fire (the ladder's next steps are planned lazily)


def test_a_resolved_case_stops_every_timer(system, clock):
    ticket = open_case(system)
    clock.at(minutes=10)
    for command in (
        c.AcknowledgeCase(ticket, "li"),
        c.RecordContact(ticket, "li"),
        c.ResolveCase(ticket, "li", result="好了"),
    ):
        system.bus.handle(command)
    clock.at(days=30)
    sweep(system.engine, system.bus, clock)
    assert fired(system) == []


def test_an_approved_extension_moves_the_reply_timers(system, clock):
    ticket = open_case(system)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    system.bus.handle(c.RecordContact(ticket, "li"))
    system.bus.handle(c.RequestExtension(ticket, "li", until=NOW + timedelta(days=5), reason="换管道"))
    system.bus.handle(c.DecideExtension(ticket, "center-zhao", approve=True))
    clock.at(hours=25)  # past the first reply deadline (24 h)
    sweep(system.engine, system.bus, clock)
    assert [e for e in fired(system) if e[1] == "reply"] == []
    clock.at(days=5, minutes=1)
    sweep(system.engine, system.bus, clock)
    assert ("jiesu.sla.breached", "reply", None) in fired(system)


def test_two_sweepers_at_once_fire_each_timer_once(system, clock):
    for n in range(5):
        open_case(system, f"BJ{n}")
    clock.at(hours=30)  # everything is due
    looked: set[int] = set()
    # both sweepers found the same timers due; each timer taken plans the next step of its ladder
    while ids := [i for i in due_timers(system.engine, clock(), 1000) if i not in looked]:

        def fire_all(ids: list[int] = ids) -> None:
            for timer_id in ids:
                system.bus.handle(c.FireTimers((timer_id,)))

        threads = [threading.Thread(target=fire_all) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        looked.update(ids)
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.outbox.c.key, t.outbox.c.headers, t.outbox.c.value)).all()
    sla_events = [
        (
            key,
            dict(decode_headers(headers))["ce_type"],
            json.loads(value).get("stage"),
            json.loads(value).get("level"),
        )
        for key, headers, value in rows
        if dict(decode_headers(headers))["ce_type"].startswith((b"jiesu.sla.", b"jiesu.case.escalated"))
    ]
    assert sla_events and len(sla_events) == len(set(sla_events))  # nothing published twice
    with system.engine.connect() as connection:
        audit = list(
            connection.execute(select(t.audit.c.ticket_id, t.audit.c.action, t.audit.c.reason)).all()
        )
    escalations = [row for row in audit if row.action in ("sla_warning", "sla_breach", "escalate")]
    assert len(escalations) == len(set(escalations))
    # 5 cases x 3 stages: reply breach at 24 h plus its warning; acknowledge and contact: warning, breach,
    # and levels 2 and 3 (2 h apart) all due by 30 h
    assert len([r for r in escalations if r.action == "sla_breach"]) == 15


def test_a_crash_in_the_middle_of_firing_loses_nothing_and_duplicates_nothing(system, clock, monkeypatch):
    open_case(system)
    clock.at(minutes=45)
    real_mark = SqlTimers.mark

    def crash(self, timer_id, status, at):  # the process dies after the events, before the commit
        raise RuntimeError("killed")

    monkeypatch.setattr(SqlTimers, "mark", crash)
    sweep(system.engine, system.bus, clock)  # logged, the timer stays pending
    assert fired(system) == []
    monkeypatch.setattr(SqlTimers, "mark", real_mark)
    sweep(system.engine, system.bus, clock)
    assert fired(system) == [("jiesu.sla.warning", "acknowledge", None)]


def test_supervisors_list_the_open_escalations_by_level_and_unit(system, clock, monkeypatch):
    open_case(system, "BJ-A")
    done = open_case(system, "BJ-B")
    clock.at(hours=3, minutes=5)  # acknowledge: breach (level 1) at 11:00, level 2 at 13:00
    sweep(system.engine, system.bus, clock)
    for command in (
        c.AcknowledgeCase(done, "li"),
        c.RecordContact(done, "li"),
        c.ResolveCase(done, "li", result="好了"),
    ):
        system.bus.handle(command)

    open_ones = latest_escalations(system.engine)
    assert {(e.ticket_id, e.stage, e.level) for e in open_ones} >= {
        ("BJ-A", "acknowledge", 1),
        ("BJ-A", "acknowledge", 2),
    }
    assert all(e.ticket_id == "BJ-A" and e.unit == "ent-heating" for e in open_ones)
    assert {e.level for e in latest_escalations(system.engine, level=2)} == {2}
    assert {e.ticket_id for e in latest_escalations(system.engine, open_only=False)} == {"BJ-A", "BJ-B"}
    assert latest_escalations(system.engine, unit="ent-heating-b") == []

    for name, value in {"JIESU_DATABASE_URL": system.settings.database_url}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["escalations", "--level", "1"])
    assert result.exit_code == 0, result.output
    assert "L1  BJ-A" in result.output and "ent-heating:post_supervisor" in result.output
    assert "BJ-B" not in result.output


def test_one_timer_that_cannot_fire_holds_back_no_other(system, clock, monkeypatch):
    for ticket in ("BJ-OK1", "BJ-BAD", "BJ-OK2"):
        open_case(system, ticket)
    clock.at(minutes=45)
    real = Case.fire_timer

    def broken_for_one(self, *args, **kwargs):
        if self.ticket_id == "BJ-BAD":
            raise RuntimeError("a broken case")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Case, "fire_timer", broken_for_one)
    sweep(system.engine, system.bus, clock)
    with system.engine.connect() as connection:
        status = dict(
            connection.execute(
                select(t.sla_timers.c.ticket_id, t.sla_timers.c.status).where(
                    t.sla_timers.c.kind == "warning", t.sla_timers.c.stage == "acknowledge"
                )
            ).all()
        )
    assert status == {"BJ-OK1": "fired", "BJ-BAD": "pending", "BJ-OK2": "fired"}


def return_and_reject_after_three_hours(system: System, clock: Clock) -> str:
    ticket = open_case(system)  # acknowledge due at 11:00, contact at 12:00
    clock.at(minutes=10)
    system.bus.handle(c.ReturnCase(ticket, "li", code="wrong_area", reason="不在我们辖区"))
    clock.at(hours=3, minutes=10)
    system.bus.handle(c.Arbitrate(ticket, "center-zhao", decision="reject", reason="在辖区内"))
    return ticket


def test_the_clock_stands_still_while_a_return_waits_for_arbitration(system, clock):
    ticket = return_and_reject_after_three_hours(system, clock)
    with system.engine.connect() as connection:
        rows = connection.execute(
            select(t.deadlines.c.stage, t.deadlines.c.due_at, t.deadlines.c.how).where(
                t.deadlines.c.ticket_id == ticket
            )
        ).all()
    due = {row.stage: row.due_at for row in rows}
    assert due["acknowledge"] == NOW + timedelta(hours=4)  # 1 h + the 3 h it waited
    assert due["contact"] == NOW + timedelta(hours=5)
    how = {row.stage: row.how for row in rows}["acknowledge"]
    assert "paused 3 h 00 min in arbitration (11-26 10:10..11-26 13:10)" in how
    clock.at(hours=3, minutes=15)
    sweep(system.engine, system.bus, clock)
    assert ("jiesu.sla.breached", "acknowledge", None) not in fired(system)
    clock.at(hours=4, minutes=1)
    sweep(system.engine, system.bus, clock)
    assert ("jiesu.sla.breached", "acknowledge", None) in fired(system)


def test_without_the_pause_a_rejected_return_finds_its_deadlines_passed(database_url, tmp_path, clock):
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text("pause_in_arbitration: false\n", encoding="utf-8")
    settings = Settings(
        database_url=database_url, catalog_dir=write_catalog(tmp_path / "catalog"), sla_file=sla_file
    )
    system = bootstrap(settings, clock=clock)
    return_and_reject_after_three_hours(system, clock)
    sweep(system.engine, system.bus, clock)  # nothing was missed while it waited: it fires now
    assert ("jiesu.sla.breached", "acknowledge", None) in fired(system)
    assert ("jiesu.sla.breached", "contact", None) in fired(system)
