"""What a channel delivers, and how a delivery fails. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ChannelKind(StrEnum):
    EMAIL = "email"  # SMTP
    WEBHOOK = "webhook"  # JSON POST signed with HMAC-SHA256
    WECOM = "wecom"  # 企业微信 group robot
    DINGTALK = "dingtalk"  # 钉钉 group robot (signed URL)
    FEISHU = "feishu"  # 飞书 group robot
    SMS = "sms"  # an HTTP SMS gateway
    CONSOLE = "console"  # the log, for the demo


@dataclass(frozen=True)
class Message:
    """One message to one address on one channel, already rendered and masked."""

    key: str  # idempotency key: event × recipient × channel
    channel: ChannelKind
    address: str  # e-mail address, phone number, or the robot's / webhook's URL; "" for the console
    subject: str
    text: str  # the short text (SMS, IM)
    html: str | None = None  # the rich text (e-mail)
    urgent: bool = False


class DeliveryError(Exception):
    """The channel could not deliver. `permanent`: trying again will not help (a 4xx, a refused address);
    otherwise it may (a timeout, a 5xx, a rate limit)."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent


class Channel(Protocol):
    kind: ChannelKind

    def send(self, message: Message) -> None:
        """Deliver, or raise `DeliveryError`. Must return or raise within the channel's timeout."""
