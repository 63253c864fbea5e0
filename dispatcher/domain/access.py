"""Who may do what: people and systems, their roles and scope, and the rules that allow or deny an action.

Pure: the web layer authenticates a caller, loads the facts of the case concerned and asks `can_act`; the
answer is None (allowed) or a `Denied` with a reason a person can read.

- intake (受理): a hotline's intake system; submits requests, and sees where one would go before filing it
  (no case, no requester: a caller's earlier requests are the center's to see).
- worker: staff (or a system) of a unit; reads and handles the cases currently assigned to the unit (at
  its post, when it has one). A co-handling unit (协办) reads the case and may reveal the requester; the
  lead unit's actions stay the lead's.
- supervisor: the center's staff; within a scope (a district code, or "city"): reads, sees the queues,
  arbitrates returns, decides extensions and pauses, dispatches by hand.
- admin: everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

CITY = "city"
DISTRICT_CODE = re.compile(r"^[0-9]{6}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(StrEnum):
    INTAKE = "intake"
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Action(StrEnum):
    """What a caller asks to do. Case actions name the case; the others (submit, list, queues) do not."""

    SUBMIT = "submit"
    LIST = "list"
    QUEUES = "queues"
    READ = "read"
    REVEAL = "reveal"
    ACKNOWLEDGE = "acknowledge"
    CONTACT = "contact"
    RETURN = "return"
    EXTENSION = "extension"
    RESOLVE = "resolve"
    CO_ACKNOWLEDGE = "co_acknowledge"
    CO_REPORT = "co_report"
    ARBITRATE = "arbitrate"
    EXTENSION_DECISION = "extension_decision"
    DISPATCH = "dispatch"
    CLOSE = "close"  # after a callback review
    TERMINATE = "terminate"  # 终结
    APPEAL = "appeal"  # 申诉 against a callback
    APPEAL_DECISION = "appeal_decision"
    SCORES = "scores"  # the three rates and the rankings
    PREVIEW = "preview"  # where a request would go, and the gazetteer, before it is filed (the intake page)
    CALLERS = "callers"  # a caller's requests found by phone, and the repeat a new one would be linked to
    KNOWLEDGE = "knowledge"  # search and read the knowledge base (知识库)
    KNOWLEDGE_EDIT = "knowledge_edit"  # add, edit and retire its entries (admins only)
    SUPERVISION_ORDER = "supervision_order"  # 督办: order a reply on a case from its unit (or its head)
    ANSWER_ORDER = "answer_order"  # answer a supervision order addressed to one's unit
    MERGE = "merge"  # 并案: merge cases into a main case, or undo it (supervisors)
    PAUSE = "pause"  # 挂起: the unit asks that the clock stand still
    PAUSE_DECISION = "pause_decision"  # a supervisor approves or rejects
    RESUME = "resume"  # the unit or a supervisor lets the clock run again
    WHISTLE = "whistle"  # 吹哨报到: call units in on a case (the lead unit, or a supervisor)
    WAIVE = "waive"  # let the lead resolve without a co-handling unit's report (supervisors)


HANDLING = frozenset(
    {Action.ACKNOWLEDGE, Action.CONTACT, Action.RETURN, Action.EXTENSION, Action.RESOLVE, Action.WHISTLE}
)
CO_HANDLING = frozenset({Action.CO_ACKNOWLEDGE, Action.CO_REPORT})
DECIDING = frozenset(
    {
        Action.ARBITRATE,
        Action.EXTENSION_DECISION,
        Action.DISPATCH,
        Action.CLOSE,
        Action.TERMINATE,
        Action.APPEAL_DECISION,
        Action.MERGE,
        Action.WAIVE,
    }
)
PAUSING_UNIT = frozenset({Action.PAUSE, Action.RESUME})  # the unit handling the case (at its post)
PAUSING_CENTER = frozenset({Action.PAUSE_DECISION, Action.RESUME})  # a supervisor within scope
BY_ROLE: dict[Role, frozenset[Action]] = {
    Role.INTAKE: frozenset({Action.SUBMIT, Action.PREVIEW, Action.KNOWLEDGE}),
    Role.WORKER: HANDLING
    | CO_HANDLING
    | PAUSING_UNIT
    | {Action.LIST, Action.READ, Action.REVEAL, Action.APPEAL, Action.SCORES}
    | {Action.ANSWER_ORDER},
    Role.SUPERVISOR: DECIDING
    | PAUSING_CENTER
    | {Action.WHISTLE}
    | {Action.LIST, Action.QUEUES, Action.READ, Action.REVEAL, Action.SCORES, Action.PREVIEW, Action.CALLERS}
    | {Action.KNOWLEDGE, Action.SUPERVISION_ORDER},
    Role.ADMIN: frozenset(Action),
}
CO_HANDLER_MAY = frozenset({Action.READ, Action.REVEAL}) | CO_HANDLING


class PersonError(ValueError):
    """An account that cannot exist: an unknown role, a worker without a unit, a supervisor without scope."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as authenticated: a person or a system, with its role and where it works."""

    username: str
    role: Role
    unit: str | None = None
    post: str | None = None
    scope: str | None = None  # supervisors: "city" or a district code

    def __post_init__(self) -> None:
        check_person(self.username, self.role, self.unit, self.post, self.scope)


