"""The pages' filters: the case core's words (states, stages, reasons, audit lines...) in the page's language,
and names for ids from the catalog in force (`dispatcher.reads.names`). `install(env)` adds them to the
pages' Jinja2 environment (`pages.base` does it); a template then writes `{{ case.state|state }}`,
`{{ row.case.unit|unit }}`, `{% set what, why = entry|audit %}` (see `jiesu/web/i18n.py` for the list).

The filters read `language`, `names` and `this_year` from the template's context, which `pages.base.page`
fills. An audit line's reason is written by the case core in its own terms (English, with ids): `audit`
turns the forms it knows (dispatch, queue, return, extension, escalation, callback...) into the page's
words, with names for the ids; whatever else it holds is shown with its ids named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from dispatcher.reads.names import Names
from jiesu.web.i18n import term
from sla.calendar import BEIJING

DATE = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.@-]*[-.0-9][A-Za-z0-9_.@-]*[A-Za-z0-9]")  # ids: with a digit, - or .


def _language(context: Context) -> str:
    return "en" if context.get("language") == "en" else "zh"


def _names(context: Context) -> Names:
    names = context.get("names")
    return names if isinstance(names, Names) else Names()


def when(moment: datetime | None, this_year: int | None = None) -> str:
    """Beijing time, `11-26 10:30`, with the year when it is not this year (`2025-11-26 10:30`)."""
    if moment is None:
        return ""
    local = moment.astimezone(BEIJING)
    year = this_year if this_year is not None else datetime.now(BEIJING).year
    return local.strftime("%m-%d %H:%M" if local.year == year else "%Y-%m-%d %H:%M")


def named(text: str, names: Names) -> str:
    """Free text of the case core with the ids it holds named: `unit/post`, units, people, accounts."""

    def pair(match: re.Match[str]) -> str:
        unit, post = match.group(1), match.group(2)
        if names.unit(unit) == unit:
            return match.group(0)
        return f"{names.unit(unit)} / {names.post(post, unit)}"

    text = re.sub(r"\b([A-Za-z][\w.-]*)/([A-Za-z][\w-]*)\b", pair, text)

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        for name in (names.unit(token), names.person(token)):
            if name != token:
                return name
        return token

    return TOKEN.sub(one, text)


@dataclass(frozen=True)
class Say:
    """Words in one language, with names for ids: `say("中文", "English")`."""

    names: Names
    language: str

    def __call__(self, zh: str, en: str) -> str:
        return en if self.language == "en" else zh

    def term(self, kind: str, key: object) -> str:
        return term(kind, key, self.language)

    @property
    def colon(self) -> str:
        return self("：", ": ")


DAYS = {"all": ("每天", "every day"), "working": ("工作日", "working days"), "rest": ("休息日", "rest days")}
SHIFT = re.compile(r"on shift (\d\d:\d\d)-(\d\d:\d\d) \((.+) days\)")
FALLBACK_PERSON = "; the post's fallback person"


def _duty(text: str, say: Say) -> str:
    """The roster's reason for the person on duty, in words."""
    tail = ""
    if text.endswith(FALLBACK_PERSON):
        text, tail = (
            text.removesuffix(FALLBACK_PERSON),
            say("（岗位后备人员）", " (the post's fallback person)"),
        )
    shift = SHIFT.fullmatch(text)
    override = re.fullmatch(r"dated duty override for (\d{4}-\d{2}-\d{2})", text)
    if shift:
        start, end, days = shift.groups()
        zh, en = DAYS.get(days, (days, days))
        text = say(f"当班 {start}-{end}（{zh}）", f"on shift {start}-{end} ({en})")
    elif override:
        text = say(f"{override.group(1)} 值班安排", f"duty arranged for {override.group(1)}")
    elif text.startswith("nobody on shift") or text == "the post has no roster":
        text = say("无人当班", "nobody on shift")
    return text + tail


