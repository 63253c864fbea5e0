"""`GET /metrics`: the engine's state in the Prometheus text format (version 0.0.4), computed at scrape time.

Counts are read from the database (`dispatcher.reads.metrics`), so a restart resets nothing and the web
process reports what the workers did. Consumer lag is read from the broker within `BROKER_TIMEOUT_S` and kept
for `BROKER_CACHE_S`: a broker that does not answer in time reads `jiesu_broker_up 0`, without lag series. No
personal data is exposed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.bootstrap import System
from dispatcher.contract.events import Topic
from dispatcher.reads.metrics import Counts, counts
from dispatcher.settings import Settings
from jiesu.web.common import SystemDep

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BROKER_TIMEOUT_S = 2.0
BROKER_CACHE_S = 5.0
LAG_TOPICS = (Topic.INTAKE, Topic.ACTIONS, Topic.FEEDBACK, Topic.CASES)
CLIENT_ID = "jiesu-metrics"

log = logging.getLogger(__name__)
router = APIRouter()
Kind = Literal["counter", "gauge"]
T = TypeVar("T")


# ---- metric families --------------------------------------------------------------------------------


def family(kind: Kind, name: str, text: str, value: float) -> Metric:
    return (CounterMetricFamily if kind == "counter" else GaugeMetricFamily)(name, text, value=value)


def family_by(kind: Kind, label: str, name: str, text: str, values: Mapping[str, float]) -> Metric:
    metric = (CounterMetricFamily if kind == "counter" else GaugeMetricFamily)(name, text, labels=[label])
    for key, value in values.items():
        metric.add_metric([str(key)], value)
    return metric


# ---- the database -----------------------------------------------------------------------------------


def database_families(engine: Engine, now: datetime) -> list[Metric]:
    """Every count the database holds, read in one connection; `jiesu_database_up 0` if it does not answer."""
    try:
        families = count_families(counts(engine, now))
    except SQLAlchemyError as error:
        log.warning("metrics: the database does not answer (%s)", error.__class__.__name__)
        families = []
    up = family(
        "gauge", "jiesu_database_up", "1 if the database answered this scrape, else 0.", 1 if families else 0
    )
    return [up, *families]


def count_families(found: Counts) -> list[Metric]:
    return [
        family(
            "counter", "jiesu_events_consumed_total", "Inbound events applied (the inbox).", found.consumed
        ),
        family_by("gauge", "state", "jiesu_cases_total", "Cases by state.", found.states),
        family(
            "counter",
            "jiesu_cases_dispatched_total",
            "Cases dispatched to a unit (with an assignment).",
            found.dispatched,
        ),
        family(
            "counter",
            "jiesu_cases_closed_direct_total",
            "Consultations closed at intake from the knowledge base (直接办结), never dispatched.",
            found.direct_closes,
        ),
        family_by(
            "counter",
            "reason",
            "jiesu_dead_letters_total",
            "Inbound records set aside on the dead-letter topic, by reason.",
            found.dead_letters,
        ),
        family_by(
            "gauge",
            "level",
            "jiesu_escalations_open",
            "Escalation steps that fired on cases still open, by level.",
            found.open_escalations,
        ),
        family("gauge", "jiesu_outbox_backlog", "Outbox rows not yet relayed to Kafka.", found.backlog),
        family(
            "gauge",
            "jiesu_outbox_oldest_unsent_seconds",
            "Age of the oldest outbox row not yet relayed (0 when none waits).",
            found.oldest_unsent_s,
        ),
        family_by(
            "gauge",
            "status",
            "jiesu_notifications_total",
            "Notifications by delivery status.",
            found.notifications,
        ),
        family(
            "counter",
            "jiesu_notification_failures_total",
            "Notifications that failed for good (every attempt, or a permanent error).",
            found.notifications["failed"],
        ),
    ]


# ---- the broker -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerReading:
    """Whether the broker answered, and the group's lag per topic (full topic name) when it did."""

    up: bool
    lag: Mapping[str, int] = field(default_factory=dict)


DOWN = BrokerReading(up=False)


def broker_families(reading: BrokerReading) -> list[Metric]:
    families = [
        family(
            "gauge",
            "jiesu_broker_up",
            "1 if the Kafka broker answered the last look at consumer lag, else 0.",
            1 if reading.up else 0,
        )
    ]
    if reading.up:
        families.append(
            family_by(
                "gauge",
                "topic",
                "jiesu_consumer_lag",
                "Records not yet consumed by the consumer group: end offsets minus committed offsets.",
                reading.lag,
            )
        )
    return families


