"""Requests spread over months, for the reports that count them: a catalog with categories three levels
deep, and builders of cases received at a given Beijing time in a given street, reopened after an
unsatisfied callback, called back satisfied, or linked as a repeat."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from consumers.intake import handle_intake
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import CATEGORIES, HEATING_RULE, write_catalog
from tests.support.clock import BEIJING

# 供暖 › 供热质量 › 室温不达标 / 暖气漏水 (to the heating company); 物业 › 物业服务 › 电梯故障 (to the street)
DEEP_CATEGORIES = {
    "categories": [
        {
            **CATEGORIES["categories"][0],
            "children": [
                {
                    "code": "0101",
                    "name": "供热质量",
                    "children": [
                        {"code": "010101", "name": "室温不达标", "keywords": ["暖气", "不热"]},
                        {"code": "010102", "name": "暖气漏水", "keywords": ["漏水"]},
                    ],
                }
            ],
        },
        {
            "code": "02",
            "name": "物业",
            "handling": "territorial",
            "children": [
                {
                    "code": "0201",
                    "name": "物业服务",
                    "children": [{"code": "020101", "name": "电梯故障", "keywords": ["电梯"]}],
                }
            ],
        },
    ]
}
WANGJING = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}  # 110105010
BALIZHUANG = {"district": "朝阳区", "street": "八里庄街道"}  # 110105011
HAIDIAN_BALIZHUANG = {"district": "海淀区", "street": "八里庄街道"}  # 110108001


def write_deep_catalog(folder: Path) -> Path:
    return write_catalog(folder, [HEATING_RULE], categories_yaml=DEEP_CATEGORIES)


def beijing(month: int, day: int, hour: int = 9, minute: int = 30, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def received(
    system: System,
    ticket: str,
    at: datetime,
    *,
    category: str = "010101",
    location: dict[str, str] | None = None,
    **overrides: Any,
) -> str:
    """A request received at `at`, of `category`, at `location` (望京 unless told), as the rules send it."""
    complaint = make_complaint(
        ticket_id=ticket, received_at=at, category=category, location=location or WANGJING, **overrides
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def repeat_of(system: System, ticket: str, original: str, at: datetime, **overrides: Any) -> str:
    """A repeat request naming the open `original`: linked to it, not dispatched."""
    return received(system, ticket, at, related_ticket_id=original, **overrides)


def called_back(system: System, ticket: str, unit_person: str, *, satisfied: bool) -> None:
    """The case handled to the end by its unit now, then called back: satisfied, or
    unsatisfied and unresolved (which reopens it, 重办, under the default assessment)."""
    for command in (
        c.AcknowledgeCase(ticket, unit_person),
        c.RecordContact(ticket, unit_person),
        c.ResolveCase(ticket, unit_person, result="已处理"),
    ):
        system.bus.handle(command)
    system.bus.handle(
        c.RecordCallback(
            ticket,
            "center",
            recorded_at=system.clock(),
            contacted=True,
            resolved=satisfied,
            satisfaction="satisfied" if satisfied else "unsatisfied",
        )
    )
