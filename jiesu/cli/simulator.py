"""A simulated hotline: Beijing requests over a day, the units that handle them, the callback center.

All of it is pure and deterministic for a seed: `day_plan` says which requests arrive when on a simulated
clock; `unit_steps` and `callback_for` say what a unit and the callback center do after an event they
observed. `jiesu.cli.simulate` carries it to and from Kafka. The numbers (daily curve, category
weights, probabilities) are illustrative, not official: they are fields of `Mix` and `Conduct`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatcher.contract.events import (
    AcknowledgeCase,
    CallbackRecorded,
    CaseActionCommand,
    CaseDispatched,
    CaseRedispatched,
    ComplaintReceived,
    Kind,
    Location,
    RecordContact,
    Requester,
    RequestExtension,
    ResolveCase,
    ReturnCase,
    Satisfaction,
    Urgency,
)
from sla.calendar import BEIJING

PLACES: list[tuple[str, str, str | None]] = [
    ("东城区", "东华门街道", "多福巷社区"),
    ("西城区", "什刹海街道", "兴华社区"),
    ("朝阳区", "望京街道", "花家地北里社区"),
    ("朝阳区", "三里屯街道", "幸福二村社区"),
    ("海淀区", "中关村街道", "科育社区"),
    ("丰台区", "方庄街道", None),
    ("石景山区", "八宝山街道", "鲁谷住宅社区"),
    ("通州区", "北苑街道", "西营前街社区"),
    ("昌平区", "回龙观街道", "龙跃苑社区"),
    ("大兴区", "亦庄镇", "亦庄村"),
]
MATTERS = [
    ("010101", "家里暖气不热，室温只有十五度，老人孩子受不了，请尽快派人检修。", "urgent"),
    ("020101", "小区物业长期不清理垃圾，楼道堆满杂物，存在消防隐患。", "general"),
    ("030101", "楼下商铺每天夜里十一点后还在装修施工，噪音很大，影响休息。", "general"),
    ("040101", "在超市买到过期食品，商家拒绝退换，要求市场监管部门处理。", "general"),
    ("050101", "小区门口长期有车辆违停，堵塞消防通道，救护车进不来。", "urgent"),
    ("070101", "在工地干活三个月，老板拖欠工资不给，多次讨要无果。", "complex"),
    ("090101", "整栋楼突然停水，没有任何通知，请自来水公司尽快恢复供水。", "urgent"),
    ("100101", "小区从早上开始停电，冰箱里的东西都坏了，请供电公司处理。", "urgent"),
    ("110101", "楼道里有明显的燃气味道，担心泄漏，请燃气公司马上来查看。", "emergency"),
    ("080101", "路边绿化带里堆放大量建筑垃圾，很久没人清运。", "general"),
]
SURNAMES = "王李张刘陈杨赵黄周吴"


def complaints(count: int, start: datetime, seed: int = 12345) -> Iterator[ComplaintReceived]:
    """`count` requests received one second apart from `start`."""
    rng = random.Random(seed)
    for number in range(count):
        district, street, community = rng.choice(PLACES)
        category, description, urgency = rng.choice(MATTERS)
        yield ComplaintReceived(
            ticket_id=f"SIM{start:%Y%m%d%H%M%S}-{number:06d}",
            received_at=start + timedelta(seconds=number),
            channel=rng.choice(["phone"] * 9 + ["wechat"]),
            kind=rng.choice(["complaint", "help", "report"]),
            description=description,
            # most requests are classified by the operator at intake; the rest go to the classifier
            category=category if rng.random() < 0.8 else None,
            urgency=urgency,
            location=Location(district=district, street=street, community=community),
            requester=Requester(
                name=rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
                phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
                groups=["elderly"] if rng.random() < 0.1 else [],
            ),
        )


# ---- a hotline day: which requests arrive when ---------------------------------------------------

# Relative volume per hour of the day (00-23): a quiet night, a morning peak (9-11), an afternoon peak
# (14-16). Used normalised: its mean over the day is 1, so `rate` is the day's mean rate.
DAILY_CURVE: tuple[float, ...] = (
    0.20, 0.12, 0.08, 0.06, 0.06, 0.10, 0.30, 0.80, 1.40, 1.90, 1.95, 1.60,
    1.10, 1.40, 1.80, 1.85, 1.60, 1.30, 1.00, 0.90, 0.80, 0.65, 0.45, 0.30,
)  # fmt: skip


@dataclass(frozen=True)
class Matter:
    """A matter callers raise, with its weight among dispatched requests."""

    category: str
    description: str
    urgency: Urgency
    weight: float
    heating: bool = False  # weighs only in the heating season


# Property, roads and noise lead all year; heating leads in the heating season.
DAY_MATTERS: tuple[Matter, ...] = (
    Matter("010101", MATTERS[0][1], "urgent", 25.0, heating=True),
    Matter("020101", MATTERS[1][1], "general", 18.0),
    Matter("030101", MATTERS[2][1], "general", 14.0),
    Matter("050101", MATTERS[4][1], "urgent", 12.0),
    Matter("080101", MATTERS[9][1], "general", 10.0),
    Matter("040101", MATTERS[3][1], "general", 8.0),
    Matter("070101", MATTERS[5][1], "complex", 6.0),
    Matter("090101", MATTERS[6][1], "urgent", 5.0),
    Matter("100101", MATTERS[7][1], "urgent", 5.0),
    Matter("110101", MATTERS[8][1], "emergency", 2.0),
)


def in_heating_season(day: datetime) -> bool:
    """Beijing's heating season: 15 November to 15 March."""
    return (day.month, day.day) >= (11, 15) or (day.month, day.day) <= (3, 15)


