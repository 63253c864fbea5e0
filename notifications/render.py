"""Message templates and their rendering: subject, short text (SMS, IM) and HTML (e-mail). Pure.

Templates live in `notifications/templates/<language>/<kind>.<part>.j2` (part: subject, text, html); an
operator folder with the same layout overrides any of them, file by file. The renderer, not the templates,
enforces what must never go wrong: the requester is masked (or absent for a confidential case) because the
raw values never reach the templates; free text is cut in the short parts; the HTML part autoescapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    Undefined,
    select_autoescape,
)

from dispatcher.domain.privacy import mask_name, mask_phone, redact
from sla.calendar import BEIJING

KINDS = (  # what a message is about: the event type, or a kind derived from one
    "case.dispatched",
    "case.acknowledge_reminder",
    "sla.warning",
    "sla.breached",
    "case.escalated",
    "case.returned",
    "case.extension_requested",
    "case.extension_decided",
    "case.reopened",
    "case.linked",
    "case.pause_requested",
    "digest",
    "supervision.ordered",
    "supervision.warning",
    "supervision.overdue",
    "supervision.answered",
    "case.whistled",
    "governance.created",
    "governance.warning",
    "governance.overdue",
    "case.merged",
    "case.unmerged",
)
LANGUAGES = ("zh", "en")  # Simplified Chinese is the default
PARTS = ("subject", "text", "html")

TEMPLATES = Path(__file__).resolve().parent / "templates"

# the fields of an event that are free text from outside: masked, and cut in the short parts
FREE_TEXT = frozenset(
    {"description", "reason", "note", "why", "comment", "result", "report", "ask", "answer"}
)
# the optional fields of the events behind each kind, so that a template may test them without guessing
EVENT_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "case.dispatched": {"deadlines": {}},
    "case.returned": {"note": None, "reason_code": "other", "proposal": None},
    "case.extension_requested": {"note": None},
    "case.extension_decided": {"note": None},
    "case.pause_requested": {"note": None, "resume_at": None},
    "case.whistled": {
        "note": None,
        "post": None,
        "person": None,
        "acknowledge_due": None,
        "report_due": None,
    },
    "case.merged": {"note": None},
    "case.unmerged": {"note": None},
}
ELLIPSIS = "…"


@dataclass(frozen=True)
class CaseSnapshot:
    """What a message may say about a case."""

    ticket_id: str
    category: str | None  # category code, e.g. "010101"
    category_name: str | None  # e.g. "供暖 > 暖气不热"
    urgency: str  # emergency | urgent | general | complex
    description: str
    district: str | None
    street: str | None
    address: str | None
    requester_name: str | None
    requester_phone: str | None
    confidential: bool  # 保密: the requester must not appear at all
    unit: str | None
    post: str | None
    person: str | None
    reply_due: datetime | None  # aware


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str  # short: SMS / IM
    html: str  # rich: e-mail


@dataclass(frozen=True)
class RequesterShown:
    """The requester as a message shows it: masked."""

    name: str | None
    phone: str | None


@dataclass(frozen=True)
class CaseView:
    """The case as the templates see it: the requester masked or absent, the free text masked (and cut in
    the short parts). The raw requester is not here, so no template can show it."""

    ticket_id: str
    category: str | None
    category_name: str | None
    urgency: str
    description: str
    district: str | None
    street: str | None
    address: str | None
    confidential: bool
    requester: RequesterShown | None  # None: confidential, or nobody given
    unit: str | None
    post: str | None
    person: str | None
    reply_due: datetime | None


class Redactor:
    """Masks the requester wherever free text names them: their own name and phone, and any mobile
    number; for a confidential case everything is starred, so not even the masked form shows."""

    def __init__(self, name: str | None, phone: str | None, confidential: bool) -> None:
        self.confidential = confidential
        self.name = name

    def __call__(self, text: str) -> str:
        return redact(text, self.name, starred=self.confidential)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, the last one "…" when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def beijing(value: datetime | date | str, fmt: str | None = None) -> str:
    """A moment in Beijing time (`2026-11-26 11:00`), or a day (`2026-11-26`). Accepts RFC 3339 text.
    A moment without an offset is refused: it would be ambiguous."""
    if isinstance(value, Undefined):
        str(value)  # a strict undefined raises here, naming what is missing
    if isinstance(value, str):
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()}: a moment without an offset")
        return value.astimezone(BEIJING).strftime(fmt or "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime(fmt or "%Y-%m-%d")
    raise TypeError(f"{value!r}: not a date or a moment")


def percent(value: float | None, none: str = "—") -> str:
    """0.925 -> 92.5%; None (no base) -> `none`."""
    if isinstance(value, Undefined):
        str(value)
    if value is None:
        return none
    return f"{value * 100:.1f}%"


class Renderer:
    """Renders a message of one kind in one language from a case, an event and, for the digest, figures."""

    def __init__(self, operator_folder: Path | None = None, short_limit: int = 70) -> None:
        if short_limit < 1:
            raise ValueError(f"short_limit {short_limit}: at least 1")
        if operator_folder is not None and not operator_folder.is_dir():
            raise ValueError(f"{operator_folder}: not a folder")
        folders = [] if operator_folder is None else [FileSystemLoader(operator_folder)]
        self.short_limit = short_limit
        self._environment = Environment(
            loader=ChoiceLoader([*folders, FileSystemLoader(TEMPLATES)]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            # each template read once: checking its file's time on each message was a tenth of the
            # planner's time (docs/benchmarks.md); an edited template takes effect at the next start
            auto_reload=False,
        )
        self._templates: dict[tuple[str, str, str], Template] = {}
        self._environment.filters["beijing"] = beijing
        self._environment.filters["percent"] = percent

    def _template(self, language: str, kind: str, part: str) -> Template:
        """The template, from the renderer's own table once loaded (Jinja's cache, keyed by name and
        loader, took longer to answer)."""
        key = (language, kind, part)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._environment.get_template(template_name(*key))
        return template

    def check(self) -> None:
        """Load every template, so that a broken one (an operator's override) fails at start, not at send."""
        for language in LANGUAGES:
            for kind in KINDS:
                for part in PARTS:
                    self._environment.get_template(template_name(language, kind, part))

    def render(
        self,
        kind: str,
        language: str,
        *,
        case: CaseSnapshot | None,
        event: Mapping[str, Any],
        recipient: str,
        digest: Mapping[str, Any] | None = None,
    ) -> Rendered:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}: one of {', '.join(LANGUAGES)}")
        if kind == "digest":
            if digest is None:
                raise ValueError("a digest needs its figures")
            redact = Redactor(None, None, confidential=False)
        else:
            if case is None:
                raise ValueError(f"{kind}: a message about a case needs the case")
            if event.get("ticket_id", case.ticket_id) != case.ticket_id:
                raise ValueError(f"event of {event['ticket_id']} for case {case.ticket_id}")
            if kind == "case.acknowledge_reminder" and event.get("stage") != "acknowledge":
                raise ValueError(f"{kind}: a warning of the acknowledge stage, not {event.get('stage')!r}")
            redact = Redactor(case.requester_name, case.requester_phone, case.confidential)
        event = {**EVENT_DEFAULTS.get(kind, {}), **event}
        base = {"kind": kind, "language": language, "recipient": recipient, "digest": digest}
        parts: dict[str, str] = {}
        seen: dict[int | None, tuple[CaseView | None, Any]] = {}  # by limit: the short parts share theirs
        for part in PARTS:
            limit = None if part == "html" else self.short_limit
            if limit not in seen:
                shown = None if case is None else case_view(case, redact, limit)
                seen[limit] = (shown, clean(event, redact, limit))
            shown_case, shown_event = seen[limit]
            context = {
                **base,
                "part": part,
                "case": shown_case,
                "event": shown_event,
                "subject": parts.get("subject", ""),
            }
            rendered = self._template(language, kind, part).render(context)
            parts[part] = " ".join(rendered.split()) if part == "subject" else rendered.strip()
        return Rendered(subject=parts["subject"], text=parts["text"], html=parts["html"])


