"""The delivery channels against real servers on 127.0.0.1: an aiosmtpd SMTP server, and a small HTTP server
that records each request and answers as the test tells it (status, JSON body, delay)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from notifications.channels import (
    ConsoleChannel,
    DingTalkRobot,
    FeishuRobot,
    SmsGatewayChannel,
    SmtpChannel,
    WebhookChannel,
    WeComRobot,
    build_channels,
    dingtalk_signed_url,
    feishu_sign,
    verify,
)
from notifications.message import ChannelKind, DeliveryError, Message

TIMEOUT = 0.5
SUBJECT = "【催办】朝阳区夜间施工噪音投诉"
TEXT = "市民反映：建国路 88 号工地夜间施工，噪音扰民。请于 2 小时内联系市民。"
HTML = "<p>市民反映：<b>建国路 88 号</b>工地夜间施工，噪音扰民。</p>"


def make_message(channel: ChannelKind, address: str, **changes: Any) -> Message:
    message = Message(
        key=f"evt-20261126-0001:u-7:{channel}", channel=channel, address=address, subject=SUBJECT, text=TEXT
    )
    return replace(message, **changes)


def sends_in_time(send: Callable[[], None]) -> DeliveryError:
    """The DeliveryError `send` raises, checked to come within about one timeout."""
    started = time.monotonic()
    with pytest.raises(DeliveryError) as raised:
        send()
    assert time.monotonic() - started < TIMEOUT + 0.5
    return raised.value


# --- SMTP -----------------------------------------------------------------------------------------------


class Mailbox:
    """Keeps the envelopes it receives; refuses recipients at refused.example.cn; answers 451 when busy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Envelope] = []
        self.busy = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.endswith("@refused.example.cn"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.busy:
            return "451 4.3.0 Try again later"
        self.received.append(envelope)
        return "250 Message accepted"

    def mail(self, index: int = -1) -> EmailMessage:
        content = self.received[index].content
        assert isinstance(content, bytes)
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        return mail


@contextmanager
def smtp_server(port: int, **parameters: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox(port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **parameters)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(free_tcp_port: int) -> Iterator[Mailbox]:
    with smtp_server(free_tcp_port) as mailbox:
        yield mailbox


def smtp_channel(port: int, **options: Any) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", port, "接诉即办 <jiesu@example.cn>", timeout=TIMEOUT, **options)


def test_email_arrives_intact_with_its_html_alternative_and_key(mailbox: Mailbox) -> None:
    message = make_message(ChannelKind.EMAIL, "wang.fang@example.cn", html=HTML)

    smtp_channel(mailbox.port).send(message)

    (envelope,) = mailbox.received
    assert envelope.mail_from == "jiesu@example.cn"
    assert envelope.rcpt_tos == ["wang.fang@example.cn"]
    mail = mailbox.mail()
    assert mail["Subject"] == SUBJECT
    assert mail["To"] == "wang.fang@example.cn"
    assert mail["From"].addresses[0].display_name == "接诉即办"
    assert mail["X-Jiesu-Key"] == message.key
    assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@example.cn>")
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert plain.get_content().rstrip("\n") == TEXT
    assert html.get_content().rstrip("\n") == HTML


def test_email_without_html_is_plain_text_and_a_retry_keeps_the_message_id(mailbox: Mailbox) -> None:
    channel = smtp_channel(mailbox.port)
    message = make_message(ChannelKind.EMAIL, "wang.fang@example.cn", urgent=True)

    channel.send(message)
    channel.send(message)
    channel.send(replace(message, key="evt-20261126-0002:u-7:email"))

    first, retried, other = (mailbox.mail(i) for i in range(3))
    assert first.get_content_type() == "text/plain"
    assert first.get_content().rstrip("\n") == TEXT
    assert first["Importance"] == "high"
    assert first["Message-ID"] == retried["Message-ID"] != other["Message-ID"]


def test_email_logs_in_when_given_credentials(free_tcp_port: int) -> None:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        valid = isinstance(data, LoginPassword) and (data.login, data.password) == (b"jiesu", b"s3cret")
        return AuthResult(success=valid, handled=False)

    parameters = {"authenticator": authenticate, "auth_require_tls": False}
    with smtp_server(free_tcp_port, **parameters) as mailbox:
        message = make_message(ChannelKind.EMAIL, "wang.fang@example.cn")
        smtp_channel(mailbox.port, username="jiesu", password="s3cret").send(message)
        assert len(mailbox.received) == 1

        error = sends_in_time(
            lambda: smtp_channel(mailbox.port, username="jiesu", password="wrong").send(message)
        )
        assert error.permanent
        assert len(mailbox.received) == 1


def test_a_refused_recipient_is_permanent(mailbox: Mailbox) -> None:
    message = make_message(ChannelKind.EMAIL, "nobody@refused.example.cn")

    error = sends_in_time(lambda: smtp_channel(mailbox.port).send(message))

    assert error.permanent
    assert "550" in str(error)
    assert mailbox.received == []


def test_an_address_that_is_no_e_mail_address_is_permanent(mailbox: Mailbox) -> None:
    error = sends_in_time(lambda: smtp_channel(mailbox.port).send(make_message(ChannelKind.EMAIL, "")))

    assert error.permanent
    assert mailbox.received == []


def test_a_server_asking_to_try_later_is_temporary(mailbox: Mailbox) -> None:
    mailbox.busy = True

    error = sends_in_time(
        lambda: smtp_channel(mailbox.port).send(make_message(ChannelKind.EMAIL, "wang.fang@example.cn"))
    )

    assert not error.permanent
    assert "451" in str(error)


def test_starttls_without_server_support_is_permanent(mailbox: Mailbox) -> None:
    channel = smtp_channel(mailbox.port, starttls=True)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.EMAIL, "wang.fang@example.cn")))

    assert error.permanent
    assert mailbox.received == []


