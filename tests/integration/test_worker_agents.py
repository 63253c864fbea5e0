"""Which topics a `jiesu run` process reads: a worker with notifications off leaves the case events to the
processes of its group that have them on (faust assigns a topic only among the members subscribed to it),
so none of `jiesu.cases` is read by a process that would neither count hotspots nor notify."""

from __future__ import annotations

from collections import Counter

from dispatcher.bootstrap import System
from dispatcher.contract.events import Topic
from jiesu.worker import notifications_of, worker_app


def topics_read(system: System, *, notifications: bool, merge_hotspots: bool = False) -> Counter[str]:
    settings = system.settings.model_copy(
        update={"notifications": notifications, "merge_hotspots": merge_hotspots}
    )
    app = worker_app(settings, system, notifications_of(settings, system) if notifications else None)
    return Counter(agent.channel.get_topic_name() for agent in app.agents.values())


def test_a_notifying_worker_reads_the_case_events_once_for_hotspots_and_notifications(system):
    read = topics_read(system, notifications=True)
    settings = system.settings
    assert read[settings.topic(Topic.CASES)] == 1  # one agent: the counter, then the planner
    assert read[settings.topic(Topic.INTAKE)] == 1
    assert read[settings.topic(Topic.HOTSPOTS)] == 1  # the governance tasks' events


def test_a_worker_with_notifications_off_does_not_read_the_case_events(system):
    read = topics_read(system, notifications=False)
    settings = system.settings
    assert settings.topic(Topic.CASES) not in read
    assert read[settings.topic(Topic.INTAKE)] == 1
    assert read[settings.topic(Topic.ACTIONS)] == read[settings.topic(Topic.FEEDBACK)] == 1
    merging = topics_read(system, notifications=False, merge_hotspots=True)
    assert settings.topic(Topic.CASES) not in merging and merging[settings.topic(Topic.HOTSPOTS)] == 1