@dataclass(frozen=True)
class Mix:
    """Who calls about what: shares over many requests."""

    matters: tuple[Matter, ...] = DAY_MATTERS
    curve: tuple[float, ...] = DAILY_CURVE
    with_category: float = 0.8  # the operator classified it at intake
    repeat: float = 0.06  # same phone, community and category as an earlier request
    confidential: float = 0.03
    elderly: float = 0.08
    disabled: float = 0.02
    web: float = 0.10  # the rest by phone
    kinds: tuple[tuple[Kind, float], ...] = (("complaint", 0.55), ("help", 0.30), ("report", 0.15))
    # where requests come from (district, street, community), by default the ten demo places, equally;
    # a whole city's places are given with their cumulative weights (thousands of places)
    places: tuple[tuple[str, str, str | None], ...] = tuple(PLACES)
    place_cum_weights: tuple[float, ...] | None = None

    def place(self, rng: random.Random) -> tuple[str, str, str | None]:
        if self.place_cum_weights is None:
            return rng.choice(self.places)
        return rng.choices(self.places, cum_weights=self.place_cum_weights)[0]

    def weights(self, day: datetime) -> list[float]:
        season = in_heating_season(day)
        return [m.weight if season or not m.heating else 0.0 for m in self.matters]

    def factor(self, moment: datetime) -> float:
        """The daily curve at a moment (Beijing time), relative to the day's mean."""
        local = moment.astimezone(BEIJING)
        return self.curve[local.hour] * len(self.curve) / sum(self.curve)


@dataclass(frozen=True)
class PlannedRequest:
    """A request and when it arrives: `after` is simulated time since the start of the plan."""

    after: timedelta
    complaint: ComplaintReceived
    repeat_of: str | None = None


def day_plan(
    start: datetime,
    rate: float,
    seed: int,
    *,
    count: int | None = None,
    duration: timedelta | None = None,
    time_scale: float = 60.0,
    mix: Mix = Mix(),
    ticket_prefix: str | None = None,
) -> Iterator[PlannedRequest]:
    """Requests arriving from `start` (simulated, aware) until `count` or `duration` (simulated).

    `rate` is the mean over a day in requests per real second, and a simulated minute lasts `time_scale`
    real seconds: at hour h the requests arrive at `rate * curve(h)` per real second. Arrivals follow a
    Poisson process whose intensity follows the curve (thinning against the curve's peak). Ticket ids are
    `<ticket_prefix>-<number>`, by default `SIM<seed>-<number>`.
    """
    prefix = ticket_prefix or f"SIM{seed}"
    if count is None and duration is None:
        raise ValueError("give a count or a duration")
    rng = random.Random(seed)
    per_simulated_second = rate * time_scale / 60.0
    peak = max(mix.factor(start + timedelta(hours=h)) for h in range(24))
    recent: deque[tuple[ComplaintReceived, str]] = deque(maxlen=200)
    offset, number = 0.0, 0
    while count is None or number < count:
        offset += rng.expovariate(per_simulated_second * peak)
        moment = start + timedelta(seconds=offset)
        if duration is not None and moment - start > duration:
            return
        if rng.random() * peak > mix.factor(moment):
            continue
        complaint, repeat_of = _request(rng, mix, moment, f"{prefix}-{number:06d}", recent)
        yield PlannedRequest(timedelta(seconds=offset), complaint, repeat_of)
        number += 1