def test_a_closed_smtp_port_is_temporary(free_tcp_port: int) -> None:
    channel = smtp_channel(free_tcp_port)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.EMAIL, "wang.fang@example.cn")))

    assert not error.permanent


# --- HTTP -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})  # JSON, or bytes as they are
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Answer)
        self.requests: list[Request] = []
        self.reply = Reply()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Answer(BaseHTTPRequestHandler):
    """Records the request, then answers with the server's current `Reply`."""

    def do_POST(self) -> None:
        server = self.server
        assert isinstance(server, RecordingServer)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        where = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        server.requests.append(Request(self.command, where.path, parse_qs(where.query), headers, body))
        reply = server.reply
        time.sleep(reply.delay)
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client has given up waiting

    do_PUT = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=1)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def closed_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/hook"


# --- Webhook --------------------------------------------------------------------------------------------

SECRET = "whsec-7f3a9c"


def test_webhook_posts_json_signed_over_the_exact_body(server: RecordingServer) -> None:
    channel = WebhookChannel(SECRET, timeout=TIMEOUT)
    message = make_message(ChannelKind.WEBHOOK, f"{server.url}/jiesu/events", urgent=True)
    try:
        channel.send(message)
    finally:
        channel.close()

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/jiesu/events")
    assert request.json() == {
        "key": message.key,
        "channel": "webhook",
        "subject": SUBJECT,
        "text": TEXT,
        "urgent": True,
    }
    timestamp, signature = request.headers["x-jiesu-timestamp"], request.headers["x-jiesu-signature"]
    assert abs(int(timestamp) - time.time()) < 5
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    now = time.time()
    assert verify(SECRET, timestamp, request.body, signature, now)
    assert not verify(SECRET, timestamp, request.body + b" ", signature, now)
    assert not verify("another-secret", timestamp, request.body, signature, now)
    assert not verify(SECRET, timestamp, request.body, signature, now + 301)
    assert not verify(SECRET, timestamp, request.body, signature.removeprefix("sha256="), now)
    assert not verify(SECRET, "yesterday", request.body, signature, now)


def test_verify_against_an_independent_signature() -> None:
    body = '{"key":"k1","text":"你好"}'.encode()
    signature = "sha256=" + hmac.new(b"s", b"1700000000." + body, hashlib.sha256).hexdigest()

    assert verify("s", 1_700_000_000, body, signature, now=1_700_000_299.0)
    assert verify("s", "1700000000", body, signature, now=1_699_999_800.0, tolerance=200)
    assert not verify("s", 1_700_000_000, body, signature, now=1_700_000_301.0)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True)],
)
def test_webhook_http_errors(
    server: RecordingServer, client: httpx.Client, status: int, permanent: bool
) -> None:
    server.reply = Reply(status=status, body={"error": "nope"})
    channel = WebhookChannel(SECRET, timeout=TIMEOUT, client=client)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.WEBHOOK, f"{server.url}/hook")))

    assert error.permanent is permanent
    assert str(status) in str(error)