@dataclass(frozen=True)
class CaseFacts:
    """What access depends on: where the case is assigned now, who co-handles it, its district."""

    unit: str | None
    post: str | None
    co_handlers: tuple[str, ...]
    district: str | None
    confidential: bool = False


@dataclass(frozen=True)
class Denied:
    reason: str


@dataclass(frozen=True)
class Visible:
    """The cases a principal may list: all of them, a unit's (at a post), or a district's."""

    everything: bool = False
    unit: str | None = None
    post: str | None = None
    district: str | None = None


def role_of(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise PersonError(f"unknown role {name!r}: expected {', '.join(Role)}") from None


def check_person(username: str, role: Role, unit: str | None, post: str | None, scope: str | None) -> None:
    """Raise `PersonError` with a one-line reason when these cannot describe an account."""
    if not USERNAME.match(username):
        raise PersonError(f"username {username!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    if role is Role.WORKER and not unit:
        raise PersonError(f"worker {username} needs a unit (--unit)")
    if post and not unit:
        raise PersonError(f"{username}: a post belongs to a unit; give --unit too")
    if role is Role.SUPERVISOR and not scope:
        raise PersonError(f"supervisor {username} needs a scope (--scope city, or a district code)")
    if scope and role is not Role.SUPERVISOR:
        raise PersonError(f"{username}: only supervisors have a scope")
    if scope and scope != CITY and not DISTRICT_CODE.match(scope):
        raise PersonError(f"scope {scope!r}: expected 'city' or a six-digit district code such as 110105")
    if role is Role.INTAKE and unit:
        raise PersonError(f"intake system {username} has no unit")


def check_role(principal: Principal, action: Action) -> Denied | None:
    """Whether the principal's role may ever do `action`, whatever the case."""
    if action in BY_ROLE[principal.role]:
        return None
    return Denied(f"{principal.username} is {_a(principal.role)} and may not {action.value}")


def can_read(principal: Principal, facts: CaseFacts) -> Denied | None:
    return can_act(principal, Action.READ, facts)


def can_act(principal: Principal, action: Action, facts: CaseFacts | None) -> Denied | None:
    """None if `principal` may do `action` (on the case described by `facts`, for case actions)."""
    denied = check_role(principal, action)
    if denied is not None or facts is None or principal.role is Role.ADMIN:
        return denied
    if principal.role is Role.SUPERVISOR:
        return _within_scope(principal, facts)
    return _at_unit(principal, action, facts)


def visible_cases(principal: Principal) -> Visible:
    """The cases `principal` may list (callers check `Action.LIST` first)."""
    if principal.role is Role.WORKER:
        return Visible(unit=principal.unit, post=principal.post)
    if principal.role is Role.SUPERVISOR and principal.scope != CITY:
        return Visible(district=principal.scope)
    return Visible(everything=principal.role in (Role.SUPERVISOR, Role.ADMIN))


def _within_scope(principal: Principal, facts: CaseFacts) -> Denied | None:
    if principal.scope == CITY or (facts.district is not None and facts.district == principal.scope):
        return None
    where = f"district {facts.district}" if facts.district else "no known district"
    return Denied(f"the case is in {where}, outside the scope of {principal.username} ({principal.scope})")


def _at_unit(principal: Principal, action: Action, facts: CaseFacts) -> Denied | None:
    lead = facts.unit is not None and facts.unit == principal.unit
    at_post = lead and (principal.post is None or principal.post == facts.post)
    co_handling = principal.unit in facts.co_handlers
    if action is Action.REVEAL and facts.confidential and (at_post or co_handling):
        return Denied("the requester asked for confidentiality (保密): hidden from units")
    if action in CO_HANDLING and not co_handling:
        return Denied(f"{principal.unit} is not a co-handling unit of this case")
    if at_post or (co_handling and action in CO_HANDLER_MAY):
        return None
    if co_handling:
        return Denied(f"{principal.unit} co-handles the case; only the lead unit {facts.unit} may {action}")
    if lead:
        return Denied(f"the case is at post {facts.post} of {facts.unit}, not at {principal.post}")
    assigned = f"assigned to {facts.unit}" if facts.unit else "not assigned to a unit"
    return Denied(f"the case is {assigned}, not to {principal.unit} of {principal.username}")


def _a(role: Role) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"
