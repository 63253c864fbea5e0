"""The message bus: one handler per command type, wired by `dispatcher.bootstrap`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dispatcher.domain.commands import (
    AppealCommand,
    CaseCommand,
    Command,
    FireTimers,
    GovernanceCommand,
    PublishScores,
)

Handler = Callable[[Any], Any]
Message = Command | CaseCommand | FireTimers | AppealCommand | PublishScores | GovernanceCommand


class MessageBus:
    def __init__(self, handlers: Mapping[type[Message], Handler]) -> None:
        self._handlers = dict(handlers)

    def handle(self, command: Message) -> Any:
        """Run the command's handler and return what it returns (an id it created, an outcome); its
        errors propagate to the entry point that sent it."""
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        return handler(command)