def test_webhook_slow_server_is_a_temporary_timeout(server: RecordingServer, client: httpx.Client) -> None:
    server.reply = Reply(delay=TIMEOUT + 0.3)
    channel = WebhookChannel(SECRET, timeout=TIMEOUT, client=client)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.WEBHOOK, f"{server.url}/hook")))

    assert not error.permanent


def test_webhook_connection_refused_is_temporary(free_tcp_port: int, client: httpx.Client) -> None:
    channel = WebhookChannel(SECRET, timeout=TIMEOUT, client=client)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.WEBHOOK, closed_url(free_tcp_port))))

    assert not error.permanent


def test_webhook_to_something_that_is_not_a_url_is_permanent(client: httpx.Client) -> None:
    channel = WebhookChannel(SECRET, timeout=TIMEOUT, client=client)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.WEBHOOK, "ftp://example.cn/hook")))

    assert error.permanent


# --- Group robots ---------------------------------------------------------------------------------------

CONTENT = f"{SUBJECT}\n{TEXT}"


def test_wecom_robot_posts_a_text_message(server: RecordingServer, client: httpx.Client) -> None:
    robot = WeComRobot(timeout=TIMEOUT, client=client)

    robot.send(make_message(ChannelKind.WECOM, f"{server.url}/cgi-bin/webhook/send?key=693a91f6"))

    (request,) = server.requests
    assert request.path == "/cgi-bin/webhook/send" and request.query == {"key": ["693a91f6"]}
    assert request.json() == {"msgtype": "text", "text": {"content": CONTENT}}


def test_dingtalk_robot_without_a_secret_posts_to_the_url_as_is(
    server: RecordingServer, client: httpx.Client
) -> None:
    robot = DingTalkRobot(timeout=TIMEOUT, client=client)

    robot.send(make_message(ChannelKind.DINGTALK, f"{server.url}/robot/send?access_token=abc123"))

    (request,) = server.requests
    assert request.query == {"access_token": ["abc123"]}
    assert request.json() == {"msgtype": "text", "text": {"content": CONTENT}}


def test_dingtalk_robot_signs_the_url(server: RecordingServer, client: httpx.Client) -> None:
    secret = "SEC1d2b7c0e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7"
    robot = DingTalkRobot(secret, timeout=TIMEOUT, client=client)

    robot.send(make_message(ChannelKind.DINGTALK, f"{server.url}/robot/send?access_token=abc123"))

    (request,) = server.requests
    assert request.json() == {"msgtype": "text", "text": {"content": CONTENT}}
    assert request.query["access_token"] == ["abc123"]
    (timestamp,) = request.query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 5000
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert request.query["sign"] == [base64.b64encode(digest).decode()]


def test_dingtalk_signed_url_matches_the_documented_signing() -> None:
    secret, timestamp = "SECabc+/=", 1_700_000_000_123
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest))

    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t0k", secret, timestamp)

    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=t0k&timestamp={timestamp}&sign={sign}"


def test_feishu_robot_posts_a_text_message(server: RecordingServer, client: httpx.Client) -> None:
    server.reply = Reply(body={"code": 0, "msg": "success", "data": {}})
    robot = FeishuRobot(timeout=TIMEOUT, client=client)

    robot.send(make_message(ChannelKind.FEISHU, f"{server.url}/open-apis/bot/v2/hook/6f1c"))

    (request,) = server.requests
    assert request.path == "/open-apis/bot/v2/hook/6f1c"
    assert request.json() == {"msg_type": "text", "content": {"text": CONTENT}}


def test_feishu_robot_signs_the_body(server: RecordingServer, client: httpx.Client) -> None:
    server.reply = Reply(body={"StatusCode": 0, "StatusMessage": "success", "Extra": None})
    secret = "qnDTdmYv3kKxZ7vQ"
    robot = FeishuRobot(secret, timeout=TIMEOUT, client=client)

    robot.send(make_message(ChannelKind.FEISHU, f"{server.url}/open-apis/bot/v2/hook/6f1c"))

    (request,) = server.requests
    document = request.json()
    timestamp = document.pop("timestamp")
    assert isinstance(timestamp, str) and abs(int(timestamp) - time.time()) < 5
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert document == {
        "sign": base64.b64encode(digest).decode(),
        "msg_type": "text",
        "content": {"text": CONTENT},
    }


def test_feishu_sign_matches_the_documented_signing() -> None:
    digest = hmac.new(b"1700000000\nsecret", b"", hashlib.sha256).digest()

    assert feishu_sign("secret", 1_700_000_000) == base64.b64encode(digest).decode()


