"""并案 on SQLite and PostgreSQL: a supervisor merges the cases about one incident into a main case over
HTTP, the CLI and the case page; merged cases leave the units' lists, their timers stand down, they are
resolved with the main case at its unit and each requester's callback counts there; an un-merge restores
the case; the rules merge a burst when told to; every step is in the audit trail and the outbox."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from dispatcher.adapters import tables as t
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.reads.inbox import inbox
from dispatcher.settings import Settings
from jiesu.cli.main import app as cli
from jiesu.web.app import create_app
from tests.integration.test_api import ok, open_case, refused
from tests.integration.test_batches import ROUTED, apply_in_one_go, at
from tests.integration.test_notifications import CATALOG_UNITS, notifications_for, plan_outbox, planned
from tests.integration.test_notifications import open_case as notified_case
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock
from tests.support.logins import add_people, csrf_of, logged_in


def outbox(system: System, ticket: str) -> list[tuple[str, dict[str, Any]]]:
    """The events queued for `jiesu.cases` about the ticket: (type, data), in order."""
    o = t.outbox.c
    with system.engine.connect() as connection:
        rows = connection.execute(select(o.headers, o.value).where(o.key == ticket.encode()).order_by(o.id))
        stored = rows.all()
    return [
        (base64.b64decode(dict(headers)["ce_type"]).decode(), json.loads(value)) for headers, value in stored
    ]


def timers(system: System, ticket: str) -> set[str]:
    with system.engine.connect() as connection:
        statuses = connection.execute(select(t.sla_timers.c.status).where(t.sla_timers.c.ticket_id == ticket))
        return set(statuses.scalars())


def trail(system: System, ticket: str) -> list[tuple[str, str]]:
    with system.engine.connect() as connection:
        rows = connection.execute(
            select(t.audit.c.action, t.audit.c.reason)
            .where(t.audit.c.ticket_id == ticket)
            .order_by(t.audit.c.id)
        ).all()
    return [(row.action, row.reason) for row in rows]


def test_a_supervisor_merges_a_burst_and_the_main_cases_resolution_calls_back_each_requester(
    system, clock, zhao, li
):
    main, second, third = (open_case(system, ticket) for ticket in ("BJ1", "BJ2", "BJ3"))

    view = ok(
        zhao.post(f"/api/cases/{main}/merge", json={"tickets": [second, third], "reason": "同一处爆管"})
    )

    assert [(m["ticket_id"], m["state"], m["merged_by"], m["auto"]) for m in view["merged"]] == [
        ("BJ2", "merged", "zhao", False),
        ("BJ3", "merged", "zhao", False),
    ]
    merged = ok(zhao.get(f"/api/cases/{second}"))
    assert (merged["state"], merged["merged_into"], merged["allowed_actions"]) == (
        "merged",
        "BJ1",
        ["unmerge"],
    )
    in_hand = inbox(system.engine, now=NOW, visible=Visible(unit="ent-heating")).items
    assert [row.case.ticket_id for row in in_hand] == ["BJ1"]  # one matter in the unit's inbox
    assert timers(system, second) == {"cancelled"} and timers(system, main) == {"pending"}
    assert ("merge_in", "BJ2 merged in: 同一处爆管") in trail(system, main)
    [(_, data)] = [event for event in outbox(system, second) if event[0] == "jiesu.case.merged"]
    assert (data["main_ticket_id"], data["by"], data["state_before"]) == ("BJ1", "zhao", "dispatched")
    # sent again: nothing changes
    assert (
        len(ok(zhao.post(f"/api/cases/{main}/merge", json={"tickets": [second], "reason": "x"}))["merged"])
        == 2
    )

    for command in (c.AcknowledgeCase(main, "li"), c.RecordContact(main, "li")):
        system.bus.handle(command)
    system.bus.handle(c.ResolveCase(main, "li", result="抢修完毕，已恢复供水"))

    for ticket in (second, third):
        case = ok(zhao.get(f"/api/cases/{ticket}"))
        assert (case["state"], case["result"], case["assignment"]["unit"]) == (
            "resolved",
            "抢修完毕，已恢复供水",
            "ent-heating",
        )
        resolved = [data for kind, data in outbox(system, ticket) if kind == "jiesu.case.resolved"]
        assert [data["note"] for data in resolved] == ["resolved with main case BJ1"]
    clock.now = NOW + timedelta(hours=30)
    for ticket, satisfaction in ((main, "satisfied"), (second, "satisfied"), (third, "unsatisfied")):
        system.bus.handle(
            c.RecordCallback(
                ticket,
                "center",
                recorded_at=clock.now,
                contacted=True,
                resolved=True,
                satisfaction=satisfaction,
            )
        )
    [row] = ok(zhao.get("/api/scores", params={"month": "2026-11"}))
    assert (row["key"], row["valid_callbacks"], row["satisfied"]) == ("ent-heating", 3, 2)
    assert refused(zhao.post(f"/api/cases/{second}/unmerge", json={"reason": "x"}), 409)


def test_an_unmerge_gives_the_case_back_to_its_unit_with_its_timers(system, clock, zhao):
    main, other = open_case(system, "BJ1"), open_case(system, "BJ2")
    ok(zhao.post(f"/api/cases/{main}/merge", json={"tickets": [other], "reason": "同一处爆管"}))
    due = ok(zhao.get(f"/api/cases/{other}"))["deadlines"]["reply"]["due_at"]
    clock.now = NOW + timedelta(minutes=30)

    view = ok(zhao.post(f"/api/cases/{other}/unmerge", json={"reason": "不是同一处"}))

    assert (view["state"], view["merged_into"], view["assignment"]["unit"]) == (
        "dispatched",
        None,
        "ent-heating",
    )
    assert view["deadlines"]["reply"]["due_at"] > due  # moved by the half hour it was merged
    assert "pending" in timers(system, other)
    assert ok(zhao.get(f"/api/cases/{main}"))["merged"] == []
    assert [kind for kind, _ in outbox(system, other)][-1] == "jiesu.case.unmerged"
    assert ("merge_out", "BJ2 un-merged: 不是同一处") in trail(system, main)


def test_a_merge_is_all_or_nothing_and_only_a_supervisor_within_scope_merges(system, as_, zhao, li):
    main, other = open_case(system, "BJ1"), open_case(system, "BJ2")

    assert "no case with ticket id NOPE" in refused(
        zhao.post(f"/api/cases/{main}/merge", json={"tickets": [other, "NOPE"], "reason": "x"}), 404
    )
    assert ok(zhao.get(f"/api/cases/{other}"))["state"] == "dispatched"  # nothing merged
    assert refused(li.post(f"/api/cases/{main}/merge", json={"tickets": [other], "reason": "x"}), 403)
    assert "outside the scope of haidian" in refused(
        as_("haidian").post(f"/api/cases/{main}/merge", json={"tickets": [other], "reason": "x"}), 403
    )
    assert "cannot be merged into itself" in refused(
        zhao.post(f"/api/cases/{main}/merge", json={"tickets": [main], "reason": "x"}), 422
    )
    assert refused(zhao.post(f"/api/cases/{main}/merge", json={"tickets": [], "reason": "x"}), 422)
    ok(zhao.post(f"/api/cases/{main}/merge", json={"tickets": [other], "reason": "x"}))
    third = open_case(system, "BJ3")
    assert "main case of merged cases" in refused(
        zhao.post(f"/api/cases/{third}/merge", json={"tickets": [main], "reason": "x"}), 422
    )
    assert refused(zhao.post(f"/api/cases/{third}/unmerge", json={"reason": "x"}), 409)


def test_the_main_cases_termination_ends_its_merged_cases(system, zhao):
    main, other = open_case(system, "BJ1"), open_case(system, "BJ2")
    ok(zhao.post(f"/api/cases/{main}/merge", json={"tickets": [other], "reason": "同一处爆管"}))
    ok(zhao.post(f"/api/cases/{main}/terminate", json={"reason": "诉求人要求不合理"}))
    assert ok(zhao.get(f"/api/cases/{other}"))["state"] == "closed"
    [closed] = [data for kind, data in outbox(system, other) if kind == "jiesu.case.closed"]
    assert (closed["how"], closed["counted"]) == ("terminated", False)


def test_the_rules_merge_a_burst_at_one_place_when_told_to(database_url: str, tmp_path: Path):
    clock = Clock()
    settings = Settings(
        database_url=database_url, catalog_dir=write_catalog(tmp_path / "catalog"), merge_window_minutes=30
    )
    system = bootstrap(settings, clock=clock)
    try:
        main = open_case(system, "BJ1", received_at=NOW)
        burst = open_case(system, "BJ2", received_at=NOW + timedelta(minutes=25))
        elsewhere = open_case(
            system,
            "BJ3",
            received_at=NOW + timedelta(minutes=25),
            location={"district": "朝阳区", "street": "八里庄街道"},
        )
        later = open_case(system, "BJ4", received_at=NOW + timedelta(minutes=40))
        with system.engine.connect() as connection:
            rows = connection.execute(select(t.cases.c.ticket_id, t.cases.c.state, t.cases.c.merged_into))
            states = {row.ticket_id: (row.state, row.merged_into) for row in rows}
        assert states == {
            main: ("dispatched", None),
            burst: ("merged", "BJ1"),
            elsewhere: ("dispatched", None),
            later: ("dispatched", None),  # beyond the window of BJ1's receipt
        }
        [(_, reason)] = [entry for entry in trail(system, burst) if entry[0] == "merge"]
        assert reason.startswith(
            "into BJ1: burst: same street 110105010 and category 0101 within 30 min of BJ1"
        )
        assert timers(system, burst) == set()
        [(_, merged)] = [event for event in outbox(system, burst) if event[0] == "jiesu.case.merged"]
        assert (merged["by"], merged["auto"]) == ("jiesu", True)
    finally:
        system.engine.dispose()


def test_the_cli_merges_and_unmerges(system, monkeypatch):
    main, other = open_case(system, "BJ1"), open_case(system, "BJ2")
    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    monkeypatch.setenv("JIESU_CATALOG_DIR", str(system.settings.catalog_dir))
    runner = CliRunner()

    merged = runner.invoke(cli, ["case", "merge", main, other, "--as", "zhao", "--reason", "同一处爆管"])
    assert merged.exit_code == 0 and "BJ1: MergeCases by zhao done" in merged.output
    refused_again = runner.invoke(cli, ["case", "merge", other, main, "--as", "zhao"])
    assert refused_again.exit_code == 4 and "BJ2 is merged" in refused_again.output
    unmerged = runner.invoke(cli, ["case", "unmerge", other, "--as", "zhao"])
    assert unmerged.exit_code == 0
    assert trail(system, other)[-1][0] == "unmerge"
    assert trail(system, other)[-1][1].startswith("out of BJ1: not the same incident")


def test_the_case_page_merges_lists_the_merged_tickets_and_links_back(system):
    add_people(system, "zhao", "li")
    app = create_app(system.settings, system)
    main, other, third = open_case(system, "BJ1"), open_case(system, "BJ2"), open_case(system, "BJ3")
    zhao = logged_in(app, "zhao")
    assert 'id="merge-submit"' not in logged_in(app, "li").get(f"/cases/{main}").text  # a worker may not
    assert 'id="merge-submit"' in zhao.get(f"/cases/{main}").text

    done = zhao.post(
        f"/cases/{main}/merge",
        data={
            "tickets": f"{other}，{third}",
            "reason": "同一处爆管",
            "csrf": csrf_of(zhao.get(f"/cases/{main}").text),
        },
    )

    assert "已保存" in done.text
    page = zhao.get(f"/cases/{main}").text
    listed = page[page.index('id="merged"') :]
    assert 'href="/cases/BJ2"' in listed and 'href="/cases/BJ3"' in listed and "已并案" in listed
    merged_page = zhao.get(f"/cases/{other}").text
    assert 'id="merged-into"' in merged_page and 'href="/cases/BJ1"' in merged_page
    assert 'id="unmerge-submit"' in merged_page and "并入工单" in page  # the main case's timeline says it


def test_a_burst_applied_in_one_batch_merges_into_its_first_request(database_url: str, tmp_path: Path):
    settings = Settings(
        database_url=database_url, catalog_dir=write_catalog(tmp_path / "catalog"), merge_window_minutes=30
    )
    system = bootstrap(settings, clock=Clock())
    try:
        burst = [
            at(intake_record(make_complaint(ticket_id=f"BJ-B{n:03}", received_at=NOW, **ROUTED)), n)
            for n in range(5)
        ]
        apply_in_one_go(system, burst)
        with system.engine.connect() as connection:
            rows = connection.execute(select(t.cases.c.ticket_id, t.cases.c.state, t.cases.c.merged_into))
            states = {row.ticket_id: (row.state, row.merged_into) for row in rows}
        assert states == {
            "BJ-B000": ("dispatched", None),
            **{f"BJ-B{n:03}": ("merged", "BJ-B000") for n in range(1, 5)},
        }
        assert [action for action, _ in trail(system, "BJ-B000")].count("merge_in") == 4
    finally:
        system.engine.dispose()


def test_a_burst_merged_by_the_rules_tells_the_unit_once(database_url: str, tmp_path: Path):
    catalog = write_catalog(tmp_path / "catalog", units_yaml=CATALOG_UNITS)
    settings = Settings(database_url=database_url, catalog_dir=catalog, merge_window_minutes=30)
    clock = Clock()
    system = bootstrap(settings, clock=clock)
    try:
        notifications = notifications_for(system, clock, channels={"console": {}})
        for n in range(4):
            notified_case(system, f"BJ{n}", phone=f"1390000000{n}")
        plan_outbox(system, notifications)
        assert planned(system) == [("case.dispatched", "p1", "console")]  # BJ0's; not its three followers
    finally:
        system.engine.dispose()
