"""The assessment over HTTP, on SQLite and PostgreSQL: scores, their breakdown, appeals, the ranking (JSON
and CSV), termination and review closing, each refused with a clear status when it must be."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from dispatcher.domain import commands as c
from tests.integration.test_api import ok, open_case
from tests.support.clock import NOW


def called_back(
    system, clock, ticket: str = "BJ1", satisfaction: str = "satisfied", resolved: bool = True
) -> str:
    open_case(system, ticket)
    for command in (
        c.AcknowledgeCase(ticket, "li"),
        c.RecordContact(ticket, "li"),
        c.ResolveCase(ticket, "li", result="已修复"),
    ):
        system.bus.handle(command)
    clock.now = NOW + timedelta(hours=30)
    system.bus.handle(
        c.RecordCallback(
            ticket,
            "center",
            recorded_at=clock.now,
            contacted=True,
            resolved=resolved,
            satisfaction=satisfaction,
        )
    )
    return ticket


def test_scores_and_their_breakdown_say_how_the_rates_were_computed(system, clock, zhao):
    called_back(system, clock, "BJ1", "satisfied")
    called_back(system, clock, "BJ2", "basically_satisfied")
    [row] = ok(zhao.get("/api/scores", params={"month": "2026-11"}))
    assert (row["key"], row["unit_class"], row["valid_callbacks"]) == ("ent-heating", "enterprise", 2)
    assert row["satisfaction_rate"] == 0.95  # (1 + 0.9 × 1) / 2
    assert row["composite"] == 0.98  # 0.1 × 1 + 0.5 × 1 + 0.4 × 0.95
    assert row["secondary"] == {
        "received": 2,
        "overdue": 0,
        "rejected_returns": 0,
        "extensions": 0,
        "co_handled": 0,
        "co_overdue": 0,
    }
    by_person = ok(zhao.get("/api/scores", params={"month": "2026-11", "group": "post"}))
    assert [found["key"] for found in by_person] == ["ent-heating:dispatch"]

    breakdown = ok(zhao.get("/api/scores/ent-heating/2026-11/breakdown"))
    assert [line["ticket_id"] for line in breakdown["callbacks"]] == ["BJ1", "BJ2"]
    assert all(line["counted"] for line in breakdown["callbacks"])
    assert any("0.9" in line and "basically" in line for line in breakdown["arithmetic"])


def test_an_accepted_appeal_takes_the_callback_out_of_the_units_base(system, clock, as_, zhao, li):
    called_back(system, clock, "BJ1", "unsatisfied", resolved=False)
    [line] = ok(zhao.get("/api/scores/ent-heating/2026-11/breakdown"))["callbacks"]

    refused = as_("zhou").post(f"/api/callbacks/{line['id']}/appeal", json={"reason": "不是我们的"})
    assert refused.status_code == 403 and "counts for ent-heating" in refused.json()["detail"]
    filed = li.post(f"/api/callbacks/{line['id']}/appeal", json={"reason": "诉求人拒绝维修人员入户"})
    assert filed.status_code == 201 and filed.json()["status"] == "pending"
    appeal = filed.json()["id"]
    assert li.post(f"/api/appeals/{appeal}/decision", json={"accept": True, "reason": "x"}).status_code == 403
    assert [found["id"] for found in ok(zhao.get("/api/appeals", params={"status": "pending"}))] == [appeal]

    decided = ok(zhao.post(f"/api/appeals/{appeal}/decision", json={"accept": True, "reason": "核实属实"}))
    assert (decided["status"], decided["decided_by"]) == ("accepted", "zhao")
    assert ok(zhao.get("/api/scores", params={"month": "2026-11"})) == []
    [line] = ok(zhao.get("/api/scores/ent-heating/2026-11/breakdown"))["callbacks"]
    assert line["excluded"] == "appeal accepted: 核实属实"
    again = zhao.post(f"/api/appeals/{appeal}/decision", json={"accept": False, "reason": "改判"})
    assert again.status_code == 422 and "already accepted" in again.json()["detail"]


def test_the_ranking_comes_as_json_and_as_a_csv_a_spreadsheet_opens(system, clock, zhao):
    called_back(system, clock, "BJ1", "satisfied")
    [row] = ok(zhao.get("/api/rankings", params={"month": "2026-11", "class": "enterprise"}))
    assert (row["rank"], row["unit"], row["bottom_ten"], row["previous_rank"]) == (
        1,
        "ent-heating",
        True,
        None,
    )
    response = zhao.get("/api/rankings", params={"month": "2026-11", "class": "enterprise", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "ranking-enterprise-2026-11.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    header, first = list(csv.reader(io.StringIO(text[1:])))[:2]
    assert (
        header[header.index("单位(unit)")] == "单位(unit)"
        and first[header.index("单位(unit)")] == "ent-heating"
    )
    assert ok(zhao.get("/api/rankings", params={"month": "2026-10", "class": "enterprise"})) == []


def test_bad_score_requests_get_a_message(zhao):
    no_period = zhao.get("/api/scores")
    assert no_period.status_code == 422 and "give a month" in no_period.json()["detail"]
    assert zhao.get("/api/scores", params={"month": "2026-13"}).status_code == 422
    assert zhao.get("/api/rankings", params={"month": "2026-11", "class": "planet"}).status_code == 422


def test_supervisors_terminate_with_a_reason_and_close_only_what_review_holds(system, clock, zhao, li):
    ticket = called_back(system, clock, "BJ1", "satisfied")
    closed = zhao.post(f"/api/cases/{ticket}/close", json={"reason": "复核"})
    assert closed.status_code == 409 and "callback review" in closed.json()["detail"]
    open_case(system, "BJ2")
    assert zhao.post("/api/cases/BJ2/terminate", json={"reason": ""}).status_code == 422
    assert li.post("/api/cases/BJ2/terminate", json={"reason": "无理诉求"}).status_code == 403
    view = ok(zhao.post("/api/cases/BJ2/terminate", json={"reason": "重复恶意诉求"}))
    assert view["state"] == "closed"
