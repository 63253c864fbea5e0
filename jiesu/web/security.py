"""The headers every response carries, and the limit on failed logins (docs/security.md).

`SecurityHeaders` adds a Content-Security-Policy without inline script (the pages' JavaScript is in
`jiesu/web/static/`, served at `/static`), refuses framing, sends no Referer to other sites and
forbids MIME sniffing. `LoginLimiter` counts failed logins per account and per client address in a
sliding window, in this process's memory: with several web processes, each counts its own.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sla.calendar import Clock

# The pages: scripts from this site only (no inline script, no eval), no plug-ins, forms to this site
# only, no framing. Inline styles stay allowed: the templates use a <style> block and style attributes,
# and every text the hotline received is escaped before it reaches them.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's API documentation loads Swagger UI and ReDoc from their CDN and starts them with an inline
# script; it shows the OpenAPI description only, no case and no person.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (streams too: it touches only the
    start of the response). A header a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS else POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginLimiter:
    """Failed logins per account and per client address in a sliding window. `wait` answers how many
    seconds a login must wait (0: it may be tried): once an account has `per_account` failures in the
    window, or an address `per_address`, until enough of them have left it. A success forgets the
    account's failures, not the address's (one's own account cannot be used to reset a guessing
    address). A login held back is not counted. Thread-safe; in this process's memory only."""

    def __init__(
        self,
        clock: Clock,
        *,
        per_account: int,
        per_address: int,
        window: timedelta,
        max_keys: int = 100_000,
    ) -> None:
        self._clock, self._window, self._max_keys = clock, window, max_keys
        self._limits = {"account": per_account, "address": per_address}
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def wait(self, username: str, address: str) -> int:
        now = self._clock()
        with self._lock:
            seconds = 0.0
            for key in (("account", username), ("address", address)):
                failures = self._recent(key, now)
                limit = self._limits[key[0]]
                if len(failures) >= limit:
                    until = failures[len(failures) - limit] + self._window
                    seconds = max(seconds, (until - now).total_seconds())
        return max(1, math.ceil(seconds)) if seconds > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (("account", username), ("address", address)):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self._max_keys:
                self._prune(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("account", username), None)

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] + self._window <= now:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _prune(self, now: datetime) -> None:
        """Forget what left the window; if still too many are kept (a spray over many accounts and
        addresses), the longest quiet, down to nine tenths of the most, so this is not done every time."""
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) > self._max_keys:
            by_last = sorted(self._failures, key=lambda key: self._failures[key][-1])
            for key in by_last[: len(self._failures) - self._max_keys * 9 // 10]:
                del self._failures[key]
