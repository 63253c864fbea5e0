"""The case events the worker reads back from `jiesu.cases`, behind one agent: the hotspot counter, then
(in a process that notifies) the notification planner.

One agent for both rather than one each: faust hands every record of a topic to each agent's stream, so
each agent on the topic pays the per-record work of the stream, its acknowledgements and its own thread
hop again; with one, the worker dispatched about a third more requests per second at its maximum
(docs/benchmarks.md, "One reader of the case events"). Each reader keeps its own transaction and is safe
to run again on the same records (the counter's inbox, the delivery log's key), so a batch that fails
in the second reader is applied again, one record at a time, without counting anything twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dispatcher.contract.cloudevents import KafkaRecord

Reader = Callable[[Sequence[KafkaRecord]], object]


def in_turn(*readers: Reader) -> Reader:
    """One reader that hands each batch to the `readers`, one after the other."""

    def read(records: Sequence[KafkaRecord]) -> None:
        for reader in readers:
            reader(records)

    return read