def in_background(work: Callable[[], T]) -> Future[T]:
    """Run `work` on a daemon thread: the caller may stop waiting for it without blocking shutdown."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except Exception as error:
            future.set_exception(error)

    threading.Thread(target=run, name="jiesu-metrics-broker", daemon=True).start()
    return future


def reachable(bootstrap: str, timeout_s: float) -> bool:
    """True if one of the `host:port[,host:port]` entries accepts a TCP connection within `timeout_s`."""
    for entry in bootstrap.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit():
            continue
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return True
        except OSError:
            continue
    return False


def client_settings(bootstrap: str, timeout_s: float) -> dict[str, Any]:
    ms = max(2, int(timeout_s * 1000))
    return {
        "bootstrap_servers": bootstrap,
        "client_id": CLIENT_ID,
        "bootstrap_timeout_ms": ms,
        "request_timeout_ms": ms,
    }


def _answers(bootstrap: str, timeout_s: float) -> bool:
    if not reachable(bootstrap, timeout_s):
        return False
    try:
        KafkaAdminClient(**client_settings(bootstrap, timeout_s)).close()  # bootstrapping asks for metadata
    except KafkaError:
        return False
    return True


def broker_up(bootstrap: str, timeout: float) -> bool:
    """True if a broker on `bootstrap` answers a metadata request within `timeout` seconds."""
    try:
        return in_background(partial(_answers, bootstrap, timeout)).result(timeout=timeout)
    except TimeoutError:
        return False


def consumer_lag(bootstrap: str, group: str, topics: Sequence[str], timeout_s: float) -> BrokerReading:
    """End offsets minus the group's committed offsets, summed per topic; a partition the group never
    committed counts from its first offset (the consumers start there). Topics that do not exist have no lag
    series. Down if the broker does not answer or fails a request."""
    if not reachable(bootstrap, timeout_s):
        return DOWN
    settings = client_settings(bootstrap, timeout_s)
    try:
        admin = KafkaAdminClient(**settings)
    except KafkaError:
        return DOWN
    try:
        described = admin.describe_topics(list(topics))
        present = [topic for topic in described if topic["error_code"] == 0]
        partitions = [
            TopicPartition(topic["name"], partition["partition_index"])
            for topic in present
            for partition in topic["partitions"]
        ]
        if not partitions:
            return BrokerReading(up=True)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
        positions = {tp: committed[tp].offset for tp in partitions if tp in committed}
        fresh = [tp for tp in partitions if positions.get(tp, -1) < 0]
        timeout_ms = settings["request_timeout_ms"]
        consumer = KafkaConsumer(
            group_id=None, enable_auto_commit=False, fetch_max_wait_ms=timeout_ms // 2, **settings
        )
        try:
            end = consumer.end_offsets(partitions, timeout_ms=timeout_ms)
            positions.update(consumer.beginning_offsets(fresh, timeout_ms=timeout_ms) if fresh else {})
        finally:
            consumer.close(autocommit=False, timeout_ms=timeout_ms)
    except KafkaError as error:
        log.warning("metrics: consumer lag unavailable (%s: %s)", error.__class__.__name__, error)
        return DOWN
    finally:
        admin.close()
    lag = {topic["name"]: 0 for topic in present}
    for tp in partitions:
        lag[tp.topic] += max(0, end[tp] - positions[tp])
    return BrokerReading(up=True, lag=lag)


class BrokerProbe:
    """The consumer group's lag on its topics, looked up at most once per `ttl_s` and waited for at most
    `timeout_s`: a look that takes longer reads as down. One look at a time; thread-safe."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        *,
        timeout_s: float = BROKER_TIMEOUT_S,
        ttl_s: float = BROKER_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._look = partial(consumer_lag, bootstrap, group, list(topics), timeout_s)
        self._timeout_s, self._ttl_s, self._clock = timeout_s, ttl_s, clock
        self._lock = threading.Lock()
        self._reading: BrokerReading | None = None
        self._read_at = 0.0
        self._running: Future[BrokerReading] | None = None

    def read(self) -> BrokerReading:
        with self._lock:
            if self._reading is not None and self._clock() - self._read_at < self._ttl_s:
                return self._reading
            if self._running is None or self._running.done():  # a look done after its wait is stale
                self._running = in_background(self._look)
            try:
                reading = self._running.result(timeout=self._timeout_s)
                self._running = None
            except TimeoutError:
                reading = DOWN  # the look goes on; the next read waits for it again
            except Exception:
                log.exception("metrics: the look at consumer lag failed")
                reading, self._running = DOWN, None
            self._reading, self._read_at = reading, self._clock()
            return reading


_probe_lock = threading.Lock()


def probe_of(request: Request, settings: Settings) -> BrokerProbe:
    """The app's broker probe (`app.state.broker_probe`), made at the first scrape."""
    state = request.app.state
    with _probe_lock:
        probe: BrokerProbe | None = getattr(state, "broker_probe", None)
        if probe is None:
            topics = [settings.topic(topic) for topic in LAG_TOPICS]
            probe = BrokerProbe(settings.kafka_bootstrap, settings.consumer_group, topics)
            state.broker_probe = probe
        return probe


class JiesuCollector:
    """The engine's metric families, read when collected: the database's counts, then the broker's lag."""

    def __init__(self, system: System, probe: BrokerProbe) -> None:
        self._system, self._probe = system, probe

    def collect(self) -> Iterator[Metric]:
        yield from database_families(self._system.engine, self._system.clock())
        yield from broker_families(self._probe.read())


@router.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
def metrics(request: Request, system: SystemDep) -> Response:
    """Prometheus metrics; no token: scraped from inside the network, and no value is personal."""
    registry = CollectorRegistry()
    registry.register(JiesuCollector(system, probe_of(request, system.settings)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