def _request(
    rng: random.Random,
    mix: Mix,
    moment: datetime,
    ticket_id: str,
    recent: deque[tuple[ComplaintReceived, str]],
) -> tuple[ComplaintReceived, str | None]:
    if recent and rng.random() < mix.repeat:
        earlier, category = rng.choice(recent)
        # same phone, community and category: the engine links it to the open case
        again = earlier.model_copy(
            update={
                "ticket_id": ticket_id,
                "received_at": moment,
                "category": category,
                "description": "再次反映：" + earlier.description.removeprefix("再次反映："),
            }
        )
        return again, earlier.ticket_id
    matter = rng.choices(mix.matters, mix.weights(moment))[0]
    district, street, community = mix.place(rng)
    groups = [
        g for g, share in (("elderly", mix.elderly), ("disabled", mix.disabled)) if rng.random() < share
    ]
    kinds, kind_weights = zip(*mix.kinds, strict=True)
    complaint = ComplaintReceived(
        ticket_id=ticket_id,
        received_at=moment,
        channel="wechat" if rng.random() < mix.web else "phone",
        kind=rng.choices(kinds, kind_weights)[0],
        description=matter.description,
        category=matter.category if rng.random() < mix.with_category else None,
        urgency=matter.urgency,
        location=Location(district=district, street=street, community=community),
        requester=Requester(
            name=rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
            phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
            confidential=rng.random() < mix.confidential,
            groups=groups,
        ),
    )
    recent.append((complaint, matter.category))
    return complaint, None


# ---- the units: what the person on duty does with a case -----------------------------------------

RETURN_REASONS: tuple[tuple[str, str], ...] = (
    ("not_our_duty", "该事项属于物业管理范围，不属于本单位职责，请中心重新派单。"),
    ("wrong_area", "诉求地址不在本街道辖区，请派至所属街道。"),
    ("duplicate", "与本单位正在办理的工单为同一事项，已合并办理。"),
)
EXTENSION_REASONS = (
    "需协调产权单位和施工方共同处理，短期内无法完成，申请延期。",
    "涉及维修资金使用，需业主大会表决，申请延期。",
)
RESULTS = (
    "已联系诉求人并到现场核实，问题已处理完毕，诉求人表示认可。",
    "已督促相关单位整改，现场已恢复正常，已向诉求人反馈。",
    "经核实情况属实，已协调责任单位处理，后续将持续关注。",
)


@dataclass(frozen=True)
class Conduct:
    """How units and the callback center behave; minutes are simulated."""

    returns: float = 0.04  # 退单 instead of signing for it
    late: float = 0.06  # signs for it after the acknowledge deadline
    extension: float = 0.05  # asks for more time after contacting the requester
    acknowledge_minutes: tuple[float, float] = (1.0, 20.0)
    contact_minutes: tuple[float, float] = (5.0, 60.0)
    resolve_minutes: tuple[float, float] = (30.0, 240.0)
    callback_minutes: tuple[float, float] = (10.0, 120.0)
    satisfaction: tuple[tuple[str, float], ...] = (
        ("satisfied", 0.78),
        ("basically_satisfied", 0.12),
        ("unsatisfied", 0.06),
        ("invalid", 0.04),  # nobody answered, or the answer cannot be used
    )
    unresolved_when_unsatisfied: float = 0.7
    not_contacted: float = 0.03


@dataclass(frozen=True)
class Step:
    """One command a unit sends, `after` (simulated) the event it reacts to."""

    after: timedelta
    command: CaseActionCommand
    late: bool = False

    @property
    def kind(self) -> str:
        return STEP_KINDS[type(self.command)]


STEP_KINDS: dict[type[CaseActionCommand], str] = {
    AcknowledgeCase: "acknowledge",
    RecordContact: "contact",
    ReturnCase: "return",
    RequestExtension: "extension",
    ResolveCase: "resolve",
}


def _rng(seed: int, ticket: str, *about: object) -> random.Random:
    """A generator for one decision: the same seed and event give the same decision, in any order. Keyed
    by the ticket's last part (its number in the plan), so reruns with other prefixes decide alike."""
    return random.Random(":".join(str(part) for part in (seed, ticket.rsplit("-", 1)[-1], *about)))


def _minutes(rng: random.Random, span: tuple[float, float]) -> timedelta:
    return timedelta(minutes=rng.uniform(*span))


