"""并案 by an open hotspot (`JIESU_MERGE_HOTSPOTS`): many callers about one incident in one street or
community are one matter for the unit. When a hotspot of a street or a community is detected, its open cases
at the main case's unit are merged into its first case (`merge_hotspot`, from `jiesu.hotspot.detected`,
applied once by its event id); while it stays open, a case of its area and category dispatched later to that
unit is merged into the same main case as it opens (`merge_into_open_hotspot`, in the dispatch). A case the
merge refuses (`merging.check_hotspot_merge`: not open, paused, the main case of others, at another unit)
stays apart, and the log says why."""

from __future__ import annotations

import logging
from datetime import datetime

from dispatcher.domain import commands as c
from dispatcher.domain import merging
from dispatcher.domain.case import SYSTEM, Case, CaseError
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.states import OPEN_STATES
from dispatcher.service.unit_of_work import CaseRepository, UnitOfWork
from sla.calendar import Clock

log = logging.getLogger(__name__)
MAX_CASES = 200  # merged for one hotspot, as a supervisor's merge takes at most (`merging.MAX_TICKETS`)


def merge_hotspot(command: c.MergeHotspot, *, uow: UnitOfWork, clock: Clock) -> list[str]:
    """Merge the detected hotspot's open cases into its main case, in one transaction with the inbox
    entry of its event: a redelivery, or a restart before the offset is committed, merges nothing twice.
    A hotspot closed by the time its event is read merges nothing. Returns the tickets merged."""
    hotspot, merged = command.hotspot, []
    with uow:
        if uow.inbox.seen(command.inbound):
            return []
        still_open = any(
            h.hotspot_id == hotspot.hotspot_id for h in uow.cases.open_hotspots_at(hotspot.street)
        )
        main = _main_case(uow.cases, hotspot) if hotspot.street is not None and still_open else None
        if hotspot.street is None:
            log.info("hotspot %s is a district's: nothing is merged", hotspot.hotspot_id)
        elif not still_open:  # read long after (the setting turned on over a history): its time is past
            log.info("hotspot %s is closed by now: nothing is merged", hotspot.hotspot_id)
        elif main is None or main.state not in OPEN_STATES:
            state = main.state.value if main else "not found"
            log.info(
                "hotspot %s: no open main case (%s: %s)", hotspot.hotspot_id, hotspot.first_ticket_id, state
            )
        else:
            now, why = clock(), merging.hotspot_reason(hotspot, main)
            for case in uow.cases.in_hotspot(hotspot, MAX_CASES):
                if case.ticket_id != main.ticket_id and _merged(uow.cases, hotspot, main, case, now, why):
                    merged.append(case.ticket_id)
        uow.inbox.record(command.inbound)
        uow.commit()
    if merged:
        log.info(
            "hotspot %s: %d cases merged into %s", hotspot.hotspot_id, len(merged), main and main.ticket_id
        )
    return merged


def merge_into_open_hotspot(cases: CaseRepository, case: Case, now: datetime) -> bool:
    """A case just opened: merged into the main case of an open hotspot whose area and category hold it,
    if that main case is open and at the same unit (the first such hotspot that takes it)."""
    for hotspot in cases.open_hotspots_at(case.street):
        if not merging.hotspot_holds(hotspot, case.street, case.community, case.category):
            continue
        main = _main_case(cases, hotspot)
        if main is None:
            log.info("hotspot %s: %s stays apart: no main case", hotspot.hotspot_id, case.ticket_id)
            continue
        if _merged(cases, hotspot, main, case, now, merging.hotspot_reason(hotspot, main), new=True):
            return True
    return False


def _main_case(cases: CaseRepository, hotspot: Hotspot) -> Case | None:
    first = cases.get(hotspot.first_ticket_id) if hotspot.first_ticket_id else None
    main = merging.hotspot_main(hotspot, first)
    return cases.get(main) if main else None


def _merged(
    cases: CaseRepository,
    hotspot: Hotspot,
    main: Case,
    case: Case,
    now: datetime,
    why: str,
    new: bool = False,
) -> bool:
    has_merged = False if new else bool(cases.merged_with(case.ticket_id))
    try:
        merging.check_hotspot_merge(main, case, has_merged)
        merging.merge(main, case, SYSTEM, now, why, auto=True, has_merged=has_merged)
    except CaseError as error:
        log.info(
            "hotspot %s: %s stays apart from %s: %s",
            hotspot.hotspot_id,
            case.ticket_id,
            main.ticket_id,
            error,
        )
        return False
    return True
