"""The contract's topics on a Kafka cluster, through kafka-python's KafkaAdminClient.

Errors from the cluster surface as `kafka.errors.KafkaError` (e.g. KafkaTimeoutError when no broker answers).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from dispatcher.contract.events import Topic
from dispatcher.settings import Settings

TIMEOUT_S = 30.0


def endpoint(bootstrap: str) -> tuple[str, int]:
    """Host and port of the first entry of a `host:port[,host:port]` bootstrap list."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"kafka_bootstrap={bootstrap!r}: expected host:port")
    return host.strip("[]"), int(port)


def port_open(bootstrap: str, timeout_s: float = 1.0) -> bool:
    """True if something accepts TCP connections on the first bootstrap entry."""
    try:
        with socket.create_connection(endpoint(bootstrap), timeout=timeout_s):
            return True
    except OSError:
        return False


@contextmanager
def admin_client(bootstrap: str, timeout_s: float = TIMEOUT_S) -> Iterator[Any]:
    """A connected KafkaAdminClient, closed on exit; KafkaTimeoutError if none answers within timeout_s."""
    ms = int(timeout_s * 1000)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=ms, request_timeout_ms=ms)
    try:
        yield admin
    finally:
        admin.close()


def answers_metadata(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True if a broker on `bootstrap` answers a metadata request within about `timeout_s`."""
    if not port_open(bootstrap, timeout_s):
        return False
    try:
        with admin_client(bootstrap, timeout_s) as admin:
            admin.describe_cluster()
    except KafkaError:
        return False
    return True


def group_state(bootstrap: str, group: str) -> tuple[str, int]:
    """A consumer group's state (Stable, PreparingRebalance, Empty, Dead...) and its member count;
    ("unavailable", 0) while the broker cannot tell (no group coordinator yet)."""
    try:
        with admin_client(bootstrap, timeout_s=5.0) as admin:
            described = admin.describe_groups([group]).get(group, {})
    except KafkaError:
        return "unavailable", 0
    return str(described.get("group_state", "")), len(described.get("members") or ())


def contract_topics(settings: Settings) -> list[str]:
    """The full names of the contract's topics, in the order of the Topic enum."""
    return [settings.topic(topic.value) for topic in Topic]


def list_topics(settings: Settings) -> list[str]:
    """Every topic name on the cluster (internal ones included), sorted."""
    with admin_client(settings.kafka_bootstrap) as admin:
        return sorted(admin.list_topics())


def create_topics(settings: Settings) -> list[str]:
    """Create the contract's missing topics and return the names created; existing ones are left as they are.

    Each new topic gets `topic_partitions` partitions and replication factor `topic_replication`; the call
    returns once every contract topic has a leader for every partition.
    """
    names = contract_topics(settings)
    spec = {"num_partitions": settings.topic_partitions, "replication_factor": settings.topic_replication}
    ms = int(TIMEOUT_S * 1000)
    with admin_client(settings.kafka_bootstrap) as admin:
        result = admin.create_topics({name: dict(spec) for name in names}, timeout_ms=ms, raise_errors=False)
        created = []
        for topic in result["topics"]:
            error = for_code(topic["error_code"])
            if error is TopicAlreadyExistsError:
                continue
            if topic["error_code"] != 0:
                raise error(f"{topic['name']}: {topic.get('error_message') or error.description}")
            created.append(topic["name"])
        admin.wait_for_topics(names, timeout_ms=ms)
    return [name for name in names if name in created]
