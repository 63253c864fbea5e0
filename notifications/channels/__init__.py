"""Delivery channels, and `build_channels` to make them from the operator's configuration.

The configuration is a plain mapping, as read from YAML: one section per channel, e.g.

    email: {host: smtp.example.cn, port: 587, sender: jiesu@example.cn, starttls: true}
    webhook: {secret: "..."}
    wecom: {}
    dingtalk: {secret: SEC...}
    feishu: {secret: "..."}
    sms: {url: "https://sms.example.cn/send", body_template: '{"to": {{ phone|tojson }}}'}

Only the channels present are built; the console is always there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notifications.channels.console import ConsoleChannel
from notifications.channels.email import SmtpChannel
from notifications.channels.robots import (
    DingTalkRobot,
    FeishuRobot,
    WeComRobot,
    dingtalk_signed_url,
    feishu_sign,
)
from notifications.channels.sms import SmsGatewayChannel
from notifications.channels.webhook import WebhookChannel, verify
from notifications.message import Channel, ChannelKind

__all__ = [
    "ConsoleChannel",
    "DingTalkRobot",
    "FeishuRobot",
    "SmsGatewayChannel",
    "SmtpChannel",
    "WeComRobot",
    "WebhookChannel",
    "build_channels",
    "dingtalk_signed_url",
    "feishu_sign",
    "verify",
]

Seconds = Annotated[float, Field(gt=0, le=120)]


class _Section(BaseModel):
    """One channel's section of the configuration; `build` makes the channel."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def build(self, client: httpx.Client | None) -> Channel:
        raise NotImplementedError


class EmailSection(_Section):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return SmtpChannel(
            self.host, self.port, self.sender, self.username, self.password, self.starttls, self.timeout
        )


class WebhookSection(_Section):
    secret: str = Field(min_length=1)
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return WebhookChannel(self.secret, self.timeout, client)


class WeComSection(_Section):
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return WeComRobot(self.timeout, client)


class DingTalkSection(_Section):
    secret: str | None = Field(None, min_length=1)
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return DingTalkRobot(self.secret, self.timeout, client)


class FeishuSection(_Section):
    secret: str | None = Field(None, min_length=1)
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return FeishuRobot(self.secret, self.timeout, client)


class SmsSection(_Section):
    url: str = Field(pattern=r"^https?://")
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body_template: str = Field(min_length=1)
    timeout: Seconds = 10.0

    def build(self, client: httpx.Client | None) -> Channel:
        return SmsGatewayChannel(
            self.url,
            method=self.method,
            headers=self.headers,
            body_template=self.body_template,
            timeout=self.timeout,
            client=client,
        )


class ConsoleSection(_Section):
    def build(self, client: httpx.Client | None) -> Channel:
        return ConsoleChannel()


SECTIONS: dict[ChannelKind, type[_Section]] = {
    ChannelKind.EMAIL: EmailSection,
    ChannelKind.WEBHOOK: WebhookSection,
    ChannelKind.WECOM: WeComSection,
    ChannelKind.DINGTALK: DingTalkSection,
    ChannelKind.FEISHU: FeishuSection,
    ChannelKind.SMS: SmsSection,
    ChannelKind.CONSOLE: ConsoleSection,
}


def build_channels(
    config: Mapping[str, Any], client: httpx.Client | None = None
) -> dict[ChannelKind, Channel]:
    """One channel per section of `config`, plus the console. A wrong section raises a `ValueError` naming
    the channel and the field. The HTTP channels share `client` when given, else each has its own."""
    channels: dict[ChannelKind, Channel] = {}
    for name, section in config.items():
        try:
            kind = ChannelKind(name)
        except ValueError:
            known = ", ".join(kind.value for kind in ChannelKind)
            raise ValueError(f"notification channel {name!r}: unknown; known channels: {known}") from None
        channels[kind] = _build(kind, {} if section is None else section, client)
    channels.setdefault(ChannelKind.CONSOLE, ConsoleChannel())
    return channels


def _build(kind: ChannelKind, section: object, client: httpx.Client | None) -> Channel:
    where = f"notification channel {kind.value!r}"
    if not isinstance(section, Mapping):
        raise ValueError(f"{where}: expected a mapping of fields, got a {type(section).__name__}")
    try:
        return SECTIONS[kind].model_validate(dict(section)).build(client)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"{where}: {problems}") from None
    except ValueError as exc:  # from the channel's constructor: "<field>: <problem>"
        field, _, problem = str(exc).partition(": ")
        raise ValueError(f"{where}: field {field!r}: {problem}") from None