def _rule(rest: str, say: Say) -> tuple[str | None, str]:
    """The rule at the start of the router's reason, in words, and the rest of the reason."""
    head, _, tail = rest.partition("; ")
    if re.fullmatch(r"rule \S+", head):  # a queue's rule: its id only
        return say("依据：规则 ", "rule ") + head.removeprefix("rule "), tail
    found = re.match(r"rule (\S+) \(", rest)
    rules = say.names.catalog.rules if say.names.catalog else ()
    rule = next((rule for rule in rules if found and rule.id == found.group(1)), None)
    prefix = f"rule {rule.id} ({rule.description})" if rule else ""
    if rule is None or not rest.startswith(prefix):
        return None, rest
    why = (
        say("依据：", "why: ") + rule.description
        if rule.description
        else say("依据：规则 ", "rule ") + rule.id
    )
    return why, rest.removeprefix(prefix).removeprefix("; ")


def _decision(rest: str, say: Say) -> str:
    """The router's reason (rule, classification, notes, person) in words; the deadlines are left to the
    deadlines' table."""
    rest = re.split(r"; deadlines:? ", rest, maxsplit=1)[0]
    rule, rest = _rule(rest, say)
    rest, _, person = rest.partition("person: ")
    said = [rule] if rule else []
    said += [_note(piece, say) for piece in rest.removesuffix("; ").split("; ") if piece]
    if person:
        said.append(say("责任人：", "person: ") + _duty(person, say))
    return " · ".join(said)


NOTES: dict[str, tuple[str, str]] = {
    "属地 street": ("属地街道（乡镇）", "the street of the location (属地)"),
    "owner unknown: district of the location": ("权属不明，派属地区政府", "owner unknown: the district"),
    "no confident category": ("未能确定类别", "no confident category"),
    "人工派单": ("人工派单", "dispatched by hand"),
}


def _note(piece: str, say: Say) -> str:
    if piece in NOTES:
        return say(*NOTES[piece])
    classified = re.match(r"classified as (\d+)", piece)
    category = re.fullmatch(r"category (\d+)", piece)
    no_unit = re.fullmatch(r"no unit for (.*)", piece)
    if classified:
        return say("自动分类：", "classified as ") + say.names.category(classified.group(1))
    if category:
        return say("类别：", "category ") + say.names.category(category.group(1))
    if re.match(r"danger [0-9.]+ .*an emergency", piece):
        return say("识别为紧急诉求", "recognised as an emergency")
    if no_unit:
        return say("找不到承办单位：", "no unit for ") + no_unit.group(1)
    return named(piece, say.names)


CALLBACK = re.compile(r"(contacted|not contacted), (resolved|not resolved), (\w+)(?:: (.*))?", re.S)


def _callback(summary: str, say: Say) -> str:
    """A callback's summary (`contacted, not resolved, unsatisfied: comment`) in words."""
    if summary.startswith("invalid callback"):
        return say("无效回访（不计入）", "invalid callback (not counted)")
    found = CALLBACK.fullmatch(summary)
    if not found:
        return summary
    contacted, resolved, satisfaction, comment = found.groups()
    said = [
        say("已联系" if contacted == "contacted" else "未联系", contacted),
        say("已解决" if resolved == "resolved" else "未解决", resolved),
        say.term("satisfaction", satisfaction),
    ]
    return say("，", ", ").join(said) + (say.colon + comment if comment else "")


def _why_repeat(why: str, say: Say) -> str:
    if why == "names it as related":
        return say("来电注明与之相关", "the caller names it as related")
    found = re.fullmatch(r"same phone, (community|street) and category", why)
    if found:
        place = say("社区" if found.group(1) == "community" else "街道", found.group(1))
        return say(f"同一电话、{place}和类别", f"same phone, {place} and category")
    return why


Said = Callable[[re.Match[str], Say], str]


def _assigned_to(found: re.Match[str], say: Say) -> str:
    unit, post, rest = found.groups()
    details = _decision(rest, say)
    target = f"{say.names.unit(unit)} / {say.names.post(post, unit)}"
    return say("派至 ", "to ") + target + (f" · {details}" if details else "")


def _queued(found: re.Match[str], say: Say) -> str:
    details = _decision(found.group(2), say)
    return say("进入", "to the ") + say.term("queue", found.group(1)) + (f" · {details}" if details else "")


def _escalated(found: re.Match[str], say: Say) -> str:
    level, target, stage = found.groups()
    whom = say.term("escalation", target)
    whom = named(target.replace(":", " "), say.names) if whom == target else whom
    stage = say.term("stage", stage)
    return say(f"{level}级督办，告知{whom}（{stage}）", f"level {level}, to {whom} ({stage})")


