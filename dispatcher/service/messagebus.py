"""The message bus: one handler per command type, wired by `dispatcher.bootstrap`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dispatcher.domain.commands import CaseCommand, Command, FireTimers

Handler = Callable[[Any], None]
Message = Command | CaseCommand | FireTimers


class MessageBus:
    def __init__(self, handlers: Mapping[type[Message], Handler]) -> None:
        self._handlers = dict(handlers)

    def handle(self, command: Message) -> None:
        """Run the command's handler; its errors propagate to the entry point that sent it."""
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        handler(command)
