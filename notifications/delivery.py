"""The deliverer: sends the due messages of the delivery log, one thread per channel, so a slow or dead
channel holds back only its own messages, never another channel's nor the dispatch pipeline.

A message is claimed for a lease (its `due_at` moves past the send's timeout), sent, then marked sent; a
temporary failure is tried again after an exponential backoff with jitter, up to a limit; a permanent one
(or the limit) marks it failed, with the error kept, and the recipient's next channel in order of
preference gets the message instead. A worker that dies between sending and marking sends that message
again when the lease ends: each message carries its key (event × recipient × channel) so a receiver can
drop the repeat; an event read twice plans nothing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import Engine

from dispatcher.adapters.delivery_log import DeliveryLog, LoggedMessage, NewMessage
from notifications.message import Channel, ChannelKind, DeliveryError, Message
from notifications.policy import Backoff, Directory, first_addresses
from sla.calendar import Clock

log = logging.getLogger(__name__)


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[ChannelKind, Channel],
        directory: Directory,
        clock: Clock,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 20,
    ) -> None:
        self._log, self._channels, self._directory = DeliveryLog(engine), dict(channels), directory
        self._clock, self._backoff, self._lease, self._batch = clock, backoff or Backoff(), lease, batch

    def deliver_due(self, kind: ChannelKind) -> int:
        """Send this channel's messages that are due; returns how many were tried. Those sent are marked
        sent together, once the claimed batch is through (one transaction, not one per message: each took
        the database's write lock from the agents); a worker killed before sends them again when their
        lease ends, as it would one message."""
        claimed = self._log.claim(kind.value, self._clock(), self._lease, self._batch)
        sent = [row.id for row in claimed if self._deliver(row)]
        self._log.all_sent(sent, self._clock())
        return len(claimed)

    def run(self, stop: threading.Event, poll: float = 0.5) -> list[threading.Thread]:
        """Start one delivering thread per channel; they stop when `stop` is set."""

        def loop(kind: ChannelKind) -> None:
            while not stop.is_set():
                try:
                    busy = self.deliver_due(kind)
                except Exception:
                    log.exception("notifications: delivering on %s failed; trying again", kind)
                    busy = 0
                if not busy:
                    stop.wait(poll)

        threads = [
            threading.Thread(target=loop, args=(kind,), name=f"notify-{kind}", daemon=True)
            for kind in ChannelKind
        ]
        for thread in threads:
            thread.start()
        return threads

    def _deliver(self, row: LoggedMessage) -> bool:
        """Send the message; returns whether it went (a failure is recorded here)."""
        channel = self._channels.get(ChannelKind(row.channel))
        message = Message(
            row.key, ChannelKind(row.channel), row.address, row.subject, row.text, row.html, row.urgent
        )
        attempt = row.attempts + 1
        try:
            if channel is None:
                raise DeliveryError(f"channel {row.channel} is not configured", permanent=True)
            channel.send(message)
        except DeliveryError as error:
            self._failed(row, attempt, str(error), error.permanent)
        except Exception as error:  # a channel's own bug: kept, and tried again like a temporary failure
            log.exception("notifications: %s on %s", row.key, row.channel)
            self._failed(row, attempt, f"{type(error).__name__}: {error}", permanent=False)
        else:
            return True
        return False

    def _failed(self, row: LoggedMessage, attempt: int, error: str, permanent: bool) -> None:
        if permanent or self._backoff.gives_up(attempt):
            log.warning("notifications: %s failed for good after %s attempts: %s", row.key, attempt, error)
            self._log.failed(row.id, error)
            self._fall_back(row)
        else:
            self._log.due_again(row.id, self._clock() + self._backoff.delay(attempt), error)

    def _fall_back(self, row: LoggedMessage) -> None:
        """The recipient's next channel in order of preference, if there is one not tried yet."""
        person = self._directory.person(row.recipient)
        if person is None:
            return
        tried = self._log.channels_tried(row.event_id, row.recipient)
        following = first_addresses(person, [ChannelKind(kind) for kind in tried])
        if following is None:
            return
        now = self._clock()
        message = NewMessage(
            key=f"{row.event_id}:{row.recipient}:{following.channel.value}",
            event_id=row.event_id,
            ticket_id=row.ticket_id,
            kind=row.kind,
            recipient=row.recipient,
            channel=following.channel.value,
            address=following.address,
            subject=row.subject,
            text=row.text,
            html=row.html,
            urgent=row.urgent,
            due_at=now,
            created_at=now,
        )
        self._log.add([message])