def _reopened(found: re.Match[str], say: Say) -> str:
    round_, why, due = found.groups()
    if why.startswith("callback: "):
        why = say("回访：", "callback: ") + _callback(why.removeprefix("callback: "), say)
    tail = say(f"；办结时限 {due}", f"; reply due {due}") if due else ""
    return say(f"第{round_}轮：", f"round {round_}: ") + why + tail


def _direct(found: re.Match[str], say: Say) -> str:
    entry = found.group(1)
    callback = say("；需回访", "; callback requested") if found.group(2) else ""
    return say(f"据知识库条目 {entry} 当场答复", f"answered from knowledge base entry {entry}") + callback


REASONS: dict[str, list[tuple[re.Pattern[str], Said]]] = {
    "dispatch": [(re.compile(r"to ([^/\s]+)/(\S+?): (.*)", re.S), _assigned_to)],
    "redispatch": [(re.compile(r"to ([^/\s]+)/(\S+?): (.*)", re.S), _assigned_to)],
    "queue": [(re.compile(r"to queue (\S+): (.*)", re.S), _queued)],
    "return": [
        (
            re.compile(r"(not_our_duty|wrong_area|duplicate|other)(?:: (.*))?", re.S),
            lambda f, say: (
                say.term("return_reason", f.group(1)) + (say.colon + f.group(2) if f.group(2) else "")
            ),
        )
    ],
    "request_extension": [
        (
            re.compile(rf"until ({DATE}): (.*)", re.S),
            lambda f, say: say(f"延至 {f.group(1)}", f"until {f.group(1)}") + say.colon + f.group(2),
        )
    ],
    "approve_extension": [
        (
            re.compile(rf"reply due ({DATE})"),
            lambda f, say: say(f"办结时限延至 {f.group(1)}", f"reply now due {f.group(1)}"),
        )
    ],
    "sla_warning": [
        (
            re.compile(rf"(\w+) due ({DATE})"),
            lambda f, say: say.term("stage", f.group(1)) + say(f"时限 {f.group(2)}", f" due {f.group(2)}"),
        )
    ],
    "sla_breach": [
        (
            re.compile(rf"(\w+) was due ({DATE})"),
            lambda f, say: (
                say.term("stage", f.group(1)) + say(f"时限 {f.group(2)} 已过", f" was due {f.group(2)}")
            ),
        )
    ],
    "escalate": [(re.compile(r"level (\d+) to (\S+) \((\w+)\)"), _escalated)],
    "link": [
        (
            re.compile(r"repeat of (\S+): (.*)", re.S),
            lambda f, say: (
                say(f"原工单 {f.group(1)}", f"repeat of {f.group(1)}")
                + say.colon
                + _why_repeat(f.group(2), say)
            ),
        )
    ],
    "link_repeat": [
        (
            re.compile(r"(\S+): (.*)", re.S),
            lambda f, say: (
                say(f"重复诉求 {f.group(1)}", f"repeat request {f.group(1)}")
                + say.colon
                + _why_repeat(f.group(2), say)
            ),
        )
    ],
    "close": [
        (
            re.compile(r"callback: (.*)", re.S),
            lambda f, say: say("回访：", "callback: ") + _callback(f.group(1), say),
        )
    ],
    "hold_for_review": [
        (
            re.compile(r"callback: (.*)", re.S),
            lambda f, say: say("回访：", "callback: ") + _callback(f.group(1), say),
        ),
        (
            re.compile(r"unsatisfied again in round (\d+): (.*)", re.S),
            lambda f, say: (
                say(f"第{f.group(1)}轮再次不满意", f"unsatisfied again in round {f.group(1)}")
                + say.colon
                + _callback(f.group(2), say)
            ),
        ),
    ],
    "correct_callback": [
        (
            re.compile(r"round (\d+) corrected: (.*)", re.S),
            lambda f, say: (
                say(f"第{f.group(1)}轮回访更正", f"round {f.group(1)} corrected")
                + say.colon
                + _callback(f.group(2), say)
            ),
        )
    ],
    "reopen": [(re.compile(rf"round (\d+): (.*?)(?:; reply due ({DATE}))?", re.S), _reopened)],
    "co_acknowledge": [(re.compile(r"(\S+)"), lambda f, say: say.names.unit(f.group(1)))],
    "reveal": [
        (re.compile(r".*", re.S), lambda f, say: say("完整显示了诉求人姓名和电话", "the requester shown"))
    ],
    "close_direct": [(re.compile(r"answered at intake from knowledge base entry (\S+)(; .*)?"), _direct)],
}


