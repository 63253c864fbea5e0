"""Which callbacks count and who may appeal (申诉): the domain's rules and the handlers that apply them, with
fakes of our own ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.domain import commands as c
from dispatcher.domain.callbacks import (
    Appeal,
    AppealedCallback,
    AppealStatus,
    Callback,
    Satisfaction,
    check_appellant,
)
from dispatcher.domain.case import Case, NotAllowedError
from dispatcher.service.closed_loop import decide_appeal, file_appeal
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from rules.complaint import Complaint, Urgency
from rules.decision import Assignment, Decision
from tests.support.fakes import FakeOutbox, FakeUnitOfWork

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
HEATING = Assignment("ent-heating", "dispatch", "li", "heating", "v1", "供热")


def callback(valid: bool = True) -> Callback:
    return Callback(1, NOW, True, False, Satisfaction.UNSATISFIED, valid)


def a_case() -> Case:
    complaint = Complaint("BJ1", NOW - timedelta(days=2), "phone", "complaint", "暖气不热")
    return Case.open(complaint, Decision(Urgency.GENERAL, "030101", assignment=HEATING), at=NOW)


def test_a_valid_callback_of_a_case_not_terminated_counts():
    case = a_case()
    assert case.counts(callback())
    assert not case.counts(callback(valid=False))
    case.terminated = "诉求超出政策范围"
    assert not case.counts(callback())


def test_only_the_unit_a_callback_counts_for_may_appeal():
    counted = AppealedCallback(7, "BJ1", "ent-heating")
    check_appellant(counted, "ent-heating")
    with pytest.raises(NotAllowedError, match="callback 7 counts for ent-heating, not street-wangjing"):
        check_appellant(counted, "street-wangjing")


def test_a_pending_or_accepted_appeal_stands_a_rejected_one_does_not():
    assert not AppealedCallback(7, "BJ1", "ent-heating", (AppealStatus.REJECTED,)).has_standing_appeal
    for status in (AppealStatus.PENDING, AppealStatus.ACCEPTED):
        assert AppealedCallback(7, "BJ1", "ent-heating", (AppealStatus.REJECTED, status)).has_standing_appeal


class FakeCallbacks:
    def __init__(self, callbacks: list[AppealedCallback]) -> None:
        self.callbacks = {found.id: found for found in callbacks}
        self.appeals: dict[int, Appeal] = {}
        self.excluded_ids: list[int] = []

    def appealed_callback(self, callback_id: int) -> AppealedCallback | None:
        found = self.callbacks.get(callback_id)
        if found is None:
            return None
        statuses = tuple(
            appeal.status for appeal in self.appeals.values() if appeal.callback_id == callback_id
        )
        return AppealedCallback(found.id, found.ticket_id, found.unit, statuses)

    def add_appeal(self, callback: AppealedCallback, by: str, reason: str, at: datetime) -> int:
        appeal = Appeal(len(self.appeals) + 1, AppealStatus.PENDING, callback.id, callback.unit, "2026-11")
        self.appeals[appeal.id] = appeal
        return appeal.id

    def appeal(self, appeal_id: int) -> Appeal | None:
        return self.appeals.get(appeal_id)

    def decide_appeal(self, appeal_id: int, status: AppealStatus, by: str, reason: str, at: datetime) -> None:
        found = self.appeals[appeal_id]
        self.appeals[appeal_id] = Appeal(found.id, status, found.callback_id, found.unit, found.month)

    def excluded(self, callback_id: int) -> None:
        self.excluded_ids.append(callback_id)


class FakeScoresOutbox(FakeOutbox):
    def __init__(self) -> None:
        super().__init__()
        self.due: list[tuple[str, str]] = []

    def scores_due(self, unit: str, month: str, at: datetime, final: bool = False) -> None:
        self.due.append((unit, month))


def unit_of_work() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.callbacks = FakeCallbacks([AppealedCallback(7, "BJ1", "ent-heating")])
    uow.outbox = FakeScoresOutbox()
    return uow


def appeal(
    uow: FakeUnitOfWork, unit: str = "ent-heating", callback_id: int = 7, reason: str = "入户被拒"
) -> int:
    command = c.FileAppeal("li", callback_id=callback_id, unit=unit, reason=reason)
    return file_appeal(command, uow=uow, clock=lambda: NOW)


def decide(uow: FakeUnitOfWork, appeal_id: int, accept: bool) -> None:
    command = c.DecideAppeal(
        "zhao", appeal_id=appeal_id, accept=accept, reason="属实" if accept else "不属实"
    )
    decide_appeal(command, uow=uow, clock=lambda: NOW)


def test_an_appeal_is_filed_once_by_the_unit_the_callback_counts_for():
    uow = unit_of_work()
    with pytest.raises(NotAllowedError, match="counts for ent-heating"):
        appeal(uow, unit="street-wangjing")
    with pytest.raises(CaseNotFoundError, match="no callback 8"):
        appeal(uow, callback_id=8)
    assert uow.commits == 0

    assert (appeal(uow), uow.commits) == (1, 1)
    with pytest.raises(InvalidActionError, match="already has a pending or accepted appeal"):
        appeal(uow, reason="again")


def test_an_accepted_appeal_takes_the_callback_out_and_moves_the_units_scores():
    uow = unit_of_work()
    filed = appeal(uow)
    decide(uow, filed, accept=True)
    assert uow.callbacks.excluded_ids == [7]
    assert uow.outbox.due == [("ent-heating", "2026-11")]
    with pytest.raises(InvalidActionError, match="already accepted"):
        decide(uow, filed, accept=False)


def test_a_rejected_appeal_leaves_the_callback_counted_and_another_may_be_filed():
    uow = unit_of_work()
    decide(uow, appeal(uow), accept=False)
    assert (uow.callbacks.excluded_ids, uow.outbox.due) == ([], [])
    assert appeal(uow, reason="补充证据") == 2
    with pytest.raises(CaseNotFoundError, match="no appeal 3"):
        decide(uow, 3, accept=True)