ROBOTS: dict[str, Callable[[httpx.Client], WeComRobot | DingTalkRobot | FeishuRobot]] = {
    "wecom": lambda client: WeComRobot(timeout=TIMEOUT, client=client),
    "dingtalk": lambda client: DingTalkRobot("SECx", timeout=TIMEOUT, client=client),
    "feishu": lambda client: FeishuRobot("s", timeout=TIMEOUT, client=client),
}


@pytest.mark.parametrize(
    ("platform", "reply", "permanent"),
    [
        ("wecom", Reply(body={"errcode": 93000, "errmsg": "invalid webhook url"}), True),
        ("wecom", Reply(body={"errcode": 45009, "errmsg": "api freq out of limit"}), False),
        ("wecom", Reply(status=502, body=b"<html>Bad Gateway</html>"), False),
        ("dingtalk", Reply(body={"errcode": 310000, "errmsg": "sign not match"}), True),
        ("dingtalk", Reply(body={"errcode": 130101, "errmsg": "send too fast"}), False),
        ("dingtalk", Reply(body=b"<html>welcome</html>"), True),
        ("feishu", Reply(body={"code": 19021, "msg": "sign match fail"}), True),
        ("feishu", Reply(body={"code": 9499, "msg": "Too Many Requests"}), False),
        ("feishu", Reply(status=429, body={"code": 9499, "msg": "Too Many Requests"}), False),
        ("feishu", Reply(status=400, body={"code": 9499, "msg": "Too Many Requests"}), False),
        ("feishu", Reply(status=400, body={"code": 19001, "msg": "param invalid"}), True),
        ("feishu", Reply(delay=TIMEOUT + 0.3), False),
    ],
)
def test_robot_errors(
    server: RecordingServer, client: httpx.Client, platform: str, reply: Reply, permanent: bool
) -> None:
    server.reply = reply
    robot = ROBOTS[platform](client)

    address = f"{server.url}/hook/t0k3n?access_token=t0k3n"

    error = sends_in_time(lambda: robot.send(make_message(robot.kind, address)))

    assert error.permanent is permanent
    assert "t0k3n" not in str(error)


# --- SMS gateway ----------------------------------------------------------------------------------------

TEMPLATE = '{"to": {{ phone|tojson }}, "content": {{ text|tojson }}, "ref": {{ key|tojson }}}'


def test_sms_gateway_request_is_rendered_from_the_template(
    server: RecordingServer, client: httpx.Client
) -> None:
    channel = SmsGatewayChannel(
        f"{server.url}/v1/sms",
        method="put",
        headers={"Authorization": "Bearer gw-token"},
        body_template=TEMPLATE,
        timeout=TIMEOUT,
        client=client,
    )
    message = make_message(ChannelKind.SMS, "13912345678", text='含"引号"与\n换行')

    channel.send(message)

    (request,) = server.requests
    assert (request.method, request.path) == ("PUT", "/v1/sms")
    assert request.headers["authorization"] == "Bearer gw-token"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == {"to": "13912345678", "content": '含"引号"与\n换行', "ref": message.key}


def test_sms_gateway_keeps_the_operators_content_type(server: RecordingServer, client: httpx.Client) -> None:
    channel = SmsGatewayChannel(
        f"{server.url}/send",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body_template="mobile={{ phone|urlencode }}&msg={{ text|urlencode }}",
        timeout=TIMEOUT,
        client=client,
    )

    channel.send(make_message(ChannelKind.SMS, "13912345678", text="请回电"))

    (request,) = server.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {"mobile": ["13912345678"], "msg": ["请回电"]}


@pytest.mark.parametrize(
    "template",
    [
        '{"to": {{ phone|tojson }}, "content": {{ txt|tojson }}}',  # an unknown variable
        '{"to": {{ phone|tojson }',  # a syntax error
        "{{ phone.__class__.__mro__ }}",  # outside the sandbox
    ],
)
def test_a_bad_sms_template_is_refused_when_the_channel_is_built(template: str) -> None:
    with pytest.raises(ValueError, match="body_template"):
        SmsGatewayChannel("http://127.0.0.1:9/send", body_template=template)


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (401, True)])
def test_sms_gateway_http_errors(
    server: RecordingServer, client: httpx.Client, status: int, permanent: bool
) -> None:
    server.reply = Reply(status=status)
    channel = SmsGatewayChannel(f"{server.url}/send", body_template=TEMPLATE, timeout=TIMEOUT, client=client)

    error = sends_in_time(lambda: channel.send(make_message(ChannelKind.SMS, "13912345678")))

    assert error.permanent is permanent


