"""Notifications on SQLite and PostgreSQL, delivered to real servers on 127.0.0.1: who is told of what,
masking, no duplicates on redelivery, retries, a dead channel that holds back no other, quiet hours, the
fallback to a person's next channel, and the supervisors' daily digest."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from notifications.config import NotificationsFile
from notifications.digest import plan_digests
from notifications.message import ChannelKind
from notifications.policy import Backoff
from notifications.service import Notifications, build_notifications
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import UNITS, write_catalog
from tests.support.clock import NOW, Clock
from tests.support.hotspots import store_hotspot
from tests.support.logins import add_people

PHONE, NAME = "13812345678", "张三丰"
CATALOG_UNITS = {
    **UNITS,
    "units": [
        {
            "id": "ent-heating",
            "name": "热力集团",
            "kind": "enterprise",
            "posts": [
                {"id": "dispatch", "name": "调度岗", "supervisor": "head"},
                {"id": "head", "name": "主任岗", "fallback_person": "boss"},
            ],
        },
        {
            "id": "center",
            "name": "市民热线服务中心",
            "kind": "center",
            "posts": [{"id": "duty-supervisor", "name": "派单值班长岗", "fallback_person": "center.sup"}],
        },
    ],
    "people": [
        {"id": "p1", "name": "值班员甲"},
        {"id": "boss", "name": "主任乙"},
        {"id": "center.sup", "name": "值班长丙"},
    ],
}


class Recorder(BaseHTTPRequestHandler):
    """A webhook receiver: records each request; answers as the test says (and may hold an answer)."""

    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.requests.append((self.path, dict(self.headers), body))
        server.hold.wait(10)
        status = server.statuses.pop(0) if server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.requests, server.statuses, server.hold = [], [], threading.Event()
    server.hold.set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.hold.set()
    server.shutdown()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(free_tcp_port: int) -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_tcp_port)
    controller.start()
    yield mailbox, free_tcp_port
    controller.stop()


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: Clock) -> System:
    catalog = write_catalog(tmp_path / "catalog", units_yaml=CATALOG_UNITS)
    return bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)


def notifications_for(system: System, clock: Clock, **config: Any) -> Notifications:
    router: Any = system.router

    def on_duty(unit: str, post: str, at: datetime) -> str | None:
        try:
            return router.assignment_for(unit, post, at, "notification").person
        except KeyError:
            return None

    found = build_notifications(
        system.engine, NotificationsFile.model_validate(config), lambda: router.router.catalog, on_duty, clock
    )
    found.deliverer._backoff = Backoff(base=0.01, factor=1.0, cap=0.01, attempts=4)
    return found


def prefer(system: System, person: str, addresses: list[tuple[str, str]], quiet: str | None = None) -> None:
    with system.engine.begin() as connection:
        connection.execute(
            t.preferences.insert(),
            {
                "person": person,
                "addresses": [{"channel": kind, "address": where} for kind, where in addresses],
                "quiet": quiet,
                "language": "zh",
            },
        )


def open_case(system: System, ticket: str = "BJ1", phone: str = PHONE, **requester: Any) -> str:
    """A case of its own (another phone than the last one's, or it would be linked to it as a repeat)."""
    complaint = make_complaint(
        ticket_id=ticket,
        category="0101",
        urgency="general",
        location={"district": "朝阳区", "street": "望京街道"},
        requester={"name": NAME, "phone": phone, **requester},
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def plan_outbox(system: System, notifications: Notifications, after: int = 0) -> int:
    """Feed the planner every case event in the outbox after id `after`; returns the last id."""
    last = after
    with system.engine.connect() as connection:
        rows = connection.execute(
            select(t.outbox)
            .where(t.outbox.c.id > after, t.outbox.c.topic.like("%cases"))
            .order_by(t.outbox.c.id)
        ).all()
    for row in rows:
        record = KafkaRecord(row.topic, row.key, row.value, decode_headers(row.headers), 0, row.id)
        notifications.planner.plan_records([record])
        last = row.id
    return last


def planned(system: System) -> list[tuple[str, str, str]]:
    with system.engine.connect() as connection:
        query = select(t.notifications.c.kind, t.notifications.c.recipient, t.notifications.c.channel)
        return [tuple(row) for row in connection.execute(query.order_by(t.notifications.c.id))]


def test_each_event_tells_the_right_people(system, clock, webhook):
    add_people(system, "zhao", "chaoyang", "haidian", password=None)  # the city's, 朝阳区's, 海淀区's
    notifications = notifications_for(
        system,
        clock,
        channels={"console": {}, "wecom": {}},
        groups={"ent-heating:dispatch": {"channel": "wecom", "address": webhook.url}},
    )
    ticket = open_case(system)
    seen = plan_outbox(system, notifications)
    assert planned(system) == [
        ("case.dispatched", "p1", "console"),
        ("case.dispatched", "group:ent-heating:dispatch", "wecom"),
    ]
    clock.now = NOW + timedelta(hours=1, minutes=31)  # general: acknowledge within 2 h; 75% warns
    sweep(system.engine, system.bus, clock)
    clock.now = NOW + timedelta(hours=2, minutes=1)  # the breach: the post's supervisor (the head post)
    sweep(system.engine, system.bus, clock)
    system.bus.handle(c.AcknowledgeCase(ticket, "p1"))
    system.bus.handle(c.ReturnCase(ticket, "p1", code="not_our_duty", reason="不归我们管"))
    seen = plan_outbox(system, notifications, seen)
    assert planned(system)[2:] == [
        ("case.acknowledge_reminder", "p1", "console"),
        ("sla.breached", "p1", "console"),
        ("case.escalated", "boss", "console"),
        ("case.returned", "center.sup", "console"),  # the center's duty supervisor, and the accounts whose
        ("case.returned", "chaoyang", "console"),  # scope holds 朝阳区: not 海淀
        ("case.returned", "zhao", "console"),
    ]
    plan_outbox(system, notifications)  # the same events read again
    assert len(planned(system)) == 8


def test_events_planned_together_tell_the_same_people_as_one_by_one_and_nothing_twice(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    for n, ticket in enumerate(("BJ1", "BJ2", "BJ3")):
        open_case(system, ticket, phone=f"1390000000{n}")
    clock.now = NOW + timedelta(hours=2, minutes=1)  # BJ1 and BJ3 breach; BJ2 was acknowledged
    system.bus.handle(c.AcknowledgeCase("BJ2", "p1"))
    sweep(system.engine, system.bus, clock)
    system.bus.handle(c.ReturnCase("BJ2", "p1", code="not_our_duty", reason="不归我们管"))
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.outbox).order_by(t.outbox.c.id)).all()
    records = [KafkaRecord(r.topic, r.key, r.value, decode_headers(r.headers), 0, r.id) for r in rows]

    for record in records:
        notifications.planner.plan_records([record])
    one_by_one = sorted(planned(system))
    with system.engine.begin() as connection:
        connection.execute(t.notifications.delete())
    assert notifications.planner.plan_records(records + records[:3]) == len(one_by_one)  # repeats in it

    assert sorted(planned(system)) == one_by_one
    assert {kind for kind, _, _ in one_by_one} >= {"case.dispatched", "sla.breached", "case.returned"}
    assert notifications.planner.plan_records(records) == 0


def test_messages_are_masked_and_a_confidential_requester_never_appears(system, clock, smtp, webhook):
    mailbox, port = smtp
    notifications = notifications_for(
        system,
        clock,
        channels={"email": {"host": "127.0.0.1", "port": port, "sender": "jiesu@example.cn"}, "wecom": {}},
        groups={"ent-heating:dispatch": {"channel": "wecom", "address": webhook.url}},
    )
    prefer(system, "p1", [("email", "p1@example.cn")])
    open_case(system, "BJ1")
    open_case(system, "BJ2", phone="13900002222", confidential=True)
    plan_outbox(system, notifications)
    for kind in (ChannelKind.EMAIL, ChannelKind.WECOM):
        while notifications.deliverer.deliver_due(kind):
            pass
    assert len(mailbox.messages) == 2 and len(webhook.requests) == 2
    delivered = [m.content.decode("utf-8", "replace") for m in mailbox.messages]
    delivered += [body.decode() for _, _, body in webhook.requests]
    with system.engine.connect() as connection:
        stored = [
            " ".join(filter(None, row))
            for row in connection.execute(
                select(t.notifications.c.subject, t.notifications.c.text, t.notifications.c.html)
            )
        ]
    for text in delivered + stored:
        assert PHONE not in text and "13900002222" not in text and NAME not in text
    assert any(
        "138****5678" in json.loads(body)["text"]["content"]
        for _, _, body in webhook.requests
        if b"BJ1" in body
    )
    confidential = [json.loads(body)["text"]["content"] for _, _, body in webhook.requests if b"BJ2" in body]
    assert confidential and all("138****5678" not in text and "张*" not in text for text in confidential)


HOSTILE = '{{ 7*7 }}<script>alert("x")</script><img src=x onerror=alert(1)>\r\nBcc: all@example.cn'
HOSTILE_ADDRESS = '"><svg onload=alert(1)>{{ 7*7 }}号楼'
HOSTILE_NAME = "<b>王</b>{{ 7*7 }}"
SMS_BODY = '{"to": {{ phone|tojson }}, "content": {{ text|tojson }}, "ref": {{ key|tojson }}}'


@pytest.mark.parametrize("own_channel", ["email", "sms"])
def test_text_from_the_hotline_stays_inert_text_in_every_message(system, clock, smtp, webhook, own_channel):
    """E-mail (HTML and text), SMS and the group robot, for a case whose description, address and requester
    name carry markup, template syntax and a header break: escaped in HTML, literal elsewhere, never run."""
    mailbox, port = smtp
    notifications = notifications_for(
        system,
        clock,
        channels={
            "email": {"host": "127.0.0.1", "port": port, "sender": "jiesu@example.cn"},
            "sms": {"url": webhook.url, "body_template": SMS_BODY},
            "wecom": {},
        },
        groups={"ent-heating:dispatch": {"channel": "wecom", "address": webhook.url}},
    )
    prefer(system, "p1", [("email", "p1@example.cn")] if own_channel == "email" else [("sms", "13900001111")])
    complaint = make_complaint(
        ticket_id="BJ-X",
        category="0101",
        urgency="general",
        description=HOSTILE,
        location={"district": "朝阳区", "street": "望京街道", "address": HOSTILE_ADDRESS},
        requester={"name": HOSTILE_NAME, "phone": PHONE},
    )
    handle_intake(intake_record(complaint), system.bus)
    plan_outbox(system, notifications)
    for kind in (ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.WECOM):
        while notifications.deliverer.deliver_due(kind):
            pass

    bodies = [json.loads(body) for _, _, body in webhook.requests]  # each still one JSON document
    robot = [body["text"]["content"] for body in bodies if body.get("msgtype") == "text"]
    sms = [body for body in bodies if "to" in body]
    assert len(robot) == 1 and "{{ 7*7 }}<script>" in robot[0]  # a text message: shown as sent
    delivered = [*robot, *(body["content"] for body in sms)]
    if own_channel == "sms":
        assert len(sms) == 1 and set(sms[0]) == {"to", "content", "ref"} and sms[0]["to"] == "13900001111"
        assert '{{ 7*7 }}<script>alert("x")</script>' in sms[0]["content"]
        assert not mailbox.messages
    else:
        [envelope] = mailbox.messages
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert envelope.rcpt_tos == ["p1@example.cn"] and "Bcc" not in mail and not sms
        html = mail.get_body(("html",)).get_content()
        text = mail.get_body(("plain",)).get_content()
        assert "<script>" not in html and "<img src" not in html and "<svg" not in html
        assert (
            "{{ 7*7 }}&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
            in html
        )
        assert "&#34;&gt;&lt;svg onload=alert(1)&gt;{{ 7*7 }}号楼" in html
        assert "{{ 7*7 }}<script>" in text
        delivered += [html, text, str(mail["Subject"])]
    for content in delivered:  # the requester's name only ever masked: its first character, then stars
        assert "<b>王</b>" not in content and "&lt;b&gt;王" not in content


def test_a_server_that_fails_twice_then_succeeds_gets_the_message_once(system, clock, webhook):
    notifications = notifications_for(system, clock, channels={"webhook": {"secret": "s3cret"}})
    prefer(system, "p1", [("webhook", webhook.url)])
    webhook.statuses = [500, 503]
    open_case(system)
    plan_outbox(system, notifications)
    deliverer = notifications.deliverer
    for _ in range(3):
        clock.now += timedelta(seconds=1)
        deliverer.deliver_due(ChannelKind.WEBHOOK)
    with system.engine.connect() as connection:
        row = connection.execute(select(t.notifications)).one()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    keys = {
        headers["X-Jiesu-Key"] if "X-Jiesu-Key" in headers else json.loads(body)["key"]
        for _, headers, body in webhook.requests
    }
    assert len(webhook.requests) == 3 and len(keys) == 1
    clock.now += timedelta(minutes=5)
    assert deliverer.deliver_due(ChannelKind.WEBHOOK) == 0  # sent: never again


def test_a_dead_channel_holds_back_no_other(system, clock, smtp, webhook):
    mailbox, port = smtp
    notifications = notifications_for(
        system,
        clock,
        channels={
            "email": {"host": "127.0.0.1", "port": port, "sender": "jiesu@example.cn"},
            "wecom": {"timeout": 30},
        },
        groups={"ent-heating:dispatch": {"channel": "wecom", "address": webhook.url}},
    )
    prefer(system, "p1", [("email", "p1@example.cn")])
    webhook.hold.clear()  # the robot's server takes the request and does not answer
    open_case(system)
    plan_outbox(system, notifications)
    stop = threading.Event()
    threads = notifications.start(stop)
    try:
        deadline = time.monotonic() + 20
        while not webhook.requests and time.monotonic() < deadline:  # the robot's thread is stuck on it
            time.sleep(0.05)
        assert webhook.requests, "the robot's message was not sent"
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mailbox.messages, "the e-mail waited for the robot"
        assert not webhook.hold.is_set()  # the robot still has no answer
    finally:
        webhook.hold.set()
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def test_quiet_hours_hold_a_non_urgent_message_until_they_end(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    prefer(system, "p1", [("console", "")], quiet="22:00-07:00")
    clock.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    open_case(system, "BJ1")  # general: not urgent
    plan_outbox(system, notifications)
    assert notifications.deliverer.deliver_due(ChannelKind.CONSOLE) == 0
    with system.engine.connect() as connection:
        due = connection.execute(select(t.notifications.c.due_at)).scalar_one()
    assert due == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # 07:00 in Beijing
    clock.now = datetime(2026, 11, 26, 23, 0, 1, tzinfo=UTC)
    assert notifications.deliverer.deliver_due(ChannelKind.CONSOLE) == 1


def test_urgent_messages_ignore_quiet_hours(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    prefer(system, "p1", [("console", "")], quiet="22:00-07:00")
    clock.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    complaint = make_complaint(
        ticket_id="BJ9", category="0101", urgency="urgent", location={"district": "朝阳区"}
    )
    handle_intake(intake_record(complaint), system.bus)
    plan_outbox(system, notifications)
    assert notifications.deliverer.deliver_due(ChannelKind.CONSOLE) == 1


def test_a_channel_that_fails_for_good_falls_back_to_the_next(system, clock, smtp):
    mailbox, port = smtp
    notifications = notifications_for(
        system, clock, channels={"email": {"host": "127.0.0.1", "port": port, "sender": "jiesu@example.cn"}}
    )
    prefer(system, "p1", [("sms", "13900001111"), ("email", "p1@example.cn")])  # no SMS gateway here
    open_case(system)
    plan_outbox(system, notifications)
    assert notifications.deliverer.deliver_due(ChannelKind.SMS) == 1
    assert notifications.deliverer.deliver_due(ChannelKind.EMAIL) == 1
    assert len(mailbox.messages) == 1
    with system.engine.connect() as connection:
        rows = connection.execute(
            select(
                t.notifications.c.channel, t.notifications.c.status, t.notifications.c.last_error
            ).order_by(t.notifications.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("sms", "failed", "channel sms is not configured"),
        ("email", "sent", None),
    ]


def test_the_daily_digest_on_a_fixed_day(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    open_case(system, "BJ1")  # received 2026-11-26 09:30 Beijing: today, not yesterday
    clock.now = NOW + timedelta(days=1)  # Friday 10:00: the acknowledge deadline (2 h) is long past
    router: Any = system.router
    count = plan_digests(
        system.engine,
        system.assessment,
        router.router.catalog,
        notifications.renderer,
        notifications.directory.supervisors(),
        clock.now,
    )
    assert count == 1  # the center's duty supervisor
    with system.engine.connect() as connection:
        subject, text = connection.execute(select(t.notifications.c.subject, t.notifications.c.text)).one()
    assert "2026-11-27" in subject + text
    assert "BJ1" in text  # overdue
    assert (
        plan_digests(
            system.engine,
            system.assessment,
            router.router.catalog,
            notifications.renderer,
            notifications.directory.supervisors(),
            clock.now,
        )
        == 0
    )  # once a day


def test_an_operator_sets_preferences_and_lists_failures_from_the_command_line(system, clock, monkeypatch):
    from typer.testing import CliRunner

    from jiesu.cli.main import app

    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    runner = CliRunner()
    refused = runner.invoke(app, ["notifications", "prefer", "p1", "--address", "pager=123"])
    assert refused.exit_code == 2 and "CHANNEL=ADDRESS" in refused.stderr
    done = runner.invoke(
        app, ["notifications", "prefer", "p1", "--address", "sms=13900001111", "--quiet", "22:00-07:00"]
    )
    assert done.exit_code == 0, done.stderr
    notifications = notifications_for(system, clock, channels={"console": {}})
    assert notifications.directory.person("p1").addresses[0].address == "13900001111"
    open_case(system)
    plan_outbox(system, notifications)
    notifications.deliverer.deliver_due(ChannelKind.SMS)  # no SMS gateway configured: fails for good
    listed = runner.invoke(app, ["notifications", "failed"])
    assert "p1 on sms (139****1111)" in listed.stdout and "channel sms is not configured" in listed.stdout


def test_a_unit_called_in_is_told_and_warned_of_its_own_deadlines(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    ticket = open_case(system)  # at ent-heating; 10:00 on a working day
    system.bus.handle(c.AcknowledgeCase(ticket, "p1"))
    call = c.WhistleCall("street-110105010", "请约谈物业公司")
    system.bus.handle(c.Whistle(ticket, "p1", calls=(call,)))  # acknowledge within 2 working hours: 12:00
    seen = plan_outbox(system, notifications)
    assert planned(system)[-1] == ("case.whistled", "street-110105010.duty", "console")
    clock.now = NOW + timedelta(hours=1, minutes=31)  # 75% of the street's 2 hours
    sweep(system.engine, system.bus, clock)
    clock.now = NOW + timedelta(hours=2, minutes=1)
    sweep(system.engine, system.bus, clock)
    plan_outbox(system, notifications, seen)
    assert planned(system)[-3:] == [  # the street's, not the lead's person on duty (p1)
        ("sla.warning", "street-110105010.duty", "console"),
        ("sla.breached", "street-110105010.duty", "console"),
        ("case.escalated", "street-110105010.duty", "console"),  # its desk has no supervisor: its head
    ]
    with system.engine.connect() as connection:
        text = connection.execute(
            select(t.notifications.c.text).where(t.notifications.c.kind == "case.whistled")
        ).scalar_one()
    assert "请约谈物业公司" in text and "2026-11-26 12:00前签收" in text


def test_a_governance_task_tells_its_units_head_then_the_center_when_overdue(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    tickets = [open_case(system, f"GV{n}", phone=f"1380000000{n}") for n in range(5)]
    hotspot = store_hotspot(system.engine, tickets, NOW)
    system.bus.handle(
        c.MergeCases("GV1", "zhao", tickets=("GV0",), reason="同一管网故障")
    )  # 并案: GV0 follows GV1, tells no one
    task_id = system.bus.handle(
        c.CreateGovernanceTask(
            "zhao", hotspot_id=hotspot.hotspot_id, unit="ent-heating", ask="查明管网故障", working_days=1
        )
    )
    clock.now = NOW + timedelta(days=5)  # past the deadline (Friday's end) and a working day more
    sweep(system.engine, system.bus, clock)

    def plan_hotspots() -> None:
        with system.engine.connect() as connection:
            rows = connection.execute(
                select(t.outbox).where(t.outbox.c.topic.like("%hotspots")).order_by(t.outbox.c.id)
            ).all()
        records = [KafkaRecord(r.topic, r.key, r.value, decode_headers(r.headers), 0, r.id) for r in rows]
        notifications.planner.plan_governance_records(records)

    plan_hotspots()
    plan_hotspots()  # read again: nothing twice
    told = [(kind, who) for kind, who, _ in planned(system) if kind.startswith("governance.")]
    assert told == [
        ("governance.created", "boss"),
        ("governance.warning", "boss"),
        ("governance.overdue", "boss"),  # level 1: the unit's head, and the center
        ("governance.overdue", "center.sup"),
        ("governance.overdue", "center.sup"),  # level 2: the center
    ]
    with system.engine.connect() as connection:
        text = connection.execute(
            select(t.notifications.c.text).where(t.notifications.c.kind == "governance.created")
        ).scalar_one()
    assert task_id in text and "查明管网故障" in text and "GV1" in text and "GV0" not in text


def test_a_unit_is_told_when_its_case_follows_a_main_case_and_when_it_is_its_own_again(system, clock):
    notifications = notifications_for(system, clock, channels={"console": {}})
    main, other = open_case(system, "BJ1"), open_case(system, "BJ2", phone="13900000002")  # at ent-heating
    seen = plan_outbox(system, notifications)
    told = len(planned(system))
    clock.now = NOW + timedelta(minutes=30)
    system.bus.handle(c.MergeCases(main, "zhao", tickets=(other,), reason="同一处供暖管网故障"))
    seen = plan_outbox(system, notifications, seen)
    plan_outbox(system, notifications)  # read again: nothing twice
    clock.now = NOW + timedelta(hours=1)
    system.bus.handle(c.UnmergeCase(other, "zhao", reason="不是同一栋楼的问题"))
    plan_outbox(system, notifications, seen)

    assert planned(system)[told:] == [
        ("case.merged", "p1", "console"),
        ("case.unmerged", "p1", "console"),
    ]
    with system.engine.connect() as connection:
        rows = connection.execute(
            select(t.notifications.c.kind, t.notifications.c.ticket_id, t.notifications.c.text).where(
                t.notifications.c.kind.in_(["case.merged", "case.unmerged"])
            )
        ).all()
    texts = {kind: (ticket, text) for kind, ticket, text in rows}
    assert texts["case.merged"][0] == texts["case.unmerged"][0] == other
    assert "已并入主工单BJ1" in texts["case.merged"][1] and "同一处供暖管网故障" in texts["case.merged"][1]
    assert "恢复由本单位单独办理" in texts["case.unmerged"][1]
