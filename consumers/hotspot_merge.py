"""并案 by hotspot (`JIESU_MERGE_HOTSPOTS`): reads `jiesu.hotspot.detected` back from `jiesu.hotspots` and
merges the hotspot's open cases into its main case (`dispatcher.service.hotspot_merging`), once per event
(the inbox, by its `ce_source` + `ce_id`): a redelivery or a restart merges nothing twice. Closed hotspots
and the events of a district's hotspot change nothing."""

from __future__ import annotations

import logging

from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.hotspots import hotspot_from_wire
from dispatcher.domain.commands import InboundId, MergeHotspot
from dispatcher.service.messagebus import MessageBus

log = logging.getLogger(__name__)
HOTSPOT_TYPES = wire.types_on(wire.Topic.HOTSPOTS)
DETECTED = "jiesu.hotspot.detected"


class HotspotMerger:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def merge_record(self, record: KafkaRecord) -> None:
        if record.header("ce_type") != DETECTED:
            return
        try:
            event = decode(record, HOTSPOT_TYPES)
        except RejectedRecord as rejected:  # ours, so never expected: said, not applied
            log.error("hotspots %s/%s not merged: %s", record.partition, record.offset, rejected)
            return
        assert isinstance(event.data, wire.HotspotDetected)
        self._bus.handle(MergeHotspot(InboundId(event.source, event.id), hotspot_from_wire(event.data)))
