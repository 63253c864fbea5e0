"""Orders to the system. Each has one handler in `dispatcher.service.handlers`."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.domain.complaint import Complaint


@dataclass(frozen=True)
class InboundId:
    """Identity of an inbound event: CloudEvents `source` + `id`, or the Kafka position when absent.

    An event with an identity already recorded has been applied; applying it again does nothing.
    """

    source: str
    id: str


@dataclass(frozen=True)
class Command:
    inbound: InboundId


@dataclass(frozen=True)
class DispatchCase(Command):
    """Route a new complaint to its unit, post and person, and open the case."""

    complaint: Complaint


@dataclass(frozen=True)
class DeadLetter(Command):
    """Set an inbound record aside on the dead-letter topic, unchanged, with the reason."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    reason: str
    detail: str
