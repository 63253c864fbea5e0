"""SMS through any HTTP gateway: the request body is an operator-written Jinja2 template over `phone`,
`text` and `key`, e.g. `{"to": {{ phone|tojson }}, "content": {{ text|tojson }}}`."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from jinja2 import StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from notifications.channels._http import HttpSender, check_status
from notifications.message import ChannelKind, DeliveryError, Message

METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_CONTENT_TYPE = "application/json; charset=utf-8"
PROBE = {"phone": "13800000000", "text": "探测 probe", "key": "probe"}
VARIABLES = frozenset(PROBE)


def compile_body(source: str) -> Template:
    """The compiled template. A syntax error, a variable other than phone, text and key, or a failure to
    render sample values is refused here rather than at the first delivery."""
    environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    try:
        parsed = environment.parse(source)
    except TemplateError as exc:
        raise ValueError(f"body_template: {type(exc).__name__}: {exc}") from exc
    unknown = meta.find_undeclared_variables(parsed) - VARIABLES - set(environment.globals)
    if unknown:
        raise ValueError(
            f"body_template: unknown variable {', '.join(sorted(unknown))}; use phone, text, key"
        )
    template = environment.from_string(parsed)
    try:
        template.render(PROBE)
    except Exception as exc:
        raise ValueError(f"body_template: fails on sample values: {type(exc).__name__}: {exc}") from exc
    return template


class SmsGatewayChannel:
    """Sends the rendered body to the gateway's `url`; `message.address` is the phone number.
    Without a Content-Type among `headers`, the body is sent as JSON."""

    kind = ChannelKind.SMS

    def __init__(
        self,
        url: str,
        *,
        body_template: str,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        if method.upper() not in METHODS:
            raise ValueError(f"method: one of {', '.join(sorted(METHODS))}, got {method!r}")
        self.url = url
        self.method = method.upper()
        self.headers = dict(headers or {})
        if not any(name.lower() == "content-type" for name in self.headers):
            self.headers["Content-Type"] = DEFAULT_CONTENT_TYPE
        self._template = compile_body(body_template)
        self._http = HttpSender(timeout, client)

    def render(self, message: Message) -> bytes:
        try:
            return self._template.render(phone=message.address, text=message.text, key=message.key).encode()
        except Exception as exc:
            raise DeliveryError(f"body_template: {type(exc).__name__}: {exc}", permanent=True) from exc

    def send(self, message: Message) -> None:
        check_status(self._http.request(self.method, self.url, self.render(message), self.headers))

    def close(self) -> None:
        self._http.close()
