"""Fakes of our own ports: in-memory, recording what they were asked to do."""

from __future__ import annotations

from types import TracebackType

from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain.case import Case
from dispatcher.domain.commands import DeadLetter, InboundId
from dispatcher.domain.events import Event


class FakeCases:
    def __init__(self) -> None:
        self.stored: dict[str, Case] = {}
        self.pending: list[Case] = []

    def add(self, case: Case) -> None:
        self.pending.append(case)

    def get(self, ticket_id: str) -> Case | None:
        return self.stored.get(ticket_id)

    def load(self, ticket_ids) -> None:
        pass

    def find_repeat(self, complaint, decision, since) -> Case | None:
        return None

    def exists(self, ticket_id: str) -> bool:
        return ticket_id in self.stored or any(case.ticket_id == ticket_id for case in self.pending)


class FakeInbox:
    def __init__(self) -> None:
        self.applied: set[InboundId] = set()
        self.pending: set[InboundId] = set()

    def seen(self, inbound: InboundId) -> bool:
        return inbound in self.applied or inbound in self.pending

    def record(self, inbound: InboundId) -> None:
        self.pending.add(inbound)


class FakeOutbox:
    def __init__(self) -> None:
        self.published: list[Event] = []
        self.dead_letters: list[DeadLetter] = []
        self.pending_dead: list[DeadLetter] = []

    def dead_letter(self, command: DeadLetter) -> None:
        self.pending_dead.append(command)


class FakeUnitOfWork:
    """Keeps what was committed; drops what was not, like a transaction."""

    def __init__(self) -> None:
        self.cases = FakeCases()
        self.inbox = FakeInbox()
        self.outbox = FakeOutbox()
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cases.pending.clear()
        self.inbox.pending.clear()
        self.outbox.pending_dead.clear()

    def commit(self) -> None:
        for case in self.cases.pending:
            self.cases.stored[case.ticket_id] = case
            self.outbox.published.extend(case.events)
            case.events.clear()
        self.inbox.applied |= self.inbox.pending
        self.outbox.dead_letters.extend(self.outbox.pending_dead)
        self.cases.pending.clear()
        self.inbox.pending.clear()
        self.outbox.pending_dead.clear()
        self.commits += 1


class FakeIntake:
    """The web app's intake publisher (`app.state.intake`): keeps what it was given instead of sending it."""

    def __init__(self) -> None:
        self.published: list[ComplaintReceived] = []

    def publish(self, complaint: ComplaintReceived) -> None:
        self.published.append(complaint)
