"""The log as a channel, for the demo and for development: one line per message."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from notifications.message import ChannelKind, DeliveryError, Message


def line(message: Message) -> str:
    """`[notify] key → address: subject | text`, on one line."""
    tag = "[notify urgent]" if message.urgent else "[notify]"
    return f"{tag} {message.key} → {message.address or '-'}: {_flat(message.subject)} | {_flat(message.text)}"


class ConsoleChannel:
    """Writes to `stream` (standard output when None, looked up at each write) or logs to a logger."""

    kind = ChannelKind.CONSOLE

    def __init__(self, stream: TextIO | logging.Logger | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> None:
        if isinstance(self._stream, logging.Logger):
            self._stream.info("%s", line(message))
            return
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(line(message) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"console: {exc}", permanent=False) from exc


def _flat(text: str) -> str:
    return " ".join(text.splitlines())
