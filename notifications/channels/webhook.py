"""A JSON POST to the recipient's URL, signed with HMAC-SHA256 so the receiver can tell it came from us.

Signature: `X-Jiesu-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`, with the unix
seconds in `X-Jiesu-Timestamp` and `body` the exact bytes sent. Receivers check it with `verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from notifications.channels._http import HttpSender, check_status
from notifications.message import ChannelKind, Message

TIMESTAMP_HEADER = "X-Jiesu-Timestamp"
SIGNATURE_HEADER = "X-Jiesu-Signature"
SCHEME = "sha256="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Jiesu-Signature` value for this body sent at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def verify(
    secret: str, timestamp: str | int, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """Whether `signature` signs `body` at `timestamp` with `secret`, and `timestamp` is within `tolerance`
    seconds of `now`. For receivers; the comparison takes constant time."""
    try:
        seconds = int(timestamp)
    except ValueError:
        return False
    if abs(now - seconds) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, seconds, body).encode(), signature.encode())


class WebhookChannel:
    """POSTs `{"key", "channel", "subject", "text", "urgent"}` to `message.address`."""

    kind = ChannelKind.WEBHOOK

    def __init__(self, secret: str, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        if not secret:
            raise ValueError("secret: must not be empty")
        self._secret = secret
        self._http = HttpSender(timeout, client)

    def send(self, message: Message) -> None:
        body = payload(message)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        check_status(self._http.request("POST", message.address, body, headers))

    def close(self) -> None:
        self._http.close()


def payload(message: Message) -> bytes:
    document = {
        "key": message.key,
        "channel": str(message.channel),
        "subject": message.subject,
        "text": message.text,
        "urgent": message.urgent,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
