"""One HTTP request for the HTTP channels, with transport failures and status codes turned into
`DeliveryError`s: 408, 429, 5xx, timeouts and connection failures may pass; other 4xx will not."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from notifications.message import DeliveryError

RETRYABLE_STATUSES = frozenset({408, 429})


class HttpSender:
    """Sends with the given client, or with one of its own (closed by `close`)."""

    def __init__(self, timeout: float, client: httpx.Client | None) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout: must be positive, got {timeout}")
        self.timeout = timeout
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def request(self, method: str, url: str, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """The response, whatever its status; raises only when no response came back."""
        try:
            return self._client.request(method, url, content=content, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"{redact(url)}: no answer within {self.timeout} s", permanent=False) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise DeliveryError(f"{redact(url)!r}: not a usable URL ({exc})", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{redact(url)}: {type(exc).__name__}: {exc}", permanent=False) from exc

    def close(self) -> None:
        if self._own_client:
            self._client.close()


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def check_status(response: httpx.Response) -> None:
    """Raise unless the status is 2xx."""
    if not response.is_success:
        raise DeliveryError(
            f"{redact(str(response.request.url))}: HTTP {response.status_code} {excerpt(response)}",
            permanent=not is_retryable(response.status_code),
        )


def excerpt(response: httpx.Response, limit: int = 200) -> str:
    return response.text[:limit].strip()


def redact(url: str) -> str:
    """Where the URL points, without path, query or credentials: robot URLs carry their access token in the
    query (WeCom, DingTalk) or in the path (Feishu)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{parts.hostname}{port}" if parts.scheme and parts.hostname else "<invalid URL>"
