"""The hotspot counter: reads `jiesu.case.dispatched` and `.redispatched` back from `jiesu.cases` and
counts each case once, at its first dispatch: at once, or from a queue (triage, manual dispatch), whose
dispatch is a `.redispatched`; a redispatch after arbitration is not counted again
(`dispatcher.service.hotspots`, the inbox keyed by ticket). The hotspots it opens or closes go out on
`jiesu.hotspots` through the outbox. The other events of the topic are passed over.

Why here and not in the intake transaction: the counts of an area and category are shared by every
worker, and the intake's batches would wait on them; one agent per partition of the cases topic counts
behind the dispatch, its state, the inbox of what it counted and the events in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine

from dispatcher.adapters.hotspot_store import hotspot_transaction
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.hotspots import DISPATCHED, REDISPATCHED, Dispatch, dispatched_of
from dispatcher.domain.commands import InboundId
from dispatcher.domain.hotspots import HotspotPolicy
from dispatcher.service.hotspots import count_dispatched

log = logging.getLogger(__name__)
CASE_TYPES = wire.types_on(wire.Topic.CASES)
INBOX_SOURCE = "hotspots:case"  # the counter's own inbox entries (one per ticket), apart from the core's
COUNTED = (DISPATCHED, REDISPATCHED)


def dispatches(records: Sequence[KafkaRecord]) -> list[tuple[InboundId, Dispatch]]:
    found = []
    for record in records:
        if record.header("ce_type") not in COUNTED:
            continue
        try:
            event = decode(record, CASE_TYPES)
        except RejectedRecord as rejected:  # ours, so never expected: said, not counted
            log.error("cases %s/%s not counted: %s", record.partition, record.offset, rejected)
            continue
        assert isinstance(event.data, wire.CaseDispatched | wire.CaseRedispatched)
        found.append((InboundId(INBOX_SOURCE, event.data.ticket_id), event.data))
    return found


class HotspotCounter:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        topic: str,
        policy: HotspotPolicy = HotspotPolicy(),
    ) -> None:
        self._engine, self._clock, self._topic, self._policy = engine, clock, topic, policy

    def count_records(self, records: Sequence[KafkaRecord]) -> None:
        found = dispatches(records)
        if not found:
            return
        with hotspot_transaction(self._engine, self._clock, self._topic) as store:
            places = store.places([event.ticket_id for _, event in found])
            requests = [
                (inbound, dispatched_of(event, places.get(event.ticket_id, (None, None, None, None))))
                for inbound, event in found
            ]
            for change in count_dispatched(requests, store=store, policy=self._policy):
                log.info("hotspot %s: %s", type(change).__name__, change.hotspot.hotspot_id)