def unit_steps(
    event: CaseDispatched | CaseRedispatched,
    seed: int,
    conduct: Conduct = Conduct(),
    *,
    occurrence: int = 1,
    may_return: bool = True,
) -> list[Step]:
    """What the person a case was (re)dispatched to does: return it (退单), or sign for it (perhaps after
    the deadline), contact the requester, perhaps ask for more time, and report the result. A case with
    co-handlers stops after the contact: its lead waits for their reports, which do not travel on Kafka."""
    rng = _rng(seed, event.ticket_id, "dispatched", occurrence)
    by = event.assignment.person or "worker"
    ticket = event.ticket_id
    if may_return and rng.random() < conduct.returns:
        code, reason = rng.choice(RETURN_REASONS)
        after = _minutes(rng, conduct.acknowledge_minutes)
        command = ReturnCase(ticket_id=ticket, by=by, at=event.at + after, code=code, reason=reason)
        return [Step(after, command)]
    deadline = event.deadlines.get("acknowledge")
    late = deadline is not None and rng.random() < conduct.late
    if late and deadline is not None:
        after = deadline.due_at - event.at + _minutes(rng, (5.0, 60.0))
    else:
        after = _minutes(rng, conduct.acknowledge_minutes)
    signed = Step(after, AcknowledgeCase(ticket_id=ticket, by=by, at=event.at + after), late)
    reply = event.deadlines.get("reply")
    rest = handling_steps(
        rng,
        ticket,
        by,
        event.at + after,
        conduct,
        reply_due=reply.due_at if reply else None,
        co_handled=bool(event.assignment.co_handlers),
    )
    return [signed, *(Step(step.after + after, step.command, step.late) for step in rest)]


def handling_steps(
    rng: random.Random,
    ticket: str,
    by: str,
    since: datetime,
    conduct: Conduct,
    *,
    reply_due: datetime | None = None,
    co_handled: bool = False,
    may_extend: bool = True,
) -> list[Step]:
    """After signing for a case: contact, perhaps an extension, the result; `after` counts from `since`."""
    after = _minutes(rng, conduct.contact_minutes)
    steps = [Step(after, RecordContact(ticket_id=ticket, by=by, at=since + after, note="已电话联系诉求人"))]
    if co_handled:
        return steps
    if may_extend and rng.random() < conduct.extension:
        after += _minutes(rng, (5.0, 30.0))
        until = (reply_due or since + timedelta(days=7)) + timedelta(days=rng.choice([3, 5, 7]))
        reason = rng.choice(EXTENSION_REASONS)
        steps.append(
            Step(
                after,
                RequestExtension(
                    ticket_id=ticket, by=by, at=since + after, reason=reason, requested_until=until
                ),
            )
        )
    after += _minutes(rng, conduct.resolve_minutes)
    steps.append(
        Step(after, ResolveCase(ticket_id=ticket, by=by, at=since + after, result=rng.choice(RESULTS)))
    )
    return steps


def steps_after_rejected_return(
    ticket: str, by: str, at: datetime, seed: int, signed: bool, conduct: Conduct = Conduct()
) -> list[Step]:
    """Arbitration kept the case at the unit that returned it: it signs for it (if not yet) and handles it."""
    rng = _rng(seed, ticket, "return_rejected")
    steps: list[Step] = []
    after = timedelta(0)
    if not signed:
        after = _minutes(rng, conduct.acknowledge_minutes)
        steps.append(Step(after, AcknowledgeCase(ticket_id=ticket, by=by, at=at + after)))
    rest = handling_steps(rng, ticket, by, at + after, conduct)
    return [*steps, *(Step(step.after + after, step.command) for step in rest)]


def steps_after_reopening(
    ticket: str, by: str, at: datetime, round_: int, seed: int, conduct: Conduct = Conduct()
) -> list[Step]:
    """重办: the same unit contacts the requester again and reports a new result."""
    rng = _rng(seed, ticket, "reopened", round_)
    return handling_steps(rng, ticket, by, at, conduct, may_extend=False)


# ---- the callback center -------------------------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    """The center's call to the requester, `after` (simulated) the result was reported."""

    after: timedelta
    record: CallbackRecorded

    @property
    def outcome(self) -> str:
        return "invalid" if not self.record.valid else self.record.satisfaction


def callback_for(
    ticket: str, resolved_at: datetime, seed: int, conduct: Conduct = Conduct(), *, round_: int = 1
) -> Callback:
    """回访 after a result: mostly satisfied, some basically satisfied, a few unsatisfied or invalid."""
    rng = _rng(seed, ticket, "resolved", round_)
    names, weights = zip(*conduct.satisfaction, strict=True)
    outcome = rng.choices(names, weights)[0]
    after = _minutes(rng, conduct.callback_minutes)
    unsatisfied = outcome == "unsatisfied"
    satisfaction: Satisfaction = (
        "unsatisfied"
        if unsatisfied
        else "basically_satisfied"
        if outcome == "basically_satisfied"
        else "satisfied"
    )
    record = CallbackRecorded(
        ticket_id=ticket,
        recorded_at=resolved_at + after,
        contacted=rng.random() >= conduct.not_contacted,
        resolved=not (unsatisfied and rng.random() < conduct.unresolved_when_unsatisfied),
        satisfaction=satisfaction,
        valid=outcome != "invalid",
        comment={"invalid": "多次拨打无人接听", "unsatisfied": "问题没有解决，要求重新办理"}.get(outcome),
    )
    return Callback(after, record)