def audit_reason(action: str, reason: str, names: Names, language: str) -> str:
    """The reason of an audit entry in the page's words, its ids named; a form it does not know is shown as
    written, with its ids named."""
    say = Say(names, language)
    for pattern, said in REASONS.get(action, []):
        found = pattern.fullmatch(reason or "")
        if found:
            return said(found, say)
    return named(reason or "", names)


def audit_action(action: str, language: str) -> str:
    """The action of an audit entry in words; `denied:<action>` says which action was refused."""
    kind, _, wanted = action.partition(":")
    if kind == "denied" and wanted:
        colon = "：" if language != "en" else ": "
        return term("audit", "denied", language) + colon + term("action", wanted, language)
    return term("audit", action, language)


# ---- the filters ------------------------------------------------------------------------------------


def _term_filter(kind: str) -> Callable[..., str]:
    @pass_context
    def say(context: Context, value: Any) -> str:
        return term(kind, value, _language(context))

    return say


@pass_context
def _audit(context: Context, entry: Any) -> tuple[str, str]:
    language, names = _language(context), _names(context)
    return audit_action(entry.action, language), audit_reason(entry.action, entry.reason, names, language)


@pass_context
def _actor(context: Context, username: str) -> str:
    said = term("actor", username, _language(context))
    return said if said != username else _names(context).person(username)


@pass_context
def _unit(context: Context, unit_id: str | None) -> str:
    return _names(context).unit(unit_id)


@pass_context
def _post(context: Context, post_id: str | None, unit_id: str | None = None) -> str:
    return _names(context).post(post_id, unit_id)


@pass_context
def _person(context: Context, person_id: str | None) -> str:
    return _names(context).person(person_id)


@pass_context
def _category(context: Context, code: str | None, path: bool = True) -> str:
    return _names(context).category(code, path)


@pass_context
def _area(context: Context, code: str | None) -> str:
    return _names(context).area(code)


@pass_context
def _assigned(context: Context, assignment: Any) -> str:
    """unit / post / person of an assignment (a view or the case core's)."""
    if assignment is None:
        return ""
    names = _names(context)
    parts = [names.unit(assignment.unit), names.post(assignment.post, assignment.unit)]
    if assignment.person:
        parts.append(names.person(assignment.person))
    return " / ".join(parts)


@pass_context
def _place(context: Context, item: Any, badges: Any = None) -> str:
    """Where a case is: the district, street and community the rules placed it in (from `badges`), else as
    the caller said them; then the address."""
    names = _names(context)
    location = getattr(item, "location", item)
    said = [location.district, location.street, location.community]
    if badges is not None:
        codes = (badges.district, badges.street, badges.community)
        said = [names.area(code) if code else spoken for code, spoken in zip(codes, said, strict=True)]
    parts = [part for part in (*said, location.address) if part]
    return " ".join(dict.fromkeys(parts))


@pass_context
def _recipient(context: Context, recipient: str) -> str:
    """A notification's recipient: a person, or a post's group robot (`group:unit:post`)."""
    names = _names(context)
    kind, _, rest = recipient.partition(":")
    if kind == "group" and ":" in rest:
        unit, _, post = rest.partition(":")
        group = "群" if _language(context) != "en" else " (group)"
        return f"{names.unit(unit)} / {names.post(post, unit)}{group}"
    return names.person(recipient)


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    year = context.get("this_year")
    return when(moment, year if isinstance(year, int) else None)


def install(env: Environment) -> None:
    """Add the filters to a Jinja2 environment."""
    env.globals["term"] = term  # {{ term('state', case.state, language) }}, as the filters do
    for kind in (
        "state",
        "stage",
        "urgency",
        "return_reason",
        "queue",
        "group",
        "satisfaction",
        "notification",
        "delivery",
        "channel",
    ):
        env.filters[kind] = _term_filter(kind)
    env.filters["deadline_state"] = _term_filter("deadline")
    env.filters.update(
        audit=_audit,
        actor=_actor,
        unit=_unit,
        post=_post,
        person=_person,
        category=_category,
        area=_area,
        assigned=_assigned,
        place=_place,
        recipient=_recipient,
        when=_when,
    )
