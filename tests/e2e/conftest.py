"""What the e2e tests share: settings for a fresh topic prefix and consumer group, and `jiesu run` as a
child process (killed at the end if a test left it running)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatcher.settings import Settings
from tests.conftest import DEMO_CATALOG
from tests.e2e.worker import Worker


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topic_prefix: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        catalog_dir=DEMO_CATALOG,
        consumer_group=f"e2e-{uuid.uuid4().hex[:8]}",
        relay_poll_seconds=0.2,
    )


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    env = {f"JIESU_{name.upper()}": str(value) for name, value in settings.model_dump(mode="json").items()}
    worker = Worker(env, tmp_path / "worker.log")
    yield worker
    if worker.process and worker.process.poll() is None:
        worker.kill()