# --- Console --------------------------------------------------------------------------------------------


def test_console_writes_one_line_per_message(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    message = make_message(ChannelKind.CONSOLE, "", text="第一行\n第二行")

    ConsoleChannel(stream).send(message)
    with caplog.at_level(logging.INFO, logger="jiesu.notify"):
        ConsoleChannel(logging.getLogger("jiesu.notify")).send(message)

    line = f"[notify] {message.key} → -: {SUBJECT} | 第一行 第二行"
    assert stream.getvalue() == line + "\n"
    assert caplog.messages == [line]


# --- build_channels -------------------------------------------------------------------------------------


def test_build_channels_builds_what_is_configured_and_the_console(
    mailbox: Mailbox, server: RecordingServer, client: httpx.Client
) -> None:
    config = {
        "email": {
            "host": "127.0.0.1",
            "port": mailbox.port,
            "sender": "jiesu@example.cn",
            "timeout": TIMEOUT,
        },
        "webhook": {"secret": SECRET, "timeout": TIMEOUT},
        "wecom": None,
        "dingtalk": {"secret": "SECx"},
        "feishu": {},
        "sms": {"url": f"{server.url}/sms", "body_template": TEMPLATE, "headers": {"X-Api-Key": "k"}},
    }

    channels = build_channels(config, client=client)

    assert set(channels) == set(ChannelKind)
    assert build_channels({}).keys() == {ChannelKind.CONSOLE}
    assert build_channels({"wecom": {}}).keys() == {ChannelKind.WECOM, ChannelKind.CONSOLE}
    for kind, channel in channels.items():
        assert channel.kind is kind
    channels[ChannelKind.EMAIL].send(make_message(ChannelKind.EMAIL, "wang.fang@example.cn"))
    channels[ChannelKind.SMS].send(make_message(ChannelKind.SMS, "13912345678"))
    assert mailbox.mail()["Subject"] == SUBJECT
    (request,) = server.requests
    assert request.headers["x-api-key"] == "k" and request.json()["to"] == "13912345678"


EMAIL = {"host": "127.0.0.1", "port": 2525, "sender": "jiesu@example.cn"}


@pytest.mark.parametrize(
    ("config", "channel", "field_name"),
    [
        ({"email": {"host": "127.0.0.1", "sender": "jiesu@example.cn"}}, "email", "port"),
        ({"email": {**EMAIL, "port": "2525"}}, "email", "port"),
        ({"email": {**EMAIL, "port": 70000}}, "email", "port"),
        ({"email": {**EMAIL, "sender": "nobody"}}, "email", "sender"),
        ({"email": {**EMAIL, "starttls": "yes"}}, "email", "starttls"),
        ({"webhook": {}}, "webhook", "secret"),
        ({"webhook": {"secret": ""}}, "webhook", "secret"),
        ({"webhook": {"secret": "s", "timeout": 0}}, "webhook", "timeout"),
        ({"wecom": {"key": "693a91f6"}}, "wecom", "key"),
        ({"dingtalk": {"secret": 42}}, "dingtalk", "secret"),
        ({"sms": {"url": "http://127.0.0.1/sms"}}, "sms", "body_template"),
        ({"sms": {"url": "http://127.0.0.1/sms", "body_template": "{{ nobody }}"}}, "sms", "body_template"),
        ({"sms": {"url": "127.0.0.1/sms", "body_template": TEMPLATE}}, "sms", "url"),
        (
            {"sms": {"url": "http://127.0.0.1/sms", "body_template": TEMPLATE, "method": "GET"}},
            "sms",
            "method",
        ),
        ({"sms": {"url": "http://h/s", "body_template": TEMPLATE, "headers": {"X-N": 1}}}, "sms", "headers"),
    ],
)
def test_build_channels_names_the_channel_and_field_of_a_wrong_config(
    config: dict[str, Any], channel: str, field_name: str
) -> None:
    with pytest.raises(ValueError, match=rf"'{channel}'.*{field_name}"):
        build_channels(config)


@pytest.mark.parametrize(
    ("config", "channel"), [({"pager": {}}, "pager"), ({"email": "smtp.example.cn"}, "email")]
)
def test_build_channels_refuses_an_unknown_channel_or_a_section_that_is_not_a_mapping(
    config: dict[str, Any], channel: str
) -> None:
    with pytest.raises(ValueError, match=f"'{channel}'"):
        build_channels(config)