def template_name(language: str, kind: str, part: str) -> str:
    return f"{language}/{kind}.{part}.j2"


def case_view(case: CaseSnapshot, redact: Redactor, limit: int | None) -> CaseView:
    """The case without the raw requester; the description masked, and cut when `limit` is given."""
    requester = None
    if not case.confidential and (case.requester_name or case.requester_phone):
        requester = RequesterShown(mask_name(case.requester_name), mask_phone(case.requester_phone))
    description = redact(case.description)
    return CaseView(
        ticket_id=case.ticket_id,
        category=case.category,
        category_name=case.category_name,
        urgency=case.urgency,
        description=description if limit is None else cut(description, limit),
        district=case.district,
        street=case.street,
        address=None if case.address is None else redact(case.address),
        confidential=case.confidential,
        requester=requester,
        unit=case.unit,
        post=case.post,
        person=case.person,
        reply_due=case.reply_due,
    )


def clean(value: Any, redact: Redactor, limit: int | None, key: str | None = None) -> Any:
    """A copy of an event's data with its free text masked, and cut when `limit` is given."""
    if isinstance(value, Mapping):
        return {k: clean(v, redact, limit, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item, redact, limit, key) for item in value]
    if isinstance(value, str) and key in FREE_TEXT:
        masked = redact(value)
        return masked if limit is None else cut(masked, limit)
    return value
