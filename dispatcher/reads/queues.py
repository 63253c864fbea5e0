"""The center's queues and the dashboard's case panels: cases waiting for triage (manual dispatch), returns
waiting for arbitration, open emergencies, extension requests waiting for a decision. Each is the visible
cases in one state (or a few), oldest dispatch first, a page at a time: `ix_cases_district_state_dispatched`
for a district, `ix_cases_state_dispatched` for the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from dispatcher.domain.access import Visible
from dispatcher.domain.case import CaseState
from dispatcher.domain.states import ALLOWED, values_of
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.cases import return_view
from dispatcher.reads.paging import Page
from rules.complaint import Urgency

TRIAGE, ARBITRATION, EMERGENCIES, EXTENSIONS = (
    r.keyset(order) for order in ("triage", "arbitration", "emergencies", "extensions")
)
PAGE = 100
WAITING_FOR_EXTENSION = values_of(ALLOWED["extension_decision"])


def triage_queue(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = PAGE, cursor: str | None = None
) -> Page[v.CaseSummary]:
    """Cases waiting at the center for manual dispatch or triage, with their queue."""
    where = [r.K.state == CaseState.QUEUED.value]
    return r.summaries(r.case_page(engine, TRIAGE, where, visible, limit, cursor), now, visible)


def arbitration_queue(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = PAGE, cursor: str | None = None
) -> Page[v.ReturnedCase]:
    """Returned cases (退单) awaiting the center's decision, with the return and the rules' proposal."""
    where = [r.K.state == CaseState.RETURNED.value, r.has(r.K.pending_return)]
    page = r.case_page(engine, ARBITRATION, where, visible, limit, cursor)
    return Page(
        [
            v.ReturnedCase(
                **r.summary(case, now).model_dump(), pending_return=return_view(case.pending_return)
            )
            for case in page.items
            if case.pending_return is not None
        ],
        page.next,
    )


def open_emergencies(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = 50, cursor: str | None = None
) -> Page[v.CaseSummary]:
    """Emergency-tier cases not yet resolved, oldest first: the dashboard shows them above everything."""
    where = [r.K.urgency == Urgency.EMERGENCY.value, r.K.state.in_(r.NOT_DONE)]
    page = r.case_page(engine, EMERGENCIES, where, visible, limit, cursor)
    return page.map(lambda case: r.summary(case, now))


@dataclass(frozen=True)
class ExtensionRequest:
    ticket_id: str
    until: str
    reason: str
    reply_due: datetime | None


def pending_extensions(
    engine: Engine, *, visible: Visible, limit: int = 50, cursor: str | None = None
) -> Page[ExtensionRequest]:
    """Extension requests (延期) waiting for a supervisor's decision, oldest dispatch first."""
    where = [r.K.state.in_(WAITING_FOR_EXTENSION), r.has(r.K.pending_extension)]
    page = r.case_page(engine, EXTENSIONS, where, visible, limit, cursor)
    return Page(
        [
            ExtensionRequest(
                case.ticket_id,
                case.pending_extension.until.isoformat(),
                case.pending_extension.reason,
                case.reply_due,
            )
            for case in page.items
            if case.pending_extension is not None
        ],
        page.next,
    )
