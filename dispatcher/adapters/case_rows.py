"""A case to and from its rows: `cases` (state, deadlines, pending requests), `assignments` and
`deadlines`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import with_lists
from dispatcher.domain.callbacks import Callback, Satisfaction
from dispatcher.domain.case import Case, CaseState, PendingExtension, PendingReturn, ReturnReason
from dispatcher.domain.joint import CoHandler
from dispatcher.domain.pause import Pause, PauseReason
from dispatcher.domain.states import Merge
from rules.complaint import Complaint, Location, Requester, Urgency
from rules.decision import Assignment

SELECT_CASES = with_lists(lambda among: select(t.cases).where(among(t.cases.c.ticket_id, "tickets")))
SELECT_ASSIGNMENTS = with_lists(
    lambda among: select(t.assignments).where(
        among(t.assignments.c.ticket_id, "tickets"), t.assignments.c.current.is_(True)
    )
)
SELECT_DEADLINES = with_lists(
    lambda among: select(
        t.deadlines.c.ticket_id,
        t.deadlines.c.stage,
        t.deadlines.c.due_at,
        t.deadlines.c.status,
        t.deadlines.c.fired_at,
        t.deadlines.c.how,
    ).where(among(t.deadlines.c.ticket_id, "tickets"))
)


def read_cases(connection: Connection, tickets: list[str]) -> list[Case]:
    """These cases as stored (those that exist), with their assignments and deadlines: three queries."""
    wanted = {"tickets": tickets}
    rows = connection.execute(SELECT_CASES.on(connection), wanted).mappings().all()
    if not rows:
        return []
    assignments = {
        row["ticket_id"]: row
        for row in connection.execute(SELECT_ASSIGNMENTS.on(connection), wanted).mappings()
    }
    deadlines: dict[str, list[Row[Any]]] = {}
    for deadline in connection.execute(SELECT_DEADLINES.on(connection), wanted):
        deadlines.setdefault(deadline.ticket_id, []).append(deadline)
    cases = []
    for row in rows:
        case = case_of(row, assignments.get(row["ticket_id"]))
        stages = deadlines.get(case.ticket_id, [])
        case.deadlines = {stage.stage: stage.due_at for stage in stages}
        case.met = {stage.stage: stage.fired_at for stage in stages if stage.status == "met"}
        case.how = {stage.stage: stage.how for stage in stages if stage.how}
        cases.append(case)
    return cases


def fields_of(flat: Any) -> dict[str, Any]:
    """A dataclass's fields by name, as `dataclasses.asdict` gives them for one whose values are plain
    (text, numbers, times, tuples of text): the values themselves, where `asdict` copies each deeply (some
    16 µs for a new case's rows, 3% of the intake's time per request)."""
    return dict(vars(flat))


def assignment_values(assignment: Assignment) -> dict[str, Any]:
    return {**fields_of(assignment), "co_handlers": list(assignment.co_handlers)}


def assignment_of(row: RowMapping | dict[str, Any]) -> Assignment:
    return Assignment(
        row["unit"],
        row["post"],
        row["person"],
        row["rule"],
        row["catalog_version"],
        row["reason"],
        tuple(row["co_handlers"]),
    )


def _return_values(pending: PendingReturn | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {
        "by": pending.by,
        "at": pending.at.isoformat(),
        "code": pending.code.value,
        "reason": pending.reason,
        "back_to": pending.back_to.value,
        "proposal": assignment_values(pending.proposal) if pending.proposal else None,
    }


def return_of(data: dict[str, Any] | None) -> PendingReturn | None:
    if not data:
        return None
    proposal = assignment_of(data["proposal"]) if data.get("proposal") else None
    return PendingReturn(
        data["by"],
        datetime.fromisoformat(data["at"]),
        ReturnReason(data["code"]),
        data["reason"],
        CaseState(data["back_to"]),
        proposal,
    )


def _extension_values(pending: PendingExtension | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {
        "by": pending.by,
        "at": pending.at.isoformat(),
        "until": pending.until.isoformat(),
        "reason": pending.reason,
    }


def extension_of(data: dict[str, Any] | None) -> PendingExtension | None:
    if not data:
        return None
    return PendingExtension(
        data["by"], datetime.fromisoformat(data["at"]), datetime.fromisoformat(data["until"]), data["reason"]
    )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


_CO_MOMENTS = ("acknowledged_at", "reported_at", "called_at", "acknowledge_due", "report_due", "waived_at")


def _co_handler_values(co_handlers: dict[str, CoHandler]) -> dict[str, Any]:
    """Stored as JSON: the moments in ISO 8601; the fields at their default (a catalog co-handler's
    call, deadlines, waiver) are left out, so such a co-handler keeps the form it always had."""
    stored = {}
    for unit, co in co_handlers.items():
        values = {
            name: value
            for name, value in fields_of(co).items()
            if name in _CATALOG_FIELDS or value != getattr(_BARE, name)
        }
        for name in _CO_MOMENTS:
            if name in values:
                moment = values[name]
                values[name] = moment.isoformat() if moment else None
        stored[unit] = values
    return stored


_BARE = CoHandler("")
_CATALOG_FIELDS = ("unit", "acknowledged_by", "acknowledged_at", "report", "reported_by", "reported_at")


def _co_handlers_of(data: dict[str, Any] | None) -> dict[str, CoHandler]:
    return {
        unit: CoHandler(**{**co, **{name: _moment(co.get(name)) for name in _CO_MOMENTS if name in co}})
        for unit, co in (data or {}).items()
    }


def state_values(case: Case) -> dict[str, Any]:
    """The columns an action may change."""
    return {
        "state": case.state.value,
        "lead_unit": case.assignment.unit if case.assignment else None,
        "urgency": case.urgency.value,
        "category": case.category,
        "queue": case.queue,
        "dispatched_at": case.dispatched_at,
        "reply_due": case.reply_due,
        "result": case.result,
        "pending_return": _return_values(case.pending_return),
        "pending_extension": _extension_values(case.pending_extension),
        "co_handlers": _co_handler_values(case.co_handlers),
        "round": case.round,
        "callback": _callback_values(case.callback),
        "terminated": case.terminated,
        "merged_into": case.merged.into if case.merged else None,
        "merged": _merge_values(case.merged),
        "pause": _pause_values(case.pause),
        "paused": case.pause.status.value if case.pause else None,
    }


def _merge_values(merge: Merge | None) -> dict[str, Any] | None:
    if merge is None:
        return None
    return {**vars(merge), "at": merge.at.isoformat(), "back_to": merge.back_to.value}


def _merge_of(data: dict[str, Any] | None) -> Merge | None:
    if not data:
        return None
    return Merge(**{**data, "at": datetime.fromisoformat(data["at"]), "back_to": CaseState(data["back_to"])})


def _pause_values(pause: Pause | None) -> dict[str, Any] | None:
    if pause is None:
        return None
    return {
        "by": pause.by,
        "at": pause.at.isoformat(),
        "code": pause.code.value,
        "reason": pause.reason,
        "until": pause.until.isoformat() if pause.until else None,
        "approved_by": pause.approved_by,
        "since": pause.since.isoformat() if pause.since else None,
    }


def pause_of(data: dict[str, Any] | None) -> Pause | None:
    if not data:
        return None
    return Pause(
        data["by"],
        datetime.fromisoformat(data["at"]),
        PauseReason(data["code"]),
        data["reason"],
        _moment(data["until"]),
        data["approved_by"],
        _moment(data["since"]),
    )


def _callback_values(callback: Callback | None) -> dict[str, Any] | None:
    if callback is None:
        return None
    return {**vars(callback), "recorded_at": callback.recorded_at.isoformat()}


def _callback_of(data: dict[str, Any] | None) -> Callback | None:
    if not data:
        return None
    return Callback(
        **{
            **data,
            "recorded_at": datetime.fromisoformat(data["recorded_at"]),
            "satisfaction": Satisfaction(data["satisfaction"]),
        }
    )


def case_values(case: Case) -> dict[str, Any]:
    complaint = case.complaint
    return {
        "ticket_id": case.ticket_id,
        "channel": complaint.channel,
        "kind": complaint.kind,
        "description": complaint.description,
        "location": fields_of(complaint.location),
        "requester": fields_of(complaint.requester),
        "attachments": list(complaint.attachments),
        "related_ticket_id": complaint.related_ticket_id,
        "received_at": complaint.received_at,
        "requester_phone": complaint.requester.phone,
        "district": case.district,
        "street": case.street,
        "community": case.community,
        "linked_to": case.linked_to,
        "knowledge_entry": case.knowledge_entry,
        "version": case.version,
        **state_values(case),
    }


def complaint_of(row: RowMapping) -> Complaint:
    requester = dict(row["requester"])
    requester["groups"] = tuple(requester.get("groups", ()))
    return Complaint(
        ticket_id=row["ticket_id"],
        received_at=row["received_at"],
        channel=row["channel"],
        kind=row["kind"],
        description=row["description"],
        category=row["category"],
        urgency=Urgency(row["urgency"]),
        location=Location(**row["location"]),
        requester=Requester(**requester),
        attachments=tuple(row["attachments"]),
        related_ticket_id=row["related_ticket_id"],
    )


def case_of(row: RowMapping, assignment: RowMapping | None) -> Case:
    return Case(
        complaint=complaint_of(row),
        state=CaseState(row["state"]),
        urgency=Urgency(row["urgency"]),
        category=row["category"],
        assignment=assignment_of(assignment) if assignment else None,
        queue=row["queue"],
        dispatched_at=row["dispatched_at"],
        # the reply deadline is kept on the case row too; the repository loads every stage's deadline
        deadlines={"reply": row["reply_due"]} if row["reply_due"] else {},
        pending_return=return_of(row["pending_return"]),
        pending_extension=extension_of(row["pending_extension"]),
        co_handlers=_co_handlers_of(row["co_handlers"]),
        result=row["result"],
        district=row["district"],
        street=row["street"],
        community=row["community"],
        linked_to=row["linked_to"],
        round=row["round"],
        callback=_callback_of(row["callback"]),
        terminated=row["terminated"],
        knowledge_entry=row.get("knowledge_entry"),
        merged=_merge_of(row.get("merged")),
        pause=pause_of(row.get("pause")),
        version=row["version"],
    )
