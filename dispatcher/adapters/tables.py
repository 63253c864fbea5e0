"""The database schema. Alembic migrations in `dispatcher/migrations` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)

metadata = MetaData()
# The conditions of the partial indexes, word for word as the queries that use them say them
CO_HANDLED = "CAST(co_handlers AS TEXT) != '[]'"
FIRED_ESCALATION = "kind = 'escalation' AND status = 'fired'"
EMERGENCY = "urgency = 'emergency'"
# the cases with a pause or an extension asked, as the dashboard's lists write it (migration 0030)
PAUSE_ASKED = "paused IS NOT NULL"
EXTENSION_ASKED = "CAST(pending_extension AS TEXT) != 'null'"
Id = BigInteger().with_variant(Integer(), "sqlite")


def in_utc(value: datetime) -> datetime:
    """The time as `UtcDateTime` stores it: in UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in Jiesu carries its timezone")
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    """A time as `UtcDateTime` sends it to the database: in UTC (None as it is)."""
    return None if value is None else in_utc(value)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware (SQLite would return them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return utc_or_none(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


cases = Table(
    "cases",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(16)),
    Column("queue", String(64), index=True),
    Column("location", JSON, nullable=False),
    Column("requester", JSON, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("related_ticket_id", String(64)),
    Column("received_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=False),
    Column("reply_due", UtcDateTime),
    Column("result", Text),
    Column("pending_return", JSON),
    Column("pending_extension", JSON),
    Column("co_handlers", JSON),
    Column("district", String(12)),
    Column("community", String(12)),
    Column("street", String(12)),
    Column("requester_phone", String(32), index=True),
    Column("linked_to", String(64), index=True),
    Column("round", Integer, nullable=False, server_default="1"),
    Column("callback", JSON),  # the latest callback, for the case's own decisions
    Column("terminated", Text),  # 终结: the supervisor's reason
    # 直接办结: the knowledge base entry that answered it at intake (counted by /metrics from its index)
    Column("knowledge_entry", String(64), index=True),
    # 并案: the main case it is merged into, and where an un-merge returns it (dispatcher.domain.merging)
    Column("merged_into", String(64), index=True),
    Column("merged", JSON),
    Column("pause", JSON),  # 挂起: the pause asked or approved (domain.pause.Pause)
    Column("paused", String(16)),  # its status, requested or paused: the dashboard's count and queue
    # the unit of the current assignment (its `unit`), written with the case's state: a unit's open
    # cases found on ix_cases_lead_unit_state, not among the whole city's open cases
    Column("lead_unit", String(64)),
    Column("version", Integer, nullable=False),
    # The lists' keysets (dispatcher.reads): by dispatch, within a state, a district, or both; by
    # reception (Open311, the daily volume)
    Index("ix_cases_dispatched", "dispatched_at", "ticket_id"),
    Index("ix_cases_state_dispatched", "state", "dispatched_at", "ticket_id"),
    Index("ix_cases_district_dispatched", "district", "dispatched_at", "ticket_id"),
    Index("ix_cases_district_state_dispatched", "district", "state", "dispatched_at", "ticket_id"),
    Index("ix_cases_received", "received_at", "ticket_id"),
    Index("ix_cases_district_received", "district", "received_at"),
    Index("ix_cases_paused", "paused", "ticket_id"),
    Index("ix_cases_lead_unit_state", "lead_unit", "state", "ticket_id"),  # a unit's inbox
    # a district's open cases, read from the index alone: the dashboard's counts and overdue cases by unit
    Index(
        "ix_cases_district_state_due",
        "district",
        "state",
        "reply_due",
        "street",
        "urgency",
        "lead_unit",
    ),
    # the emergency-tier cases alone, by district: the dashboard's emergencies panel
    Index(
        "ix_cases_emergencies",
        "district",
        "state",
        "dispatched_at",
        "ticket_id",
        sqlite_where=text(EMERGENCY),
        postgresql_where=text(EMERGENCY),
    ),
    # the few cases with a pause or an extension asked, by district: the dashboard's panels and its count
    *(
        Index(
            name,
            "district",
            "dispatched_at",
            "ticket_id",
            sqlite_where=text(condition),
            postgresql_where=text(condition),
        )
        for name, condition in (
            ("ix_cases_pauses", PAUSE_ASKED),
            ("ix_cases_extensions_asked", EXTENSION_ASKED),
        )
    ),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), nullable=False, index=True),
    Column("unit", String(64), nullable=False),
    Column("post", String(64), nullable=False),
    Column("person", String(64)),
    Column("rule", String(64), nullable=False),
    Column("catalog_version", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("co_handlers", JSON, nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("current", Boolean, nullable=False),
    Index("ix_assignments_assigned_at", "assigned_at", "unit"),  # cases received per unit and month
    Index("ix_assignments_unit_current", "unit", "current", "ticket_id"),  # a unit's cases
    # the few assignments with co-handlers, for a co-handling unit's list (dispatcher.reads.rows)
    Index(
        "ix_assignments_co_handled",
        "ticket_id",
        sqlite_where=text(CO_HANDLED),
        postgresql_where=text(CO_HANDLED),
        postgresql_include=["co_handlers", "current"],  # read from the index alone
    ),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("fired_at", UtcDateTime),
    Column("how", Text),
    Column("district", String(12)),  # the case's, set when it is opened (the weekly overdue chart's)
    Index("ix_deadlines_status_due_at", "status", "due_at"),
    Index("ix_deadlines_ticket_status_due", "ticket_id", "status", "due_at"),  # a case's nearest deadline
    # the weekly overdue chart: a stage's deadlines due in a span, the city's or a district's, read from the
    # index alone
    Index("ix_deadlines_stage_due", "stage", "due_at", "district", "status", "fired_at"),
)

sla_timers = Table(
    "sla_timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), nullable=False, index=True),
    Column("stage", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("target", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("fired_at", UtcDateTime),
    # a called unit's timer (stages co_acknowledge, co_report): that unit; "" for the lead's stages
    Column("unit", String(64), nullable=False, server_default=""),
    Index("ix_sla_timers_status_due_at", "status", "due_at"),
    # escalations that fired, by firing time: only these rows (pending ones cost no index entry)
    Index(
        "ix_sla_timers_fired_escalations",
        "fired_at",
        "id",
        sqlite_where=text(FIRED_ESCALATION),
        postgresql_where=text(FIRED_ESCALATION),
    ),
    # and by case: a district's, found from its open cases (the dashboard's escalations panel)
    Index(
        "ix_sla_timers_fired_escalations_ticket",
        "ticket_id",
        "fired_at",
        "id",
        sqlite_where=text(FIRED_ESCALATION),
        postgresql_where=text(FIRED_ESCALATION),
    ),
    UniqueConstraint("ticket_id", "stage", "kind", "level", "deadline", "unit", name="uq_sla_timers_firing"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("from_state", String(20)),
    Column("state", String(20), nullable=False),
    Index("ix_audit_action_at", "action", "at"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("source", String(255), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index(
        "ix_outbox_unsent",
        "id",
        sqlite_where=Column("sent_at").is_(None),
        postgresql_where=Column("sent_at").is_(None),
    ),
)

people = Table(
    "people",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("unit", String(64)),
    Column("post", String(64)),
    Column("scope", String(12)),  # supervisors: "city" or a district code
    Column("password_hash", String(255)),  # argon2id; none for systems, which use tokens only
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True, index=True),  # SHA-256 hex
    Column("username", String(64), ForeignKey("people.username"), nullable=False, index=True),
    Column("label", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
    Column("expires_at", UtcDateTime),  # none: until revoked
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM of recorded_at in Beijing: the assessment month
    Column("contacted", Boolean, nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("satisfaction", String(24), nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("comment", Text),
    Column("unit", String(64), nullable=False),
    Column("post", String(64), nullable=False),
    Column("person", String(64)),
    Column("unit_class", String(16), nullable=False),
    Column("current", Boolean, nullable=False),  # the latest of its case and round
    # current, valid, its case not terminated, no appeal against it accepted: it is in the unit's base
    Column("counted", Boolean, nullable=False, server_default=true()),
    Column("received_at", UtcDateTime, nullable=False),
    Index("ix_callbacks_month_unit", "month", "unit"),
    Index(
        "ix_callbacks_counted",
        "month",
        "counted",
        "unit_class",
        "unit",
        "contacted",
        "resolved",
        "satisfaction",
    ),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("callback_id", Id, ForeignKey("callbacks.id"), nullable=False, index=True),
    Column("ticket_id", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("by", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending, accepted, rejected
    Column("decided_by", String(64)),
    Column("decided_at", UtcDateTime),
    Column("decision_reason", Text),
)

final_months = Table(
    "final_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("published_at", UtcDateTime, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),  # event × recipient × channel
    Column("event_id", String(255), nullable=False),
    Column("ticket_id", String(64), index=True),
    Column("kind", String(48), nullable=False),
    Column("recipient", String(128), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(512), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text),
    Column("urgent", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # pending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),  # not before (quiet hours, backoff)
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index("ix_notifications_due", "status", "channel", "due_at"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("person", String(128), primary_key=True),  # an account's username or a catalog person's id
    Column("addresses", JSON, nullable=False),  # [{channel, address}] in order of preference
    Column("quiet", String(16)),  # HH:MM-HH:MM, Beijing time
    Column("language", String(8), nullable=False),
)

unit_month_scores = Table(
    "unit_month_scores",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("unit", String(64), primary_key=True),
    Column("unit_class", String(16), nullable=False),
    Column("valid", Integer, nullable=False),
    Column("contacted", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("satisfied", Integer, nullable=False),
    Column("basically_satisfied", Integer, nullable=False),
)

knowledge = Table(
    "knowledge",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("category", String(64), nullable=False, index=True),  # a category code ("" for none)
    Column("keywords", JSON, nullable=False),  # [word, ...]
    Column("source", Text, nullable=False),
    Column("valid_from", Date),  # none: always
    Column("valid_to", Date),  # none: open-ended
    Column("retired_at", UtcDateTime),  # kept (cases name it), never offered
    Column("retired_by", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("version", Integer, nullable=False),  # increases with every change
)

supervision_orders = Table(
    "supervision_orders",  # 督办单: see dispatcher/domain/supervision.py
    metadata,
    Column("id", String(16), primary_key=True),  # SO-...; also the `stage` of its SLA timers
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), nullable=False, index=True),
    Column("unit", String(64), nullable=False),
    Column("addressee", String(8), nullable=False),  # unit | head
    Column("head_post", String(64)),  # the unit's head post when issued
    Column("ask", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("how", Text, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("answer", Text),
    Column("answered_by", String(64)),
    Column("answered_at", UtcDateTime),  # none: open
    Index("ix_supervision_orders_open_due", "answered_at", "due_at"),
    Index("ix_supervision_orders_unit", "unit", "answered_at"),
)

# Hotspots (主动治理): the detector's tallies (dispatcher.domain.hotspot_counts, as JSON), one row per area
# and category key, and the hotspots it opened; written with the inbox entry of the events they count
hotspot_tallies = Table(
    "hotspot_tallies",
    metadata,
    Column("key", String(96), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

hotspots = Table(
    "hotspots",
    metadata,
    Column("hotspot_id", String(64), primary_key=True),
    Column("district", String(12), nullable=False),
    Column("street", String(12)),
    Column("community", String(16)),
    Column("category", String(16), nullable=False),
    Column("span", String(8), nullable=False),  # the window: 1h, 24h, 7d
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("observed", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("first_ticket_id", String(64)),
    Column("ticket_ids", JSON, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("status", String(8), nullable=False),  # open, closed
    Index("ix_hotspots_status_detected", "status", "detected_at"),
    Index("ix_hotspots_district_status_detected", "district", "status", "detected_at"),
)

# Governance tasks (主动治理任务): a hotspot made a task for one unit (dispatcher/domain/governance.py), and
# the cases it links (they stay individual cases)
governance_tasks = Table(
    "governance_tasks",
    metadata,
    Column("task_id", String(16), primary_key=True),  # GT-...; also the `stage` of its SLA timers
    Column("hotspot_id", String(64), nullable=False, unique=True),  # one task per hotspot
    Column("district", String(12), nullable=False),
    Column("category", String(16), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("ask", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("how", Text, nullable=False),
    Column("center_at", UtcDateTime, nullable=False),
    Column("ticket_ids", JSON, nullable=False),  # in the hotspot's order; the first carries the timers
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("report", Text),
    Column("reported_by", String(64)),
    Column("reported_at", UtcDateTime),  # none: open
    Index("ix_governance_tasks_open_due", "reported_at", "due_at"),
    Index("ix_governance_tasks_district", "district", "reported_at"),
    Index("ix_governance_tasks_unit", "unit", "reported_at"),
)

governance_task_cases = Table(
    "governance_task_cases",
    metadata,
    Column("task_id", String(16), ForeignKey("governance_tasks.task_id"), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("cases.ticket_id"), primary_key=True),
    Index("ix_governance_task_cases_ticket", "ticket_id"),
)
