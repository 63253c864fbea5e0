"""What a request may be, for every route: a body of at most `Settings.web_max_body_bytes` (413 before more
of it is read), no NUL character in a URL or a form (422), and validation errors that say where and why
without echoing a secret or a huge input."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiesu.web.schemas import NUL

# fields whose value a refusal never shows, wherever they are (body, query, form)
SECRETS = frozenset({"password", "token", "api_key", "secret", "csrf"})
SHOWN = 100  # characters of a submitted value a refusal shows, at most
MAX_ERRORS = 50  # errors a refusal lists, at most (the rest are counted)
SURROGATE = re.compile("[\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"
NUL_IN_FORM = (b"%00", b"\x00")  # how a NUL character is written in a form-encoded body


class BodyTooLargeError(HTTPException):
    """A request body over the limit (HTTP 413). An HTTPException, so that FastAPI's body parsing passes
    it on to the app's handler instead of calling it a parsing error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes: send less")
        self.limit = limit


class NulInFormError(HTTPException):
    """A form-encoded body with a NUL character (HTTP 422, like any invalid field)."""

    def __init__(self) -> None:
        super().__init__(422, f"invalid request: body: a form field's {NUL}")


class BodyGuard:
    """ASGI middleware: the body is read through a counter that refuses it (`BodyTooLargeError`) at the
    first read when its declared Content-Length is over `max_bytes`, else as soon as the bytes streamed pass
    `max_bytes`; so no more than `max_bytes` (plus the chunk that passes it) is ever read. A form-encoded
    body is refused (`NulInFormError`) as soon as a NUL character shows in it: no field means one, and the
    database cannot store one (JSON bodies are checked by their models). The refusals are raised where the
    route reads its body, so its handlers answer them in its format (JSON, or Open311's errors)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "").strip()
        over = declared.isdigit() and int(declared) > self.max_bytes
        form = headers.get("content-type", "").split(";")[0].strip().lower() == FORM
        received, tail = 0, b""

        async def guarded() -> Message:
            nonlocal received, tail
            if over:
                raise BodyTooLargeError(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
                if form:
                    seen = tail + chunk
                    tail = seen[-2:]  # "%00" may straddle chunks
                    if any(nul in seen for nul in NUL_IN_FORM):
                        raise NulInFormError
            return message

        await self.app(scope, guarded, send)


def refuse_nul(request: Request) -> None:
    """A dependency of every route: a NUL character (U+0000) in a path parameter or a query parameter is
    refused (422; 400 on Open311) before the route reads the database, which cannot store one; no field
    means one. Bodies are checked by their models (`schemas.Body`, the contract's `Wire`) or, for forms,
    by `BodyGuard`."""
    found = [("path", name, value) for name, value in request.path_params.items() if "\x00" in str(value)]
    found += [
        ("query", name, value) for name, value in request.query_params.multi_items() if "\x00" in name + value
    ]
    if found:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": (where, name), "msg": NUL, "input": value}
                for where, name, value in found
            ]
        )


def public_errors(errors: Any) -> list[dict[str, Any]]:
    """pydantic's errors as a client may see them: `type`, `loc`, `msg`, the constraint's `ctx`, and the
    `input` only if it is a plain value of a field that is not a secret, cut to `SHOWN` characters."""
    return [public_error(found) for found in errors]


def public_error(found: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else shown(str(part)) for part in found.get("loc", ())]
    error: dict[str, Any] = {
        "type": str(found.get("type", "invalid")),
        "loc": loc,
        "msg": shown(str(found.get("msg", "")), 500),
    }
    secret = any(isinstance(part, str) and part.lower() in SECRETS for part in loc)
    value = found.get("input")
    if not secret and isinstance(value, str | int | float):  # not a list or an object: their fields vary
        error["input"] = plain(value)
    context = found.get("ctx")
    if isinstance(context, Mapping) and not secret:
        error["ctx"] = {
            shown(str(key)): plain(value) if isinstance(value, int | float | str) else shown(str(value))
            for key, value in context.items()
        }
    return error


def plain(value: str | int | float) -> str | int | float:
    """A value JSON can carry: text cut and made valid, a float that is not finite as text."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def shown(text: str, limit: int = SHOWN) -> str:
    """`text` with lone surrogates replaced (they cannot be sent as UTF-8) and cut to `limit` characters,
    saying how long it was."""
    text = SURROGATE.sub("\ufffd", text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"
