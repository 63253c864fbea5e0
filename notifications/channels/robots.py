"""Group robots of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书); the address is the robot's URL.

Each platform answers HTTP 200 with an error code in the JSON body. A non-zero code is permanent, except
when the platform is busy or limiting the rate: then a later try may pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import httpx

from notifications.channels._http import HttpSender, excerpt, is_retryable, redact
from notifications.message import ChannelKind, DeliveryError, Message


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with DingTalk's `timestamp` (milliseconds) and `sign` query parameters:
    `sign` = urlencoded base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    sign = quote_plus(base64.b64encode(mac.digest()).decode())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's `sign` body field: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def content(message: Message) -> str:
    """What the group reads: the subject, then the text."""
    return f"{message.subject}\n{message.text}" if message.subject else message.text


class _Robot:
    """POSTs a platform's JSON document and reads the platform's error code from the answer."""

    platform: str
    retryable_codes: frozenset[int]

    def __init__(self, timeout: float, client: httpx.Client | None) -> None:
        self._http = HttpSender(timeout, client)

    def _deliver(self, url: str, document: Mapping[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        response = self._http.request("POST", url, body, {"Content-Type": "application/json; charset=utf-8"})
        code = self._code(response)
        if response.is_success and code == 0:
            return
        retryable = code in self.retryable_codes or (
            not response.is_success and is_retryable(response.status_code)
        )
        raise DeliveryError(
            f"{self.platform} robot {redact(url)}: HTTP {response.status_code}, "
            f"error {code}: {excerpt(response)}",
            permanent=not retryable,
        )

    def _code(self, response: httpx.Response) -> int | None:
        """The platform's error code (0 for success), if the answer has one."""
        answer = _json_object(response)
        return _integer(answer.get("errcode")) if answer is not None else None

    def close(self) -> None:
        self._http.close()


class WeComRobot(_Robot):
    """企业微信 group robot: `{"msgtype": "text", "text": {"content": ...}}`, ok when `errcode == 0`."""

    kind = ChannelKind.WECOM
    platform = "WeCom"
    retryable_codes = frozenset({-1, 45009})  # system busy; API call frequency over the limit

    def __init__(self, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        super().__init__(timeout, client)

    def send(self, message: Message) -> None:
        self._deliver(message.address, {"msgtype": "text", "text": {"content": content(message)}})


class DingTalkRobot(_Robot):
    """钉钉 group robot: `{"msgtype": "text", "text": {"content": ...}}`, ok when `errcode == 0`; with a
    `secret` (the robot's 加签 security setting) the URL is signed."""

    kind = ChannelKind.DINGTALK
    platform = "DingTalk"
    retryable_codes = frozenset({-1, 130101})  # system busy; sending too fast

    def __init__(
        self, secret: str | None = None, timeout: float = 10.0, client: httpx.Client | None = None
    ) -> None:
        super().__init__(timeout, client)
        self._secret = secret or None

    def send(self, message: Message) -> None:
        url = message.address
        if self._secret is not None:
            url = dingtalk_signed_url(url, self._secret, int(time.time() * 1000))
        self._deliver(url, {"msgtype": "text", "text": {"content": content(message)}})


class FeishuRobot(_Robot):
    """飞书 group robot: `{"msg_type": "text", "content": {"text": ...}}`, ok when `code == 0` (older answers:
    `StatusCode == 0`); with a `secret` (签名校验) the body carries `timestamp` and `sign`."""

    kind = ChannelKind.FEISHU
    platform = "Feishu"
    retryable_codes = frozenset({9499})  # too many requests

    def __init__(
        self, secret: str | None = None, timeout: float = 10.0, client: httpx.Client | None = None
    ) -> None:
        super().__init__(timeout, client)
        self._secret = secret or None

    def send(self, message: Message) -> None:
        document: dict[str, Any] = {"msg_type": "text", "content": {"text": content(message)}}
        if self._secret is not None:
            timestamp = int(time.time())
            document = {"timestamp": str(timestamp), "sign": feishu_sign(self._secret, timestamp), **document}
        self._deliver(message.address, document)

    def _code(self, response: httpx.Response) -> int | None:
        answer = _json_object(response)
        if answer is None:
            return None
        return _integer(answer["code"] if "code" in answer else answer.get("StatusCode"))


def _json_object(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
