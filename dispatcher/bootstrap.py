"""The composition root: wires real adapters into the message bus. Tests wire fakes the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Engine

from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.sql import SqlUnitOfWork
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.service import handlers
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import UnitOfWork
from dispatcher.settings import Settings
from rules.routing import Router

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class System:
    settings: Settings
    engine: Engine
    bus: MessageBus
    clock: Clock


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    on_commit: Callable[[], None] = lambda: None,
    engine: Engine | None = None,
    router: Router | None = None,
) -> System:
    engine = engine or make_engine(settings.database_url)
    uow: UnitOfWork = SqlUnitOfWork(engine, settings.topic, clock, on_commit)
    router = router or ReloadingRouter(settings.catalog_dir, settings.catalog_reload_seconds)
    bus = MessageBus(
        {
            DispatchCase: partial(handlers.dispatch_case, uow=uow, router=router, clock=clock),
            DeadLetter: partial(handlers.dead_letter, uow=uow),
        }
    )
    return System(settings, engine, bus, clock)
